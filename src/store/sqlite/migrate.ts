/**
 * The SQLite store's schema migrations: loads the numbered `.sql` files of `migrations/` and applies each one newer
 * than the file's `PRAGMA user_version` in one transaction with the version bump, so two processes opening a new file
 * at once do not both apply it. Imports `better-sqlite3` types only.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Database } from "better-sqlite3";

/** One versioned schema change. */
export interface Migration {
  /** `PRAGMA user_version` after this migration. */
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));

/** Reads `migrations/NNNN_name.sql` next to this module, sorted by version. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .map((f) => ({ version: Number.parseInt(f, 10), name: f, sql: readFileSync(`${dir}/${f}`, "utf8") }))
    .sort((a, b) => a.version - b.version);
}

/**
 * Applies every migration newer than the database's `PRAGMA user_version`, each in its own `BEGIN IMMEDIATE`
 * transaction together with the version bump, so a crash leaves the schema at a whole version and two processes
 * opening a new file at once do not both apply it.
 * @returns the version the database is at afterwards.
 */
export function migrate(db: Database, migrations: readonly Migration[] = loadMigrations()): number {
  const read = (): number => db.pragma("user_version", { simple: true }) as number;
  for (const m of migrations) {
    if (read() >= m.version) continue;
    db.transaction(() => {
      // Re-read under the write lock: another process may have migrated meanwhile.
      if (read() >= m.version) return;
      db.exec(m.sql);
      db.pragma(`user_version = ${Math.floor(m.version)}`);
    }).immediate();
  }
  return read();
}
