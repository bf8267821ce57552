/**
 * The `--store` and `--redis-prefix` options every store-reading command takes, and opening the store they name.
 * Read commands (`deliveries`, `inspect`, `replay`, `purge`) ask for an existing store: pointed at a SQLite file that
 * is not there, they exit 2 naming the store URL and where it came from instead of creating an empty store.
 */
import { existsSync } from "node:fs";
import { Option, type Command } from "commander";
import { ENV } from "../config/env.js";
import { ConfigError } from "../core/errors.js";
import type { Store } from "../store/store.js";
import { DEFAULT_STORE_URL, openStore, sqlitePathOf } from "./store-url.js";

/** The flags every store-reading command takes. */
export interface StoreFlags {
  store: string;
  redisPrefix: string;
  allowVolatileRedis?: boolean;
  postgresSchema: string;
}

/** Options of {@link storeOptions}. */
export interface StoreOptionsConfig {
  /** The command only reads: refuse (exit 2) a store that does not exist rather than create it. @defaultValue false */
  existing?: boolean;
}

/** Adds `--store`, `--redis-prefix` and `--postgres-schema` (with their environment variables) to a command. */
export function storeOptions(cmd: Command, config: StoreOptionsConfig = {}): Command {
  cmd
    .addOption(
      new Option("--store <url>", "sqlite:<path>, memory:, redis://host:port/db or postgres://user:pass@host:5432/db")
        .env(ENV.store)
        .default(DEFAULT_STORE_URL),
    )
    .addOption(
      new Option("--redis-prefix <prefix>", "key prefix for redis:// stores")
        .env(ENV.redisPrefix)
        .default("intercom-bridge"),
    )
    .addOption(allowVolatileRedisOption())
    .addOption(postgresSchemaOption());
  if (config.existing === true) {
    cmd.hook("preAction", (_hooked, action) => {
      requireExistingStore(action.getOptionValue("store") as string, storeUrlOrigin(action));
    });
  }
  return cmd;
}

/** Where a command's `--store` value came from: `--store`, `INTERCOM_BRIDGE_STORE`, or the default. */
export function storeUrlOrigin(cmd: Command): string {
  const source = cmd.getOptionValueSource("store");
  return source === "env"
    ? ENV.store
    : source === "cli"
      ? "--store"
      : "the default; set --store or INTERCOM_BRIDGE_STORE";
}

/**
 * Throws a {@link ConfigError} when `url` names a store a read command cannot read: a SQLite file that does not exist,
 * or `memory:` (which keeps nothing between processes). Redis is read in place.
 */
export function requireExistingStore(url: string, origin: string): void {
  if (url === "memory:" || url === "memory") {
    throw new ConfigError(
      `store "${url}" (from ${origin}) keeps nothing between processes: point --store at the store serve uses`,
    );
  }
  const path = sqlitePathOf(url);
  if (path !== undefined && path.length > 0 && !existsSync(path)) {
    throw new ConfigError(
      `no store at "${url}" (from ${origin}): the file does not exist. Point --store (or ${ENV.store}) at the store \`intercom-bridge serve\` uses, or start serve first`,
    );
  }
}

/**
 * `--allow-volatile-redis`: accept a Redis without persistence (for `serve` and the store-reading commands). Its
 * environment variable is read by {@link isVolatileRedisAllowed}, so that only `1` or `true` allows (commander would
 * take any value, even `0`, as "on").
 */
export function allowVolatileRedisOption(): Option {
  return new Option(
    "--allow-volatile-redis",
    `accept a Redis that may lose acknowledged notifications (append-only file off or keys evictable; env: ${ENV.allowVolatileRedis}=1); see docs/redis.md`,
  );
}

/** `--postgres-schema` / INTERCOM_BRIDGE_POSTGRES_SCHEMA: the schema of `postgres://` stores. */
export function postgresSchemaOption(): Option {
  return new Option("--postgres-schema <name>", "schema holding the tables of postgres:// stores")
    .env(ENV.postgresSchema)
    .default("intercom_bridge");
}

/** Whether `--allow-volatile-redis` or `INTERCOM_BRIDGE_ALLOW_VOLATILE_REDIS=1` (or `true`) was given. */
export function isVolatileRedisAllowed(
  flags: { allowVolatileRedis?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const value = env[ENV.allowVolatileRedis]?.trim().toLowerCase();
  return flags.allowVolatileRedis === true || value === "1" || value === "true";
}

/** Opens the store the flags name, runs `fn`, and closes the store whatever happens. */
export async function withStore<T>(flags: StoreFlags, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(flags.store, {
    redisPrefix: flags.redisPrefix,
    allowVolatileRedis: isVolatileRedisAllowed(flags),
    postgresSchema: flags.postgresSchema,
  });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
