import { dirname } from "node:path";
import { ConfigError } from "../core/errors.js";
import type { Store } from "../store/store.js";

/** The default store: the embedded SQLite file. */
export const DEFAULT_STORE_URL = "sqlite:./data/intercom-bridge.db";

/** Options for {@link openStore}. */
export interface OpenStoreOptions {
  /** Key prefix for `redis://` stores. @defaultValue "intercom-bridge" */
  redisPrefix?: string;
  /** Where a Redis store spools notifications while Redis is unreachable. @defaultValue ./data/redis-spool.db */
  spoolPath?: string;
}

/**
 * Opens a store from a URL: `sqlite:<path>`, `memory:`, `redis://host:port/db` or `rediss://…`.
 * Drivers are imported lazily, so a command that does not use one never loads it.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (url === "memory:" || url === "memory") {
    const { createMemoryStore } = await import("../store/memory-store.js");
    return createMemoryStore();
  }
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (path.length === 0)
      throw new ConfigError(`--store "${url}": give a file path, e.g. sqlite:./data/intercom-bridge.db`);
    const { createSqliteStore } = await import("../store/sqlite/index.js");
    return createSqliteStore({ path });
  }
  if (url.startsWith("redis://") || url.startsWith("rediss://")) {
    return openRedis(url, options);
  }
  throw new ConfigError(
    `--store "${url}" is not supported: use sqlite:<path>, memory:, redis://host:port/db or rediss://…`,
  );
}

/** The directory where a store keeps local files (generated secrets, tokens, spool). */
export function dataDirOf(url: string): string {
  if (url.startsWith("sqlite:")) return dirname(url.slice("sqlite:".length)) || ".";
  return "./data";
}

async function openRedis(url: string, options: OpenStoreOptions): Promise<Store> {
  const { createRedisStore } = await import("../store/redis/index.js");
  // Validates the URL (host, port, /db, credentials) now, so a typo is a usage error rather than endless reconnects.
  return createRedisStore({
    url,
    prefix: options.redisPrefix ?? "intercom-bridge",
    spoolPath: options.spoolPath ?? null,
  });
}
