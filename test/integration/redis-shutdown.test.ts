/**
 * Shutdown while Redis is unreachable ends in bounded time: `processor.close(timeout)` and `store.close()` return
 * within the timeout plus a few seconds, the delivery that was running is released (it runs again once Redis is
 * back, nothing lost), and `serve` exits after SIGTERM within `--shutdown-timeout` plus a few seconds. Each test
 * starts its own persisting `redis-server` and kills it by pid.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RetryPolicy } from "../../src/delivery/types.js";
import type { Processor } from "../../src/store/store.js";
import { createRedisStore, type RedisStore } from "../../src/store/redis/index.js";
import { hasRedisServerBinary, IS_REDIS_REQUIRED, privateRedis, type PrivateRedis } from "../helpers/redis.js";
import { startServe, type ServeProcess } from "../helpers/serve-process.js";
import { sign } from "../../src/core/signature.js";
import { waitFor } from "../helpers/wait-for.js";

const hasBinary = hasRedisServerBinary();
if (!hasBinary && IS_REDIS_REQUIRED) throw new Error("REQUIRE_REDIS=1 but redis-server is not installed");

const RETRY: RetryPolicy = { maxAttempts: 3, backoff: { type: "fixed", delayMs: 20, jitter: 0 } };
/** What "a few seconds" after the grace period may take at most, on a loaded CI machine. */
const SLACK_MS = 8_000;

describe.skipIf(!hasBinary)("shutdown while Redis is unreachable", () => {
  let dir: string;
  let redis: PrivateRedis;
  const stores: RedisStore[] = [];
  const processors: Processor[] = [];
  let server: ServeProcess | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "ib-redis-shutdown-"));
    redis = await privateRedis(dir);
    await redis.start();
  });

  afterEach(async () => {
    if (server && server.child.exitCode === null) await server.kill9();
    server = undefined;
    await Promise.allSettled(processors.splice(0).map((p) => p.close(100)));
    await Promise.allSettled(stores.splice(0).map((s) => s.close()));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("closes a processor and the store in bounded time and releases the running delivery", async () => {
    const store = createRedisStore({ url: redis.url, prefix: "sd", commandTimeoutMs: 500 });
    stores.push(store);
    let started = 0;
    const processor = store.process(
      "inbound",
      async (_job, signal) => {
        started++;
        // A handler that runs until it is aborted.
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      },
      { concurrency: 2, leaseMs: 1_000 },
    );
    processors.push(processor);
    const r = await store.enqueue({
      dedupeKey: "k1",
      dedupeTtlMs: 3_600_000,
      record: {
        queue: "inbound",
        topic: "contact.user.created",
        body: "{}",
        appId: "a",
        notificationId: "n1",
        itemId: null,
        createdAt: 1,
      },
      deliveries: [{ target: "crm", retry: RETRY, orderingKey: null }],
    });
    expect(r.status).toBe("enqueued");
    await waitFor(() => started === 1, { timeoutMs: 10_000 });

    await redis.stop();
    const t0 = Date.now();
    await processor.close(500);
    const processorMs = Date.now() - t0;
    await store.close();
    const totalMs = Date.now() - t0;
    console.log(`close while Redis is down: processor.close(500) ${processorMs} ms, then store.close() ${totalMs} ms`);
    expect(processorMs).toBeLessThan(500 + SLACK_MS);
    expect(totalMs).toBeLessThan(500 + SLACK_MS);

    // Redis is back: the released delivery runs again on a new instance and completes.
    await redis.start();
    const again = createRedisStore({ url: redis.url, prefix: "sd", commandTimeoutMs: 2_000 });
    stores.push(again);
    let completed = 0;
    processors.push(
      again.process(
        "inbound",
        async () => {
          completed++;
        },
        { concurrency: 2, leaseMs: 1_000 },
      ),
    );
    await waitFor(() => completed === 1, { timeoutMs: 15_000 });
    if (r.status === "enqueued") {
      await waitFor(async () => (await again.getJob(r.jobIds[0]!))?.state === "done", { timeoutMs: 5_000 });
    }
  }, 60_000);

  it("serve exits after SIGTERM within --shutdown-timeout plus a few seconds while Redis is down", async () => {
    const handlers = join(dir, "handlers.mjs");
    writeFileSync(
      handlers,
      `export default { "contact.*": (n, ctx) => new Promise((resolve) => ctx.signal.addEventListener("abort", resolve)) };\n`,
    );
    const secret = "shutdown-secret";
    server = await startServe(
      [
        "--store",
        `${redis.url}/0`,
        "--handlers",
        handlers,
        "--shutdown-timeout",
        "2s",
        "--lease-ms",
        "1000",
        "--data-dir",
        join(dir, "data"),
      ],
      {},
      secret,
    );
    const now = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      type: "notification_event",
      app_id: "sd",
      data: { type: "notification_event_data", item: { type: "contact", id: "c1" } },
      id: "notif_sd_1",
      topic: "contact.user.created",
      delivery_attempts: 1,
      first_sent_at: now,
      created_at: now,
    });
    const res = await fetch(`${server.url}/webhooks/intercom`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hub-signature": sign(body, secret) },
      body,
    });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 500)); // let the delivery start
    await redis.stop();
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const code = await server.stop();
    const exitMs = Date.now() - t0;
    console.log(`serve --shutdown-timeout 2s, Redis down: exited ${code} ${exitMs} ms after SIGTERM`);
    expect(exitMs).toBeLessThan(2_000 + SLACK_MS);
    expect(code).toBe(0);
  }, 60_000);
});
