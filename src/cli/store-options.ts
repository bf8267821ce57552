import { Option, type Command } from "commander";
import { ENV } from "../config/env.js";
import type { Store } from "../store/store.js";
import { DEFAULT_STORE_URL, openStore } from "./store-url.js";

/** The flags every store-reading command takes. */
export interface StoreFlags {
  store: string;
  redisPrefix: string;
  allowVolatileRedis?: boolean;
  postgresSchema: string;
}

/** Adds `--store`, `--redis-prefix` and `--postgres-schema` (with their environment variables) to a command. */
export function storeOptions(cmd: Command): Command {
  return cmd
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

/** Whether `--allow-volatile-redis` or `INTERCOM_BRIDGE_ALLOW_VOLATILE_REDIS=1` (or `true`) was given. */
export function isVolatileRedisAllowed(
  flags: { allowVolatileRedis?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const value = env[ENV.allowVolatileRedis]?.trim().toLowerCase();
  return flags.allowVolatileRedis === true || value === "1" || value === "true";
}

/** `--postgres-schema` / INTERCOM_BRIDGE_POSTGRES_SCHEMA: the schema of `postgres://` stores. */
export function postgresSchemaOption(): Option {
  return new Option("--postgres-schema <name>", "schema holding the tables of postgres:// stores")
    .env(ENV.postgresSchema)
    .default("intercom_bridge");
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
