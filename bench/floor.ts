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
 *   (d)  `intercom-bridge serve` on Redis;
 *   (m)  `intercom-bridge serve` on the memory store (no I/O), whose floor is (a).
 * Prints each run, the medians, every variant's median ratio to (a), and c/fs and d/fr: what share of the floor
 * `serve` reaches, and d/fb; then a summary table of each serve variant against its floor (c/fs, d/fb, m/a) in req/s
 * and in server CPU per request. Environment: ROUNDS (default 3), DURATION_S (10), WARMUP_S (3), CONNECTIONS (50),
 * REDIS_URL, VARIANTS (comma-separated keys to run, e.g. "fs,c"; default all).
 */
import { buildSignedBodies, fmt, loadOptionsFromEnv } from "./lib.js";
import {
  bare,
  floorBullmq,
  floorRedis,
  floorSqlite,
  medianRatio,
  printFloorSummary,
  printMedians,
  redisReachable,
  runRounds,
  serveMemory,
  serveRedis,
  serveSqlite,
  type Variant,
} from "./variants.js";

const load = loadOptionsFromEnv(3);

async function main(): Promise<void> {
  let variants: Variant[] = [bare(), floorSqlite(false), floorSqlite(true), serveSqlite(), serveMemory()];
  if (await redisReachable()) variants.push(floorRedis(), floorBullmq(), serveRedis());
  else process.stdout.write("(fr), (fb) and (d) skipped: no Redis at REDIS_URL\n");
  const only = process.env.VARIANTS?.split(",").map((k) => k.trim());
  if (only) variants = variants.filter((v) => only.includes(v.key));
  const has = (key: string): boolean => variants.some((v) => v.key === key);
  const bodies = buildSignedBodies(Math.ceil(40_000 * (load.durationS + load.warmupS)));
  const rounds = await runRounds(variants, bodies, load);
  printMedians(variants, rounds);
  process.stdout.write("Median ratios:\n");
  if (has("a"))
    for (const v of variants.filter((x) => x.key !== "a"))
      process.stdout.write(`  ${v.key}/a ${fmt(medianRatio(rounds, v.key, "a"), 2)}\n`);
  const notes: Array<[string, string, string]> = [
    ["c", "fs", "share of the SQLite floor serve reaches"],
    ["d", "fr", "share of the Redis floor"],
    ["d", "fb", "share of the plain BullMQ floor"],
  ];
  for (const [x, y, note] of notes)
    if (has(x) && has(y)) process.stdout.write(`  ${x}/${y} ${fmt(medianRatio(rounds, x, y), 2)} (${note})\n`);
  printFloorSummary(variants, rounds);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
