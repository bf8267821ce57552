/**
 * `npm run bench:ingest`: webhook ingest throughput, alternating in each round
 *   (a) a bare node:http server that reads the body and answers 200,
 *   (b) the reference guide's Express handler (express.raw + HMAC + timingSafeEqual, in-memory processing),
 *   (c) `intercom-bridge serve` on SQLite (synchronous=FULL) with a no-op handler,
 *   (d) `intercom-bridge serve` on Redis, when Redis answers at REDIS_URL,
 *   (p) `intercom-bridge serve` on PostgreSQL (a fresh schema), when PostgreSQL answers at POSTGRES_URL,
 *   (m) `intercom-bridge serve` on the memory store: no storage at all, the ceiling any durable store can reach here,
 *   (fs) the SQLite dedupe floor and (fb) the plain BullMQ floor of `npm run bench:floor` (see bench/floor.ts),
 * with autocannon (50 connections, 3 s warm-up, 10 s measured; pre-built signed 1.5 KB bodies, unique ids).
 * Prints req/s, p50/p99 latency, non-2xx and the server's CPU (cores used, CPU µs per request, from /proc) per run
 * (for PostgreSQL also the database server's CPU µs per request), the ratios c/a, c/b (and d/a, p/d, m/a) per round
 * and their medians; then a summary table of each serve variant against its floor (c/fs, d/fb, m/a, and p/fs) in
 * req/s and in server CPU per request.
 * Environment: ROUNDS (default 3), DURATION_S (10), WARMUP_S (3), CONNECTIONS (50), REDIS_URL, POSTGRES_URL,
 * VARIANTS (comma-separated keys to run, e.g. "c,d,p"; default all).
 */
import { buildSignedBodies, fmt, loadOptionsFromEnv } from "./lib.js";
import {
  bare,
  floorBullmq,
  floorSqlite,
  medianRatio,
  postgresReachable,
  printFloorSummary,
  printMedians,
  redisReachable,
  referenceExpress,
  runRounds,
  serveMemory,
  servePostgres,
  serveRedis,
  serveSqlite,
  type Variant,
} from "./variants.js";

const load = loadOptionsFromEnv(3);

async function main(): Promise<void> {
  let variants: Variant[] = [bare(), referenceExpress(), floorSqlite(true), serveSqlite(), serveMemory()];
  if (await redisReachable()) variants.push(floorBullmq(), serveRedis());
  else process.stdout.write("(d) skipped: no Redis at REDIS_URL\n");
  if (await postgresReachable()) variants.push(servePostgres());
  else process.stdout.write("(p) skipped: no PostgreSQL at POSTGRES_URL\n");
  const only = process.env.VARIANTS?.split(",").map((k) => k.trim());
  if (only) variants = variants.filter((v) => only.includes(v.key));
  const perRequestBudget = Math.ceil(40_000 * (load.durationS + load.warmupS));
  process.stdout.write(`Building ${fmt(perRequestBudget)} signed 1.5 KB notifications...\n`);
  const bodies = buildSignedBodies(perRequestBudget);
  const has = (key: string): boolean => variants.some((v) => v.key === key);
  // Ratios between the variants this run has; "p/d": PostgreSQL against Redis (target >= 1).
  const pairs: Array<[string, string, string]> = [
    ["c", "a", "target >= 0.5"],
    ["c", "b", "target >= 3"],
    ["d", "a", "target >= 0.4"],
    ["p", "d", "target >= 1: PostgreSQL ingest at least Redis's"],
    ["m", "a", "serve with no storage at all: the ceiling for the durable stores here"],
  ].filter(([x, y]) => has(x!) && has(y!)) as Array<[string, string, string]>;
  const rounds = await runRounds(variants, bodies, load, (round, r) => {
    const line = pairs.map(([x, y]) => `${x}/${y} ${(round[x]!.rps / round[y]!.rps).toFixed(2)}`);
    if (line.length > 0) process.stdout.write(`round ${r}: ${line.join("  ")}\n\n`);
  });
  printMedians(variants, rounds);
  for (const [x, y, note] of pairs)
    process.stdout.write(`  ${x}/${y} ${medianRatio(rounds, x, y).toFixed(2)} (${note})\n`);
  printFloorSummary(variants, rounds);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
