/**
 * `npm run bench:ingest`: webhook ingest throughput, alternating in each round
 *   (a) a bare node:http server that reads the body and answers 200,
 *   (b) the reference guide's Express handler (express.raw + HMAC + timingSafeEqual, in-memory processing),
 *   (c) `intercom-bridge serve` on SQLite (synchronous=FULL) with a no-op handler,
 *   (d) `intercom-bridge serve` on Redis, when Redis answers at REDIS_URL,
 *   (m) `intercom-bridge serve` on the memory store: no storage at all, the ceiling any durable store can reach here,
 * with autocannon (50 connections, 3 s warm-up, 10 s measured; pre-built signed 1.5 KB bodies, unique ids).
 * Prints req/s, p50/p99 latency, non-2xx and the server's CPU (cores used, CPU µs per request, from /proc) per run,
 * the ratios c/a, c/b (and d/a, m/a) per round and their medians.
 * Environment: ROUNDS (default 3), DURATION_S (10), WARMUP_S (3), CONNECTIONS (50), REDIS_URL.
 */
import { buildSignedBodies, fmt, loadOptionsFromEnv } from "./lib.js";
import {
  bare,
  medianRatio,
  printMedians,
  redisReachable,
  referenceExpress,
  runRounds,
  serveMemory,
  serveRedis,
  serveSqlite,
  type Variant,
} from "./variants.js";

const load = loadOptionsFromEnv(3);

async function main(): Promise<void> {
  const variants: Variant[] = [bare(), referenceExpress(), serveSqlite(), serveMemory()];
  if (await redisReachable()) variants.push(serveRedis());
  else process.stdout.write("(d) skipped: no Redis at REDIS_URL\n");
  const perRequestBudget = Math.ceil(40_000 * (load.durationS + load.warmupS));
  process.stdout.write(`Building ${fmt(perRequestBudget)} signed 1.5 KB notifications...\n`);
  const bodies = buildSignedBodies(perRequestBudget);
  const rounds = await runRounds(variants, bodies, load, (round, r) => {
    const a = round["a"]!.rps;
    const line = [
      `round ${r}: c/a ${(round["c"]!.rps / a).toFixed(2)}`,
      `c/b ${(round["c"]!.rps / round["b"]!.rps).toFixed(2)}`,
    ];
    if (round["d"]) line.push(`d/a ${(round["d"].rps / a).toFixed(2)}`);
    line.push(`m/a ${(round["m"]!.rps / a).toFixed(2)}`);
    process.stdout.write(line.join("  ") + "\n\n");
  });
  printMedians(variants, rounds);
  process.stdout.write(
    `  c/a ${medianRatio(rounds, "c", "a").toFixed(2)} (target >= 0.5)   c/b ${medianRatio(rounds, "c", "b").toFixed(2)} (target >= 3)\n`,
  );
  if (variants.some((v) => v.key === "d"))
    process.stdout.write(`  d/a ${medianRatio(rounds, "d", "a").toFixed(2)} (target >= 0.4)\n`);
  process.stdout.write(
    `  m/a ${medianRatio(rounds, "m", "a").toFixed(2)} (serve with no storage at all: the ceiling for c and d here)\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
