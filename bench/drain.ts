/**
 * `npm run bench:drain`: how fast queued notifications are delivered through a no-op handler.
 * Enqueues N notifications (default 100,000) into a store, starts K worker processes, and times until every delivery
 * is done. Runs SQLite with one worker, and Redis with one and two workers when Redis answers at REDIS_URL.
 * Environment: N, CONCURRENCY (per worker, default 16), REDIS_URL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openStore } from "../src/cli/store-url.js";
import { DEFAULTS } from "../src/config/options.js";
import { fmt } from "./lib.js";

const N = Number(process.env.N ?? 100_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const root = fileURLToPath(new URL("..", import.meta.url));

async function fill(storeUrl: string, prefix: string): Promise<number> {
  const store = await openStore(storeUrl, { redisPrefix: prefix });
  const started = Date.now();
  const createdAt = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    type: "notification_event",
    topic: "ping",
    app_id: "bench",
    id: null,
    created_at: createdAt,
    data: { type: "notification_event_data", item: { type: "ping" } },
  });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < N) {
      const i = next++;
      await store.enqueue({
        dedupeKey: `bench/${i}`,
        dedupeTtlMs: 3_600_000,
        record: {
          queue: "inbound",
          topic: "ping",
          body,
          appId: "bench",
          notificationId: `notif_${i}`,
          itemId: String(i),
          createdAt,
        },
        deliveries: [{ target: "noop", retry: DEFAULTS.retry, orderingKey: null }],
      });
    }
  };
  await Promise.all(Array.from({ length: 256 }, worker));
  const ms = Date.now() - started;
  await store.close();
  return ms;
}

function startWorker(storeUrl: string, prefix: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(root, "bench/drain-worker.ts"), storeUrl, prefix, String(CONCURRENCY)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    child.stdout.once("data", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`worker exited ${code}`)));
  });
}

async function run(
  label: string,
  storeUrl: string,
  workers: number,
  cleanup: (prefix: string) => Promise<void>,
): Promise<void> {
  const prefix = `bench-drain-${randomUUID()}`;
  const fillMs = await fill(storeUrl, prefix);
  const store = await openStore(storeUrl, { redisPrefix: prefix });
  const children: ChildProcess[] = [];
  const started = Date.now();
  for (let i = 0; i < workers; i++) children.push(await startWorker(storeUrl, prefix));
  let done = 0;
  while (done < N) {
    await new Promise((r) => setTimeout(r, 100));
    done = (await store.stats()).counts.inbound.done;
    if (Date.now() - started > 600_000) throw new Error(`${label}: only ${done} of ${N} done after 10 minutes`);
  }
  const ms = Date.now() - started;
  await Promise.all(children.map((c) => new Promise((r) => (c.once("exit", r), c.kill("SIGTERM")))));
  await store.close();
  await cleanup(prefix);
  process.stdout.write(
    `${label.padEnd(26)} enqueued ${fmt(N)} in ${fmt(fillMs / 1000, 1)} s (${fmt(N / (fillMs / 1000))}/s); drained in ${fmt(ms / 1000, 1)} s = ${fmt(N / (ms / 1000))} deliveries/s (incl. worker start-up)\n`,
  );
}

async function redisReachable(url: string): Promise<boolean> {
  const { Redis } = await import("ioredis");
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

const dir = mkdtempSync(join(tmpdir(), "ib-drain-"));
await run("SQLite, 1 worker", `sqlite:${join(dir, "drain.db")}`, 1, async () =>
  rmSync(dir, { recursive: true, force: true }),
);
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
if (await redisReachable(redisUrl)) {
  const { Redis } = await import("ioredis");
  const deleteKeys = async (prefix: string): Promise<void> => {
    const redis = new Redis(redisUrl);
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
    redis.disconnect();
  };
  await run("Redis, 1 worker", redisUrl, 1, deleteKeys);
  await run("Redis, 2 workers", redisUrl, 2, deleteKeys);
} else process.stdout.write("Redis skipped: not reachable at REDIS_URL\n");
process.exit(0);
