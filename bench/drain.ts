/**
 * `npm run bench:drain`: how fast queued notifications are delivered through a no-op handler.
 * Enqueues N notifications (default 100,000) into a store, starts K worker processes, and times until every delivery
 * is done. Runs SQLite with one worker, and Redis with one and two workers when Redis answers at REDIS_URL.
 * After each run it prints the CPU the worker processes used (from /proc) and, on Redis, what redis-server used
 * (`INFO cpu`), in cores over the drain, so a figure can be read against the machine's core count.
 * Environment: N, CONCURRENCY (per worker, default 16), REDIS_URL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openStore } from "../src/cli/store-url.js";
import { DEFAULTS } from "../src/config/options.js";
import { cpuTimeMs, fmt } from "./lib.js";

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

/** Seconds of CPU redis-server has used (`INFO cpu`), or null when the store is not Redis. */
type RedisCpu = () => Promise<number | null>;

async function run(
  label: string,
  storeUrl: string,
  workers: number,
  cleanup: (prefix: string) => Promise<void>,
  redisCpu: RedisCpu = async () => null,
): Promise<void> {
  const prefix = `bench-drain-${randomUUID()}`;
  const fillMs = await fill(storeUrl, prefix);
  const store = await openStore(storeUrl, { redisPrefix: prefix });
  const children: ChildProcess[] = [];
  const spawned = Date.now();
  for (let i = 0; i < workers; i++) children.push(await startWorker(storeUrl, prefix));
  // The rate is measured from the moment every worker runs, over what was still left then, so a worker that started
  // earlier does not count for the ones still starting (and start-up CPU is left out).
  const doneAtStart = (await store.stats()).counts.inbound.done;
  const started = Date.now();
  const cpu0 = children.map((c) => cpuTimeMs(c.pid));
  const redis0 = await redisCpu();
  let done = 0;
  while (done < N) {
    await new Promise((r) => setTimeout(r, 100));
    done = (await store.stats()).counts.inbound.done;
    if (Date.now() - started > 600_000) throw new Error(`${label}: only ${done} of ${N} done after 10 minutes`);
  }
  const ms = Date.now() - started;
  const workerCores = children.map((c, i) => {
    const now = cpuTimeMs(c.pid);
    const before = cpu0[i];
    return now === null || before === null || before === undefined ? null : (now - before) / ms;
  });
  const redis1 = await redisCpu();
  const redisCores = redis0 === null || redis1 === null ? null : ((redis1 - redis0) * 1000) / ms;
  await Promise.all(children.map((c) => new Promise((r) => (c.once("exit", r), c.kill("SIGTERM")))));
  await store.close();
  await cleanup(prefix);
  process.stdout.write(
    `${label.padEnd(26)} enqueued ${fmt(N)} in ${fmt(fillMs / 1000, 1)} s (${fmt(N / (fillMs / 1000))}/s); drained in ${fmt((Date.now() - spawned) / 1000, 1)} s incl. worker start-up; ${fmt((N - doneAtStart) / (ms / 1000))} deliveries/s with ${workers === 1 ? "the worker" : `all ${workers} workers`} running\n`,
  );
  const cores = [
    workerCores.every((c) => c !== null) ? `workers ${workerCores.map((c) => c.toFixed(2)).join(" + ")} cores` : "",
    redisCores === null ? "" : `redis-server ${redisCores.toFixed(2)} cores`,
  ].filter(Boolean);
  if (cores.length > 0)
    process.stdout.write(
      `${"".padEnd(26)} CPU while draining: ${cores.join(", ")} (this machine: ${availableParallelism()} cores)\n`,
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
  const info = new Redis(redisUrl);
  const redisCpu: RedisCpu = async () => {
    const text = await info.info("cpu");
    const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(text)?.[1] ?? NaN);
    const total = field("used_cpu_user") + field("used_cpu_sys");
    return Number.isFinite(total) ? total : null;
  };
  await run("Redis, 1 worker", redisUrl, 1, deleteKeys, redisCpu);
  await run("Redis, 2 workers", redisUrl, 2, deleteKeys, redisCpu);
  info.disconnect();
} else process.stdout.write("Redis skipped: not reachable at REDIS_URL\n");
process.exit(0);
