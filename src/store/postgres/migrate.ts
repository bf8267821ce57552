/**
 * Versioned schema migrations of the PostgreSQL store: reads `migrations/NNNN_name.sql` next to this module and
 * applies those newer than the schema's recorded version, each in its own transaction together with its row in
 * `schema_migrations`, while holding a session advisory lock keyed on the schema name, so two instances starting
 * together migrate once and the second finds the work done. A schema newer than this code knows, or a migration that
 * fails, is a {@link StoreError} naming the migration: `serve` stops with it instead of running on a half-made schema.
 *
 * Internal to the PostgreSQL store; imports only `pg` types and core errors.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Pool, PoolClient } from "pg";
import { StoreError } from "../../core/errors.js";
import { quoteIdent } from "./sql.js";

/** One versioned schema change. */
export interface Migration {
  /** The schema version after this migration. */
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

/** The advisory lock key of a schema's migrations (two int4 halves: a fixed class id and the name's hash). */
const LOCK_CLASS = 0x1b_0b; // "IB"

/**
 * Creates `schema` if needed and applies every migration newer than its recorded version, under an advisory lock.
 * @returns the schema's version afterwards.
 * @throws {StoreError} when the schema is newer than `migrations`, or a migration fails (nothing of it is kept).
 */
export async function migrate(
  pool: Pool,
  schema: string,
  migrations: readonly Migration[] = loadMigrations(),
): Promise<number> {
  const s = quoteIdent(schema);
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw new StoreError(`PostgreSQL: cannot connect to migrate schema "${schema}": ${messageOf(error)}`, {
      cause: error,
    });
  }
  // See transaction() in sql.ts: a checked-out client's broken connection is also an 'error' event.
  const onError = (): void => undefined;
  client.on("error", onError);
  let locked = false;
  try {
    await client.query("SELECT pg_advisory_lock($1, hashtext($2))", [LOCK_CLASS, schema]);
    locked = true;
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const read = async (): Promise<number> =>
      Number(
        (await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.schema_migrations`)).rows[0]?.v ??
          0,
      );
    const current = await read();
    const newest = migrations.at(-1)?.version ?? 0;
    if (current > newest) {
      throw new StoreError(
        `PostgreSQL schema "${schema}" is at version ${current}, newer than this intercom-bridge knows (${newest}): ` +
          "upgrade intercom-bridge, or use another --postgres-schema",
      );
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      try {
        await client.query("BEGIN");
        await client.query(`SET LOCAL search_path TO ${s}`);
        await client.query(m.sql);
        await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw new StoreError(
          `PostgreSQL migration ${m.name} of schema "${schema}" failed (nothing of it was applied): ${messageOf(error)}`,
          { cause: error },
        );
      }
    }
    return await read();
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(`PostgreSQL: migrating schema "${schema}" failed: ${messageOf(error)}`, { cause: error });
  } finally {
    if (locked) await client.query("SELECT pg_advisory_unlock($1, hashtext($2))", [LOCK_CLASS, schema]).catch(() => 0);
    client.removeListener("error", onError);
    client.release();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
