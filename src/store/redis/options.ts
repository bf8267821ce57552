/**
 * Options of the Redis store: what `createRedisStore` accepts, their defaults and validation, and the parser of
 * `redis://` URLs. Pure: it opens no connection and must not import BullMQ or the other parts of the store.
 */
import type { RedisOptions } from "ioredis";
import { ConfigError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** `redis://[user:pass@]host:port/db` or `rediss://…`. Ignored when `connection` has a host. @defaultValue `redis://127.0.0.1:6379` */
  url?: string;
  /** ioredis options, merged over the parsed `url` (TLS, password, db, …). */
  connection?: RedisOptions;
  /** Key prefix, so several deployments can share one Redis. No `:` at the end. @defaultValue `"intercom-bridge"` */
  prefix?: string;
  /**
   * Local SQLite file that keeps acknowledged enqueues while Redis is unreachable; drained into Redis, deduplicated,
   * once it is back. Several processes on one machine may share it. `null`: no spool (enqueue fails with
   * {@link StoreError} while Redis is down). @defaultValue null
   */
  spoolPath?: string | null;
  /** How long one enqueue waits for Redis before spooling (or failing), ms. @defaultValue 1_000 */
  commandTimeoutMs?: number;
  /**
   * How long an enqueue waits when another instance is writing the same dedupe key at that moment, ms; after that
   * it fails with {@link StoreError} (503, Intercom retries). @defaultValue 1_500
   */
  pendingWaitMs?: number;
  /** First delay of a delivery waiting for its ordering key, ms (doubles per wait). @defaultValue 50 */
  orderingRetryMs?: number;
  /** Longest delay of a delivery waiting for its ordering key, ms. @defaultValue 2_000 */
  orderingMaxRetryMs?: number;
  /**
   * How many times a delivery may lose its lease (worker died) before it is dead-lettered (BullMQ
   * `maxStalledCount`). @defaultValue 3
   */
  maxStalledCount?: number;
  /** How often the spool drain looks for rows while Redis is reachable, ms. @defaultValue 500 */
  drainIntervalMs?: number;
  /**
   * Accept a Redis that may lose acknowledged notifications: append-only file off (`appendonly no`), `appendfsync no`,
   * or a `maxmemory-policy` that evicts keys. Without it, such a Redis is refused: every operation fails with
   * {@link ConfigError} naming the setting to change, at start and again after any reconnect. With it, the store
   * works and logs a warning, and `health()` reports `durable: false`. @defaultValue false
   */
  allowVolatile?: boolean;
  /** Logger for connection problems and spool activity. @defaultValue no-op */
  log?: Partial<Logger>;
}

/** {@link RedisStoreOptions} after defaults and validation. */
export interface ResolvedRedisStoreOptions {
  prefix: string;
  connection: RedisOptions;
  url: string | undefined;
  spoolPath: string | null;
  commandTimeoutMs: number;
  pendingWaitMs: number;
  orderingRetryMs: number;
  orderingMaxRetryMs: number;
  maxStalledCount: number;
  drainIntervalMs: number;
  allowVolatile: boolean;
}

function positiveInt(value: number | undefined, fallback: number, name: string, min = 0): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) throw new ConfigError(`${name} must be a number >= ${min}`);
  return Math.floor(v);
}

/** Applies defaults and checks every option. @throws {ConfigError} naming the bad option. */
export function resolveOptions(options: RedisStoreOptions): ResolvedRedisStoreOptions {
  const prefix = options.prefix ?? "intercom-bridge";
  if (prefix.length === 0 || prefix.endsWith(":"))
    throw new ConfigError("prefix must be non-empty and must not end with ':'");
  return {
    prefix,
    connection: options.connection ?? {},
    url: options.url,
    spoolPath: options.spoolPath ?? null,
    commandTimeoutMs: positiveInt(options.commandTimeoutMs, 1_000, "commandTimeoutMs", 1),
    pendingWaitMs: positiveInt(options.pendingWaitMs, 1_500, "pendingWaitMs"),
    orderingRetryMs: positiveInt(options.orderingRetryMs, 50, "orderingRetryMs", 1),
    orderingMaxRetryMs: positiveInt(options.orderingMaxRetryMs, 2_000, "orderingMaxRetryMs", 1),
    maxStalledCount: positiveInt(options.maxStalledCount, 3, "maxStalledCount", 1),
    drainIntervalMs: positiveInt(options.drainIntervalMs, 500, "drainIntervalMs", 10),
    allowVolatile: options.allowVolatile ?? false,
  };
}

/** Parses `redis://` / `rediss://` URLs into ioredis options (host, port, db, credentials, TLS). */
export function parseRedisUrl(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`Redis URL is not a URL: ${url}`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    throw new ConfigError(`Redis URL must start with redis:// or rediss://; got ${url}`);
  const opts: RedisOptions = { host: u.hostname || "127.0.0.1", port: u.port ? Number(u.port) : 6379 };
  const db = u.pathname.replace(/^\//, "");
  if (db !== "") {
    const n = Number(db);
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`Redis URL database must be an integer; got "${db}"`);
    opts.db = n;
  }
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  if (u.protocol === "rediss:") opts.tls = {};
  return opts;
}
