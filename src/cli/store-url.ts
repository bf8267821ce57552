/**
 * The store a `--store` URL names (`sqlite:<path>`, `memory:`, `redis://`, `rediss://`, `postgres://`), opened for the
 * CLI and `serve`: each backend's entry is imported only when its URL is used, so a command never loads a driver it
 * does not need. Also where a store keeps its local files, and URLs without their password for messages.
 */
import { dirname } from "node:path";
import { ConfigError, StoreError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { ENV } from "../config/env.js";
import type { Store } from "../store/store.js";

/** The default store: the embedded SQLite file. */
export const DEFAULT_STORE_URL = "sqlite:./data/intercom-bridge.db";

/** Options for {@link openStore}. */
export interface OpenStoreOptions {
  /** Key prefix for `redis://` stores. @defaultValue "intercom-bridge" */
  redisPrefix?: string;
  /** Where a Redis store spools notifications while Redis is unreachable. @defaultValue ./data/redis-spool.db */
  spoolPath?: string;
  /** Accept a Redis that may lose acknowledged writes (no append-only file, evicting keys). @defaultValue false */
  allowVolatileRedis?: boolean;
  /** Where a Redis store logs outages, recoveries and its persistence check. @defaultValue no logging */
  log?: Partial<Logger>;
  /** Schema of `postgres://` stores. @defaultValue "intercom_bridge" */
  postgresSchema?: string;
}

/**
 * The file path of a `sqlite:` store URL (`sqlite:./data/x.db`, `sqlite:/abs/x.db`, `sqlite:///abs/x.db`), `""` when
 * it names none, or `undefined` when the URL is not a SQLite one.
 */
export function sqlitePathOf(url: string): string | undefined {
  if (!url.startsWith("sqlite:")) return undefined;
  return url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
}

/**
 * Opens a store from a URL: `sqlite:<path>`, `memory:`, `redis://host:port/db`, `rediss://…`, or
 * `postgres://user:pass@host:5432/db` (also `postgresql://`).
 * Drivers are imported lazily, so a command that does not use one never loads it.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (url === "memory:" || url === "memory") {
    const { createMemoryStore } = await import("../store/memory/memory-store.js");
    return createMemoryStore();
  }
  const path = sqlitePathOf(url);
  if (path !== undefined) {
    if (path.length === 0)
      throw new ConfigError(`--store "${url}": give a file path, e.g. sqlite:./data/intercom-bridge.db`);
    const { createSqliteStore } = await import("../store/sqlite/index.js");
    try {
      return createSqliteStore({ path });
    } catch (error) {
      // The store names the file and the reason; say how to point the command elsewhere. The remedy is the operator's
      // (another path, or permissions), so it is a configuration error: exit 2.
      if (!(error instanceof StoreError)) throw error;
      throw new ConfigError(`${error.message}. Point --store at a usable file: sqlite:<path> (or ${ENV.store})`, {
        cause: error,
      });
    }
  }
  if (url.startsWith("redis://") || url.startsWith("rediss://")) {
    return openRedis(url, options);
  }
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    const { createPostgresStore } = await import("../store/postgres/index.js");
    return createPostgresStore({ connectionString: url }, { schema: options.postgresSchema ?? "intercom_bridge" });
  }
  throw new ConfigError(
    `--store "${redactUrl(url)}" is not supported: use sqlite:<path>, memory:, redis://host:port/db, rediss://… or postgres://user:pass@host:5432/db`,
  );
}

/** `url` without its password, for messages. */
function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, "$1:***@");
}

/** The directory where a store keeps local files (generated secrets, tokens, spool). */
export function dataDirOf(url: string): string {
  const path = sqlitePathOf(url);
  if (path !== undefined) return dirname(path) || ".";
  return "./data";
}

async function openRedis(url: string, options: OpenStoreOptions): Promise<Store> {
  const { createRedisStore } = await import("../store/redis/index.js");
  // Validates the URL (host, port, /db, credentials) now, so a typo is a usage error rather than endless reconnects.
  const store = createRedisStore({
    url,
    prefix: options.redisPrefix ?? "intercom-bridge",
    spoolPath: options.spoolPath ?? null,
    allowVolatile: options.allowVolatileRedis ?? false,
    ...(options.log ? { log: options.log } : {}),
  });
  // A reachable Redis that would lose acknowledged notifications is refused now, not at the first webhook. An
  // unreachable one is checked when it answers (meanwhile the spool, if any, takes notifications).
  try {
    await store.ping();
  } catch (error) {
    if (error instanceof ConfigError) {
      await store.close();
      throw error;
    }
  }
  return store;
}
