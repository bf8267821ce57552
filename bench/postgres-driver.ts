/**
 * `tsx bench/postgres-driver.ts`: the PostgreSQL store's ingest path (group-committed enqueue: one multi-row statement
 * per event-loop turn, up to MAX_IN_FLIGHT in flight) on two drivers, `pg` (node-postgres, the store's driver) and `postgres`
 * (porsager), alternated over rounds on fresh schemas. Each run keeps CONNECTIONS enqueues in flight for DURATION_S
 * seconds and prints enqueues/s, p50/p99 latency of one enqueue, and this process's CPU per enqueue.
 * `postgres` is not a dependency: install it for this comparison with `npm install --no-save postgres@3`.
 * Environment: POSTGRES_URL, ROUNDS (3), DURATION_S (8), CONNECTIONS (50), MAX_IN_FLIGHT (batches committing at once, 8).
 */
import pg from "pg";
import type { Pool } from "pg";
import { systemClock } from "../src/core/clock.js";
import { EnqueueBatcher } from "../src/store/postgres/enqueue.js";
import { createPostgresStore } from "../src/store/postgres/index.js";
import { benchPingEnqueue, fmt, median, postgresCpuMs } from "./lib.js";

const URL = process.env.POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION_S = Number(process.env.DURATION_S ?? 8);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);

interface Driver {
  name: string;
  /** A pool-shaped object the batcher can query, and how to close it. */
  open(): Promise<{ pool: Pool; close(): Promise<void> }>;
}

const nodePostgres: Driver = {
  name: "pg",
  async open() {
    const pool = new pg.Pool({ connectionString: URL, max: 12 });
    return { pool, close: () => pool.end() };
  },
};

type Porsager = ((
  url: string,
  options: { max: number },
) => {
  unsafe(text: string, values: unknown[]): Promise<unknown[]>;
  end(): Promise<void>;
}) & { default?: never };

const porsager: Driver = {
  name: "postgres (porsager)",
  async open() {
    const name = "postgres";
    const mod = (await import(name)) as { default: Porsager };
    const sql = mod.default(URL, { max: 12 });
    // The batcher calls pool.query({ text, values }); postgres.js takes the same text and values through unsafe().
    const pool = {
      query: async (q: { text: string; values: unknown[] }) => ({ rows: await sql.unsafe(q.text, q.values) }),
    } as unknown as Pool;
    return { pool, close: () => sql.end() };
  },
};

async function runOnce(
  driver: Driver,
  schema: string,
): Promise<{ rps: number; p50: number; p99: number; cpuUs: number; serverUs: number | null }> {
  const conn = await driver.open();
  const pool = conn.pool;
  const batcher = new EnqueueBatcher({
    pool,
    schema: `"${schema}"`,
    clock: systemClock,
    maxBatchSize: 256,
    maxInFlight: Number(process.env.MAX_IN_FLIGHT ?? 8),
    onEnqueued: () => undefined,
  });
  const latencies: number[] = [];
  let i = 0;
  const cpu0 = process.cpuUsage();
  const server0 = postgresCpuMs();
  const started = performance.now();
  const deadline = started + DURATION_S * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        const r = await batcher.enqueue(benchPingEnqueue(i++));
        if (r.status !== "enqueued") throw new Error(`unexpected ${r.status}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const server1 = postgresCpuMs();
  await conn.close();
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / seconds,
    p50: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    cpuUs: (cpu.user + cpu.system) / latencies.length,
    serverUs: server0 === null || server1 === null ? null : ((server1 - server0) * 1000) / latencies.length,
  };
}

async function main(): Promise<void> {
  const results = new Map<string, Array<Awaited<ReturnType<typeof runOnce>>>>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const driver of [nodePostgres, porsager]) {
      const schema = `bench_driver_${Date.now()}_${round}`;
      await (await createPostgresStore({ connectionString: URL }, { schema, purgeIntervalMs: 0 })).close();
      try {
        const r = await runOnce(driver, schema);
        results.set(driver.name, [...(results.get(driver.name) ?? []), r]);
        process.stdout.write(
          `round ${round} ${driver.name.padEnd(20)} ${fmt(r.rps).padStart(7)} enqueues/s  p50 ${fmt(r.p50, 1)} ms  p99 ${fmt(r.p99, 1)} ms  client CPU ${fmt(r.cpuUs)} µs/enqueue  postgres CPU ${r.serverUs === null ? "n/a" : fmt(r.serverUs)} µs/enqueue\n`,
        );
      } finally {
        const client = new pg.Client({ connectionString: URL });
        await client.connect();
        await client.query(`DROP SCHEMA "${schema}" CASCADE`);
        await client.end();
      }
    }
  }
  process.stdout.write(`Medians (${CONNECTIONS} enqueues in flight, ${DURATION_S} s, ${ROUNDS} rounds):\n`);
  for (const [name, rs] of results) {
    process.stdout.write(
      `  ${name.padEnd(20)} ${fmt(median(rs.map((r) => r.rps))).padStart(7)} enqueues/s  p99 ${fmt(median(rs.map((r) => r.p99)), 1)} ms  ${fmt(median(rs.map((r) => r.cpuUs)))} µs/enqueue\n`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
