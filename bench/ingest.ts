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
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  SECRET,
  buildSignedBodies,
  fmt,
  freePort,
  median,
  runLoadWithCpu,
  startServe,
  startServeOnTempSqlite,
  startServer,
  stopServer,
  type LoadResult,
} from "./lib.js";

type Result = LoadResult & { cores: number | null; cpuUsPerReq: number | null };
import { redisVariant } from "./redis-variant.js";

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION_S = Number(process.env.DURATION_S ?? 10);
const WARMUP_S = Number(process.env.WARMUP_S ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "dist/cli/main.js");

interface Variant {
  key: string;
  name: string;
  start(port: number): Promise<{ pid: number | undefined; stop(): Promise<void> }>;
}

const variants: Variant[] = [
  {
    key: "a",
    name: "bare node:http",
    async start(port) {
      const child = await startServer(
        "node",
        [join(root, "bench/servers/bare.mjs")],
        { PORT: String(port) },
        `http://127.0.0.1:${port}/`,
      );
      return { pid: child.pid, stop: () => stopServer(child) };
    },
  },
  {
    key: "b",
    name: "reference Express",
    async start(port) {
      const child = await startServer(
        "node",
        [join(root, "bench/servers/reference-express.mjs")],
        { PORT: String(port), INTERCOM_WEBHOOK_SECRET: SECRET },
        `http://127.0.0.1:${port}/`,
      );
      return { pid: child.pid, stop: () => stopServer(child) };
    },
  },
  {
    key: "c",
    name: "serve (SQLite, FULL)",
    start: (port) => startServeOnTempSqlite(cli, port),
  },
  {
    key: "m",
    name: "serve (memory, no I/O)",
    async start(port) {
      const child = await startServe(cli, port, ["--store", "memory:"]);
      return { pid: child.pid, stop: () => stopServer(child) };
    },
  },
];

async function main(): Promise<void> {
  const redis = await redisVariant(cli);
  if (redis) variants.push(redis);
  else process.stdout.write("(d) skipped: no Redis at REDIS_URL\n");
  const perRequestBudget = Math.ceil(40_000 * (DURATION_S + WARMUP_S));
  process.stdout.write(`Building ${fmt(perRequestBudget)} signed 1.5 KB notifications...\n`);
  const bodies = buildSignedBodies(perRequestBudget);
  process.stdout.write(
    `autocannon: ${CONNECTIONS} connections, ${WARMUP_S} s warm-up, ${DURATION_S} s measured, ${ROUNDS} rounds\n\n`,
  );
  const rounds: Array<Record<string, Result>> = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const round: Record<string, Result> = {};
    for (const v of variants) {
      const port = await freePort();
      const server = await v.start(port);
      try {
        round[v.key] = await runLoadWithCpu(
          v.name,
          `http://127.0.0.1:${port}/webhooks/intercom`,
          bodies,
          { connections: CONNECTIONS, durationS: DURATION_S, warmupS: WARMUP_S },
          server.pid,
        );
      } finally {
        await server.stop();
      }
      const x = round[v.key]!;
      process.stdout.write(
        `round ${r} (${v.key}) ${v.name.padEnd(22)} ${fmt(x.rps).padStart(7)} req/s  p50 ${fmt(x.p50, 1).padStart(5)} ms  p99 ${fmt(x.p99, 1).padStart(6)} ms  non-2xx ${x.non2xx}  errors ${x.errors}${cpuText(x)}\n`,
      );
    }
    const a = round["a"]!.rps;
    const line = [
      `round ${r}: c/a ${(round["c"]!.rps / a).toFixed(2)}`,
      `c/b ${(round["c"]!.rps / round["b"]!.rps).toFixed(2)}`,
    ];
    if (round["d"]) line.push(`d/a ${(round["d"].rps / a).toFixed(2)}`);
    line.push(`m/a ${(round["m"]!.rps / a).toFixed(2)}`);
    process.stdout.write(line.join("  ") + "\n\n");
    rounds.push(round);
  }
  const ratio = (x: string, y: string): number => median(rounds.map((r) => r[x]!.rps / r[y]!.rps));
  process.stdout.write("Medians over rounds:\n");
  for (const v of variants) {
    const rs = rounds.map((r) => r[v.key]!);
    process.stdout.write(
      `  (${v.key}) ${v.name.padEnd(22)} ${fmt(median(rs.map((x) => x.rps))).padStart(7)} req/s  p50 ${fmt(median(rs.map((x) => x.p50)), 1)} ms  p99 ${fmt(median(rs.map((x) => x.p99)), 1)} ms  non-2xx total ${rs.reduce((s, x) => s + x.non2xx, 0)}${cpuText({ cores: medianOrNull(rs.map((x) => x.cores)), cpuUsPerReq: medianOrNull(rs.map((x) => x.cpuUsPerReq)) })}\n`,
    );
  }
  process.stdout.write(
    `  c/a ${ratio("c", "a").toFixed(2)} (target >= 0.5)   c/b ${ratio("c", "b").toFixed(2)} (target >= 3)\n`,
  );
  if (variants.some((v) => v.key === "d"))
    process.stdout.write(`  d/a ${ratio("d", "a").toFixed(2)} (target >= 0.4)\n`);
  process.stdout.write(
    `  m/a ${ratio("m", "a").toFixed(2)} (serve with no storage at all: the ceiling for c and d here)\n`,
  );
}

function cpuText(x: { cores: number | null; cpuUsPerReq: number | null }): string {
  if (x.cores === null || x.cpuUsPerReq === null) return "";
  return `  server CPU ${x.cores.toFixed(2)} cores, ${fmt(x.cpuUsPerReq)} µs/req`;
}

function medianOrNull(xs: ReadonlyArray<number | null>): number | null {
  const known = xs.filter((x): x is number => x !== null);
  return known.length === 0 ? null : median(known);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
