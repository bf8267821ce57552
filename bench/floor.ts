/**
 * `npm run bench:floor`: how close `serve` is to the least work a durable ingest can do on this machine. Alternates
 * in each round, under the same load as bench:ingest (autocannon, 50 connections, signed 1.5 KB bodies, unique ids):
 *   (a)  bare node:http: reads the body, answers 200;
 *   (fa) floor SQLite append: HMAC, JSON.parse, group-committed INSERT of the body with synchronous=FULL in a writer
 *        thread (servers/floor-sqlite.mjs); no dedupe, no deliveries, no index;
 *   (fs) the same with a UNIQUE dedupe key (app_id:id): the least a dedupe-and-enqueue on SQLite writes;
 *   (c)  `intercom-bridge serve` on SQLite (FULL) with a no-op handler;
 *   (fr) floor Redis + dedupe: one script per request, SET NX EX + RPUSH (servers/floor-redis.mjs), when Redis answers;
 *   (fb) floor BullMQ: STYLE §5's protocol done plainly per request: SET NX, BullMQ Queue.add, SET XX
 *        (servers/floor-bullmq.mjs);
 *   (d)  `intercom-bridge serve` on Redis.
 * Prints each run, the medians, every variant's median ratio to (a), and c/fs and d/fr: what share of the floor
 * `serve` reaches, and d/fb. Environment: ROUNDS (default 3), DURATION_S (10), WARMUP_S (3), CONNECTIONS (50), REDIS_URL.
 */
import { buildSignedBodies, fmt, loadOptionsFromEnv } from "./lib.js";
import {
  bare,
  floorBullmq,
  floorRedis,
  floorSqlite,
  medianRatio,
  printMedians,
  redisReachable,
  runRounds,
  serveRedis,
  serveSqlite,
  type Variant,
} from "./variants.js";

const load = loadOptionsFromEnv(3);

async function main(): Promise<void> {
  const variants: Variant[] = [bare(), floorSqlite(false), floorSqlite(true), serveSqlite()];
  const redis = await redisReachable();
  if (redis) variants.push(floorRedis(), floorBullmq(), serveRedis());
  else process.stdout.write("(fr), (fb) and (d) skipped: no Redis at REDIS_URL\n");
  const bodies = buildSignedBodies(Math.ceil(40_000 * (load.durationS + load.warmupS)));
  const rounds = await runRounds(variants, bodies, load);
  printMedians(variants, rounds);
  process.stdout.write("Median ratios:\n");
  for (const v of variants.slice(1)) process.stdout.write(`  ${v.key}/a ${fmt(medianRatio(rounds, v.key, "a"), 2)}\n`);
  process.stdout.write(`  c/fs ${fmt(medianRatio(rounds, "c", "fs"), 2)} (share of the SQLite floor serve reaches)\n`);
  if (redis) {
    process.stdout.write(`  d/fr ${fmt(medianRatio(rounds, "d", "fr"), 2)} (share of the Redis floor)\n`);
    process.stdout.write(`  d/fb ${fmt(medianRatio(rounds, "d", "fb"), 2)} (share of the plain BullMQ floor)\n`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
