/**
 * `npm run bench:drain`: how fast queued notifications are delivered through a no-op handler.
 * Enqueues N notifications (default 100,000) into a store, starts K worker processes, and times until every delivery
 * is done. Runs SQLite with one worker, Redis with one and two workers when Redis answers at REDIS_URL, and
 * PostgreSQL with one and two workers when it answers at POSTGRES_URL (a fresh schema each run).
 * After each run it prints the CPU the worker processes used (from /proc) and what the database server used
 * (redis-server's `INFO cpu`; the postgres processes from /proc), in cores over the drain, so a figure can be read
 * against the machine's core count.
 * Environment: N, CONCURRENCY (per worker, default 16), REDIS_URL, POSTGRES_URL, STORES (comma-separated subset of
 * sqlite,redis,bullmq,postgres; default all).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openStore } from "../src/cli/store-url.js";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { benchPingEnqueue, cpuTimeMs, fmt, postgresCpuMs } from "./lib.js";
import {
  POSTGRES_URL,
  REDIS_URL,
  deleteKeys,
  dropPostgresSchema,
  postgresReachable,
  redisReachable,
} from "./variants.js";

const N = Number(process.env.N ?? 100_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const root = fileURLToPath(new URL("..", import.meta.url));

async function fill(storeUrl: string, prefix: string): Promise<number> {
  const store = await openStore(storeUrl, { redisPrefix: prefix, postgresSchema: prefix, allowVolatileRedis: true });
  const started = Date.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < N) {
      const i = next++;
      await store.enqueue(benchPingEnqueue(i));
    }
  };
  await Promise.all(Array.from({ length: 256 }, worker));
  const ms = Date.now() - started;
  await store.close();
  return ms;
}

function startWorker(script: string, storeUrl: string, prefix: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(root, "bench", script), storeUrl, prefix, String(CONCURRENCY)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    child.stdout.once("data", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`worker exited ${code}`)));
  });
}

/** Seconds of CPU redis-server has used (`INFO cpu`), or null when the store is not Redis. */
type RedisCpu = () => Promise<number | null>;

/** What one drain run fills, runs and counts: intercom-bridge's store, or plain BullMQ. */
interface Subject {
  /** The store URL (or Redis URL) the workers get. */
  url: string;
  /** Fills N deliveries under `prefix`; resolves with the time it took, ms. */
  fill(prefix: string): Promise<number>;
  /** The worker script under bench/. */
  workerScript: string;
  /** Opens a counter of finished deliveries under `prefix`. */
  counter(prefix: string): Promise<{ done(): Promise<number>; close(): Promise<void> }>;
}

function storeSubject(storeUrl: string): Subject {
  return {
    url: storeUrl,
    fill: (prefix) => fill(storeUrl, prefix),
    workerScript: "drain-worker.ts",
    async counter(prefix) {
      const store = await openStore(storeUrl, {
        redisPrefix: prefix,
        postgresSchema: prefix,
        allowVolatileRedis: true,
      });
      return { done: async () => (await store.stats()).counts.inbound.done, close: () => store.close() };
    },
  };
}

function bullmqSubject(url: string): Subject {
  return {
    url,
    async fill(prefix) {
      const queue = new Queue("floor", { connection: { url }, prefix });
      const started = Date.now();
      for (let i = 0; i < N; i += 1000) {
        const n = Math.min(1000, N - i);
        await queue.addBulk(
          Array.from({ length: n }, (_, k) => ({ name: "noop", data: { i: i + k }, opts: { jobId: `j${i + k}` } })),
        );
      }
      const ms = Date.now() - started;
      await queue.close();
      return ms;
    },
    workerScript: "drain-bullmq-worker.mjs",
    async counter(prefix) {
      const queue = new Queue("floor", { connection: { url }, prefix });
      return { done: async () => (await queue.getJobCounts("completed")).completed ?? 0, close: () => queue.close() };
    },
  };
}

async function run(
  label: string,
  subject: Subject,
  workers: number,
  cleanup: (prefix: string) => Promise<void>,
  redisCpu: RedisCpu = async () => null,
  serverName = "redis-server",
): Promise<void> {
  // Also a valid PostgreSQL schema name.
  const prefix = `bench_drain_${randomUUID().replace(/-/g, "")}`;
  const fillMs = await subject.fill(prefix);
  const store = await subject.counter(prefix);
  const children: ChildProcess[] = [];
  const spawned = Date.now();
  for (let i = 0; i < workers; i++) children.push(await startWorker(subject.workerScript, subject.url, prefix));
  // The rate is measured from the moment every worker runs, over what was still left then, so a worker that started
  // earlier does not count for the ones still starting (and start-up CPU is left out).
  const doneAtStart = await store.done();
  const started = Date.now();
  const cpu0 = children.map((c) => cpuTimeMs(c.pid));
  const redis0 = await redisCpu();
  let done = 0;
  while (done < N) {
    await new Promise((r) => setTimeout(r, 100));
    done = await store.done();
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
    redisCores === null ? "" : `${serverName} ${redisCores.toFixed(2)} cores`,
  ].filter(Boolean);
  if (cores.length > 0)
    process.stdout.write(
      `${"".padEnd(26)} CPU while draining: ${cores.join(", ")} (this machine: ${availableParallelism()} cores)\n`,
    );
}

const stores = new Set((process.env.STORES ?? "sqlite,redis,bullmq,postgres").split(",").map((s) => s.trim()));
const dir = mkdtempSync(join(tmpdir(), "ib-drain-"));
if (stores.has("sqlite"))
  await run("SQLite, 1 worker", storeSubject(`sqlite:${join(dir, "drain.db")}`), 1, async () =>
    rmSync(dir, { recursive: true, force: true }),
  );
if (stores.has("postgres") && (await postgresReachable())) {
  const postgresCpu: RedisCpu = async () => {
    const ms = postgresCpuMs();
    return ms === null ? null : ms / 1000;
  };
  for (const workers of [1, 2])
    await run(
      `PostgreSQL, ${workers} worker${workers > 1 ? "s" : ""}`,
      storeSubject(POSTGRES_URL),
      workers,
      dropPostgresSchema,
      postgresCpu,
      "postgres",
    );
} else if (stores.has("postgres")) process.stdout.write("PostgreSQL skipped: not reachable at POSTGRES_URL\n");
if ((stores.has("redis") || stores.has("bullmq")) && (await redisReachable())) {
  const info = new Redis(REDIS_URL);
  const redisCpu: RedisCpu = async () => {
    const text = await info.info("cpu");
    const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(text)?.[1] ?? NaN);
    const total = field("used_cpu_user") + field("used_cpu_sys");
    return Number.isFinite(total) ? total : null;
  };
  for (const workers of stores.has("redis") ? [1, 2] : [])
    await run(
      `Redis, ${workers} worker${workers > 1 ? "s" : ""}`,
      storeSubject(REDIS_URL),
      workers,
      deleteKeys,
      redisCpu,
    );
  for (const workers of stores.has("bullmq") ? [1, 2] : [])
    await run(
      `plain BullMQ, ${workers} worker${workers > 1 ? "s" : ""}`,
      bullmqSubject(REDIS_URL),
      workers,
      deleteKeys,
      redisCpu,
    );
  info.disconnect();
} else if (stores.has("redis") || stores.has("bullmq"))
  process.stdout.write("Redis skipped: not reachable at REDIS_URL\n");
process.exit(0);
