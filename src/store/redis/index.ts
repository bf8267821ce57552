/**
 * The `intercom-bridge/redis` entry: the Redis store (BullMQ + ioredis). Importing it loads `bullmq`, `ioredis` and
 * (for the outage spool) `better-sqlite3`; the package root never does.
 */
export { RedisStore, createRedisStore, parseRedisUrl } from "./redis-store.js";
export type { RedisStoreHealth, RedisStoreOptions } from "./redis-store.js";
