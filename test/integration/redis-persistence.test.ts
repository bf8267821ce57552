/**
 * A Redis that would lose acknowledged notifications is refused: the store checks the append-only file, fsync policy
 * and eviction policy at start and after every reconnect, `serve` exits 2 naming the setting, and the explicit way out
 * (`allowVolatile` / `--allow-volatile-redis`) starts with `durable: false` in `/readyz`. Each test starts its own
 * `redis-server` on a free port and kills it by pid; the shared test Redis is never used here.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import type { QueueName, RetryPolicy } from "../../src/delivery/types.js";
import type { EnqueueInput } from "../../src/store/store.js";
import { createRedisStore, type RedisStore } from "../../src/store/redis/index.js";
import { hasRedisServerBinary, IS_REDIS_REQUIRED, privateRedis, type PrivateRedis } from "../helpers/redis.js";
import { runCli, startServe, type ServeProcess } from "../helpers/serve-process.js";
import { waitFor } from "../helpers/wait-for.js";

const hasBinary = hasRedisServerBinary();
if (!hasBinary && IS_REDIS_REQUIRED) throw new Error("REQUIRE_REDIS=1 but redis-server is not installed");

const RETRY: RetryPolicy = { maxAttempts: 3, backoff: { type: "fixed", delayMs: 20, jitter: 0 } };
const SECRET = "persistence-secret";

function input(n: number, queue: QueueName = "inbound"): EnqueueInput {
  return {
    dedupeKey: `app:notif_${n}`,
    dedupeTtlMs: 3_600_000,
    record: {
      queue,
      topic: "conversation.user.replied",
      body: JSON.stringify({ type: "notification_event", id: `notif_${n}` }),
      appId: "app",
      notificationId: `notif_${n}`,
      itemId: null,
      createdAt: 1_700_000_000 + n,
    },
    deliveries: [{ target: "crm", retry: RETRY, orderingKey: null }],
  };
}

describe.skipIf(!hasBinary)("Redis persistence check", () => {
  let dir: string;
  let redis: PrivateRedis | undefined;
  let store: RedisStore | undefined;
  let server: ServeProcess | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "ib-redis-persist-"));
  });

  afterEach(async () => {
    await server?.stop();
    await store?.close().catch(() => undefined);
    await redis?.stop();
    server = undefined;
    store = undefined;
    redis = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a Redis without the append-only file, naming the setting and the way out, and stores nothing", async () => {
    redis = await privateRedis();
    await redis.start();
    store = createRedisStore({ url: redis.url, prefix: "p", commandTimeoutMs: 2_000 });
    const refused = await store.ping().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toContain("appendonly yes");
    expect((refused as Error).message).toContain("--allow-volatile-redis");
    expect((refused as Error).message).toContain(`127.0.0.1:${redis.port}`);
    // No spool: the enqueue is refused (503 on the webhook route), and nothing reaches Redis.
    await expect(store.enqueue(input(1))).rejects.toMatchObject({ code: "IB_ERR_STORE_UNAVAILABLE" });
    await expect(store.listJobs({})).rejects.toBeInstanceOf(ConfigError);
    expect((await store.health()).durable).toBe(false);
    expect((await store.health()).accepting).toBe(false);
  });

  it("refuses keys that can be evicted even with the append-only file on", async () => {
    redis = await privateRedis(dir, ["--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru"]);
    await redis.start();
    store = createRedisStore({ url: redis.url, prefix: "p", commandTimeoutMs: 2_000 });
    await expect(store.ping()).rejects.toThrow(/maxmemory-policy is allkeys-lru .*set maxmemory-policy noeviction/);
  });

  it("starts on a volatile Redis when allowed, and says it is not durable", async () => {
    redis = await privateRedis();
    await redis.start();
    store = createRedisStore({ url: redis.url, prefix: "p", allowVolatile: true, commandTimeoutMs: 2_000 });
    await store.ping();
    expect((await store.enqueue(input(1))).status).toBe("enqueued");
    expect(await store.health()).toMatchObject({ durable: false, reachable: true, accepting: true });
  });

  it("accepts a Redis with the append-only file on, then refuses it when it comes back without", async () => {
    redis = await privateRedis(dir, ["--appendfsync", "everysec"]);
    await redis.start();
    store = createRedisStore({ url: redis.url, prefix: "p", commandTimeoutMs: 2_000 });
    await store.ping();
    expect(await store.health()).toMatchObject({ durable: true, reachable: true, accepting: true, problems: [] });
    expect((await store.enqueue(input(1))).status).toBe("enqueued");
    // The same server restarted with a configuration that keeps nothing.
    await redis.stop();
    redis.args = ["--appendonly", "no"];
    await redis.start();
    await waitFor(
      async () =>
        (await store!.ping().then(
          () => "ok",
          (e: unknown) => e,
        )) instanceof ConfigError,
      {
        timeoutMs: 10_000,
      },
    );
    await expect(store.enqueue(input(2))).rejects.toMatchObject({ code: "IB_ERR_STORE_UNAVAILABLE" });
  });

  it("keeps every acknowledged enqueue across kill -9 with appendfsync always", async () => {
    redis = await privateRedis(dir);
    await redis.start();
    store = createRedisStore({ url: redis.url, prefix: "p", commandTimeoutMs: 2_000 });
    const acknowledged: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let n = w; n < 800; n += 8) {
          const r = await store!.enqueue(input(n));
          if (r.status === "enqueued") acknowledged.push(r.recordId);
        }
      }),
    );
    await redis.stop(); // SIGKILL, right after the last acknowledgement
    await redis.start();
    await waitFor(
      () =>
        store!.ping().then(
          () => true,
          () => false,
        ),
      { timeoutMs: 10_000 },
    );
    let stored = 0;
    for (const id of acknowledged) if (await store.getRecord(id)) stored++;
    console.log(`appendfsync always, kill -9: ${acknowledged.length} acknowledged, ${stored} stored after restart`);
    expect(stored).toBe(acknowledged.length);
  }, 60_000);

  it("serve exits 2 on a volatile Redis, and starts with --allow-volatile-redis reporting durable: false", async () => {
    redis = await privateRedis();
    await redis.start();
    const refused = runCli(["serve", "--store", `${redis.url}/0`, "--port", "0", "--data-dir", join(dir, "a")], {
      INTERCOM_CLIENT_SECRET: SECRET,
      INTERCOM_BRIDGE_ADMIN_TOKEN: "t",
      INTERCOM_BRIDGE_ALLOW_VOLATILE_REDIS: "0",
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("IB_ERR_CONFIG");
    expect(refused.stderr).toContain("appendonly yes");
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);

    server = await startServe(
      ["--store", `${redis.url}/0`, "--allow-volatile-redis", "--data-dir", join(dir, "b"), "--log-level", "warn"],
      {},
      SECRET,
    );
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, durable: false, reachable: true, spooled: 0 });
    expect(server.output()).toContain("redis is volatile (allowed)");
  }, 60_000);
});
