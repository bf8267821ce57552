import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreError } from "../../src/core/errors.js";
import type { QueueName, RetryPolicy } from "../../src/delivery/types.js";
import type { EnqueueInput, Processor } from "../../src/store/store.js";
import { createRedisStore, type RedisStore } from "../../src/store/redis/index.js";
import { hasRedisServerBinary, IS_REDIS_REQUIRED, privateRedis, type PrivateRedis } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait-for.js";

const hasBinary = hasRedisServerBinary();
if (!hasBinary && IS_REDIS_REQUIRED) throw new Error("REQUIRE_REDIS=1 but redis-server is not installed");

const RETRY: RetryPolicy = { maxAttempts: 3, backoff: { type: "fixed", delayMs: 20, jitter: 0 } };

function input(n: number, queue: QueueName = "inbound"): EnqueueInput {
  return {
    dedupeKey: `app:notif_${n}`,
    dedupeTtlMs: 3_600_000,
    record: {
      queue,
      topic: "conversation.user.replied",
      body: JSON.stringify({ type: "notification_event", id: `notif_${n}`, n }),
      appId: "app",
      notificationId: `notif_${n}`,
      itemId: `conv_${n % 7}`,
      createdAt: 1_700_000_000 + n,
    },
    deliveries: [
      { target: "crm", retry: RETRY, orderingKey: `crm|app|conv_${n % 7}` },
      { target: "archive", retry: RETRY, orderingKey: null },
    ],
  };
}

describe.skipIf(!hasBinary)("RedisStore during a Redis outage", () => {
  let redis: PrivateRedis;
  let dir: string;
  let store: RedisStore | undefined;
  let processor: Processor | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "ib-redis-outage-"));
    redis = await privateRedis(dir);
    await redis.start();
  });

  afterEach(async () => {
    await processor?.close(1_000).catch(() => undefined);
    await store?.close().catch(() => undefined);
    store = undefined;
    processor = undefined;
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("acknowledges every enqueue while Redis is down and processes each exactly once after it returns", async () => {
    store = createRedisStore({
      url: redis.url,
      prefix: "outage",
      spoolPath: join(dir, "spool.db"),
      commandTimeoutMs: 300,
      drainIntervalMs: 100,
    });
    const runs = new Map<string, number>();
    processor = store.process(
      "inbound",
      async (job) => {
        const key = `${job.record.notificationId}/${job.target}`;
        runs.set(key, (runs.get(key) ?? 0) + 1);
      },
      { concurrency: 8, leaseMs: 2_000 },
    );
    for (let n = 0; n < 40; n++) expect((await store.enqueue(input(n))).status).toBe("enqueued");
    await waitFor(() => runs.size === 80, { timeoutMs: 10_000 });
    // Kill only once the completions are recorded: a handler that ran but was not yet acknowledged would rightly run
    // again (at-least-once), which is not what this test is about.
    await waitFor(async () => (await store!.countJobs({ state: "done" })) === 80, { timeoutMs: 10_000 });

    await redis.stop();
    await expect(store.ping()).rejects.toBeInstanceOf(StoreError);
    const during: string[] = [];
    for (let n = 40; n < 100; n++) {
      const r = await store.enqueue(input(n));
      expect(r.status).toBe("enqueued");
      if (r.status === "enqueued") during.push(r.recordId);
    }
    // Intercom's retry of notifications already stored before the outage, and of one spooled during it.
    for (const n of [3, 7, 39]) expect(["enqueued", "duplicate"]).toContain((await store.enqueue(input(n))).status);
    expect((await store.enqueue(input(50))).status).toBe("duplicate");
    expect(store.spooled()).toBeGreaterThanOrEqual(60);

    await redis.start();
    await waitFor(() => store!.spooled() === 0, { timeoutMs: 15_000 });
    await store.ping();
    await waitFor(() => runs.size === 200, { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 300)); // a late duplicate run would show up here
    expect(runs.size).toBe(200);
    expect([...runs.values()].every((c) => c === 1)).toBe(true);
    // The record ids answered during the outage are the ones stored in Redis.
    for (const id of during.slice(0, 5))
      expect((await store.getRecord(id))?.jobs.map((j) => j.state)).toEqual(["done", "done"]);
    const stats = await store.stats();
    expect(stats.counts.inbound.done).toBe(200);
  });

  it("fails enqueue with StoreError when Redis is down and no spool is configured", async () => {
    store = createRedisStore({ url: redis.url, prefix: "outage", commandTimeoutMs: 300 });
    expect((await store.enqueue(input(1))).status).toBe("enqueued");
    await redis.stop();
    await expect(store.enqueue(input(2))).rejects.toBeInstanceOf(StoreError);
    await expect(store.ping()).rejects.toBeInstanceOf(StoreError);
    // Nothing can take a notification now: /readyz answers 503 from this.
    expect(await store.health()).toMatchObject({ reachable: false, accepting: false, spooled: 0 });
  });

  it("fails enqueue with StoreError when even the spool cannot be written", async () => {
    store = createRedisStore({
      url: redis.url,
      prefix: "outage",
      spoolPath: join(dir, "spool.db"),
      commandTimeoutMs: 300,
    });
    await store.ping();
    await redis.stop();
    // Simulate a full or read-only disk under the spool.
    const spool = (store as unknown as { enqueuer: { spool: { put: () => never } } }).enqueuer.spool;
    spool.put = () => {
      throw new Error("SQLITE_FULL: database or disk is full");
    };
    expect((await store.health()).accepting).toBe(true);
    await expect(store.enqueue(input(9))).rejects.toMatchObject({ code: "IB_ERR_STORE_UNAVAILABLE" });
    // The spool failed too: the instance cannot accept durably, and says so.
    expect((await store.health()).accepting).toBe(false);
  });
});
