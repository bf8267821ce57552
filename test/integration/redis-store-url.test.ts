import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { openStore } from "../../src/cli/store-url.js";
import { parseRedisUrl } from "../../src/store/redis/index.js";
import type { Store } from "../../src/store/store.js";
import { checkRedis, deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

const isReachable = await checkRedis();

describe("parseRedisUrl", () => {
  it("reads host, port, db, credentials and TLS from redis:// and rediss:// URLs", () => {
    expect(parseRedisUrl("redis://127.0.0.1:6380/2")).toEqual({ host: "127.0.0.1", port: 6380, db: 2 });
    expect(parseRedisUrl("rediss://user:p%40ss@cache.example:6390")).toEqual({
      host: "cache.example",
      port: 6390,
      username: "user",
      password: "p@ss",
      tls: {},
    });
    expect(parseRedisUrl("redis://localhost")).toEqual({ host: "localhost", port: 6379 });
  });

  it("throws ConfigError on another scheme or a non-numeric database", () => {
    expect(() => parseRedisUrl("http://x:1")).toThrow(ConfigError);
    expect(() => parseRedisUrl("redis://x:1/zero")).toThrow(ConfigError);
  });
});

describe.skipIf(!isReachable)("openStore with a redis:// URL", () => {
  let store: Store | undefined;
  const prefix = uniquePrefix("ib-store-url");

  afterEach(async () => {
    await store?.close();
    await deletePrefix(prefix);
  });

  it("opens a Redis store under --redis-prefix", async () => {
    store = await openStore(`${REDIS_URL}/0`, { redisPrefix: prefix, allowVolatileRedis: true });
    expect(store.kind).toBe("redis");
    await store.ping();
    const r = await store.enqueue({
      dedupeKey: "k",
      dedupeTtlMs: 60_000,
      record: {
        queue: "inbound",
        topic: "ping",
        body: "{}",
        appId: null,
        notificationId: null,
        itemId: null,
        createdAt: 1,
      },
      deliveries: [],
    });
    expect(r.status).toBe("enqueued");
    expect((store as Store & { prefix: string }).prefix).toBe(prefix);
  });

  it("rejects a malformed redis URL with ConfigError", async () => {
    await expect(openStore("redis://127.0.0.1:6379/db-one", { redisPrefix: prefix })).rejects.toBeInstanceOf(
      ConfigError,
    );
  });
});
