/**
 * The servers the ingest benchmarks compare, and the loop that runs them in alternating rounds. Shared by
 * `bench/ingest.ts` (`npm run bench:ingest`) and `bench/floor.ts` (`npm run bench:floor`).
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  SECRET,
  fmt,
  freePort,
  median,
  postgresCpuMs,
  runLoadWithCpu,
  startServe,
  startServeOnTempSqlite,
  startServer,
  stopServer,
  type LoadResult,
} from "./lib.js";

/** A started server: its process id (for CPU figures) and how to stop it. */
export interface Running {
  pid: number | undefined;
  stop(): Promise<void>;
}

/** A server under test: started on a port, stopped (and its data removed) afterwards. */
export interface Variant {
  key: string;
  name: string;
  start(port: number): Promise<Running>;
  /** CPU ms its database server has used so far, when it has one on this machine (reported per request). */
  dbCpu?: () => number | null;
}

/** One run's figures with the server's (and its database's) CPU (null where /proc is not available). */
export type Result = LoadResult & { cores: number | null; cpuUsPerReq: number | null; dbCpuUsPerReq: number | null };

const root = fileURLToPath(new URL("..", import.meta.url));
/** The CLI build the `serve` variants run. */
export const CLI = join(root, "dist/cli/main.js");
/** The Redis the Redis variants use. */
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

function script(key: string, name: string, file: string, env: NodeJS.ProcessEnv = {}): Variant {
  return {
    key,
    name,
    async start(port) {
      const child = await startServer(
        "node",
        [join(root, "bench/servers", file)],
        { PORT: String(port), ...env },
        `http://127.0.0.1:${port}/`,
      );
      return { pid: child.pid, stop: () => stopServer(child) };
    },
  };
}

/** (a) a bare node:http server that reads the body and answers 200. */
export const bare = (): Variant => script("a", "bare node:http", "bare.mjs");

/** (b) the reference guide's Express handler. */
export const referenceExpress = (): Variant =>
  script("b", "reference Express", "reference-express.mjs", { INTERCOM_WEBHOOK_SECRET: SECRET });

/** (c) `serve` on a fresh SQLite file (synchronous=FULL) with a no-op handler. */
export const serveSqlite = (): Variant => ({
  key: "c",
  name: "serve (SQLite, FULL)",
  start: (port) => startServeOnTempSqlite(CLI, port),
});

/** (m) `serve` on the memory store: no storage at all. */
export const serveMemory = (): Variant => ({
  key: "m",
  name: "serve (memory, no I/O)",
  async start(port) {
    const child = await startServe(CLI, port, ["--store", "memory:"]);
    return { pid: child.pid, stop: () => stopServer(child) };
  },
});

/** The SQLite floor (`servers/floor-sqlite.mjs`) on a fresh file, with or without a unique dedupe key. */
export function floorSqlite(dedupe: boolean): Variant {
  return {
    key: dedupe ? "fs" : "fa",
    name: dedupe ? "floor SQLite + dedupe" : "floor SQLite append",
    async start(port) {
      const dir = mkdtempSync(join(tmpdir(), "ib-floor-"));
      const v = script("", "", "floor-sqlite.mjs", {
        SECRET,
        DB: join(dir, "floor.db"),
        DEDUPE: dedupe ? "1" : "0",
      });
      const server = await v.start(port);
      return {
        pid: server.pid,
        async stop() {
          await server.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** Deletes every key of `prefix` on the Redis at REDIS_URL. */
export async function deleteKeys(prefix: string): Promise<void> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/** Starts a Redis-backed server under a fresh key prefix and removes its keys when it stops. */
function onFreshPrefix(key: string, name: string, start: (port: number, prefix: string) => Promise<Running>): Variant {
  return {
    key,
    name,
    async start(port) {
      const prefix = `bench-${randomUUID()}`;
      const server = await start(port, prefix);
      return {
        pid: server.pid,
        async stop() {
          await server.stop();
          await deleteKeys(prefix);
        },
      };
    },
  };
}

/** (d) `serve` on Redis under a fresh key prefix; the bench Redis may keep nothing on disk (`--allow-volatile-redis`). */
export const serveRedis = (): Variant =>
  onFreshPrefix("d", "serve (Redis)", async (port, prefix) => {
    const child = await startServe(CLI, port, [
      "--store",
      REDIS_URL,
      "--redis-prefix",
      prefix,
      "--allow-volatile-redis",
    ]);
    return { pid: child.pid, stop: () => stopServer(child) };
  });

/** The Redis floor (`servers/floor-redis.mjs`) under a fresh key prefix. */
export const floorRedis = (): Variant =>
  onFreshPrefix("fr", "floor Redis + dedupe", (port, prefix) =>
    script("", "", "floor-redis.mjs", { SECRET, REDIS_URL, PREFIX: `${prefix}:` }).start(port),
  );

/** The BullMQ floor (`servers/floor-bullmq.mjs`): STYLE §5's three steps per request, under a fresh key prefix. */
export const floorBullmq = (): Variant =>
  onFreshPrefix("fb", "floor BullMQ (STYLE §5)", (port, prefix) =>
    script("", "", "floor-bullmq.mjs", { SECRET, REDIS_URL, PREFIX: prefix }).start(port),
  );

/** The PostgreSQL the PostgreSQL variants use. */
export const POSTGRES_URL = process.env.POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A schema name no other run uses. */
export function freshPostgresSchema(name: string): string {
  return `${name}_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
}

/** Drops a schema the bench created on the PostgreSQL at POSTGRES_URL. */
export async function dropPostgresSchema(schema: string): Promise<void> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** True when PostgreSQL answers at POSTGRES_URL. */
export async function postgresReachable(): Promise<boolean> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** (p) `serve` on PostgreSQL under a fresh schema, dropped afterwards; the database's CPU is reported too. */
export const servePostgres = (): Variant => ({
  key: "p",
  name: "serve (PostgreSQL)",
  dbCpu: postgresCpuMs,
  async start(port) {
    const schema = freshPostgresSchema("bench_ingest");
    const child = await startServe(CLI, port, ["--store", POSTGRES_URL, "--postgres-schema", schema]);
    return {
      pid: child.pid,
      async stop() {
        await stopServer(child);
        await dropPostgresSchema(schema);
      },
    };
  },
});

/** True when Redis answers PING at REDIS_URL. */
export async function redisReachable(): Promise<boolean> {
  const { Redis } = await import("ioredis");
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
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

/**
 * Runs every variant once per round, in order, with a fresh server each time; prints the load, one line per run, and returns
 * each round's results by variant key.
 */
export async function runRounds(
  variants: readonly Variant[],
  bodies: ReadonlyArray<{ body: Buffer; signature: string }>,
  opts: { rounds: number; connections: number; durationS: number; warmupS: number },
  afterRound?: (round: Record<string, Result>, r: number) => void,
): Promise<Array<Record<string, Result>>> {
  process.stdout.write(
    `autocannon: ${opts.connections} connections, ${opts.warmupS} s warm-up, ${opts.durationS} s measured, ${opts.rounds} rounds\n\n`,
  );
  const rounds: Array<Record<string, Result>> = [];
  for (let r = 1; r <= opts.rounds; r++) {
    const round: Record<string, Result> = {};
    for (const v of variants) {
      const port = await freePort();
      const server = await v.start(port);
      try {
        round[v.key] = await runLoadWithCpu(
          v.name,
          `http://127.0.0.1:${port}/webhooks/intercom`,
          bodies,
          opts,
          server.pid,
          v.dbCpu,
        );
      } finally {
        await server.stop();
      }
      const x = round[v.key]!;
      process.stdout.write(
        `round ${r} (${v.key}) ${v.name.padEnd(22)} ${fmt(x.rps).padStart(7)} req/s  p50 ${fmt(x.p50, 1).padStart(5)} ms  p99 ${fmt(x.p99, 1).padStart(6)} ms  non-2xx ${x.non2xx}  errors ${x.errors}${cpuText(x)}\n`,
      );
    }
    afterRound?.(round, r);
    rounds.push(round);
  }
  return rounds;
}

/** Prints the median figures of each variant over the rounds. */
export function printMedians(variants: readonly Variant[], rounds: ReadonlyArray<Record<string, Result>>): void {
  process.stdout.write("Medians over rounds:\n");
  for (const v of variants) {
    const rs = rounds.map((r) => r[v.key]!);
    process.stdout.write(
      `  (${v.key}) ${v.name.padEnd(22)} ${fmt(median(rs.map((x) => x.rps))).padStart(7)} req/s  p50 ${fmt(median(rs.map((x) => x.p50)), 1)} ms  p99 ${fmt(median(rs.map((x) => x.p99)), 1)} ms  non-2xx total ${rs.reduce((s, x) => s + x.non2xx, 0)}${cpuText({ cores: medianOrNull(rs.map((x) => x.cores)), cpuUsPerReq: medianOrNull(rs.map((x) => x.cpuUsPerReq)), dbCpuUsPerReq: medianOrNull(rs.map((x) => x.dbCpuUsPerReq)) })}\n`,
    );
  }
}

/** Median over rounds of the ratio x/y of two variants' req/s. */
export function medianRatio(rounds: ReadonlyArray<Record<string, Result>>, x: string, y: string): number {
  return median(rounds.map((r) => r[x]!.rps / r[y]!.rps));
}

function cpuText(x: { cores: number | null; cpuUsPerReq: number | null; dbCpuUsPerReq?: number | null }): string {
  if (x.cores === null || x.cpuUsPerReq === null) return "";
  const db =
    x.dbCpuUsPerReq === null || x.dbCpuUsPerReq === undefined ? "" : `, database ${fmt(x.dbCpuUsPerReq)} µs/req`;
  return `  server CPU ${x.cores.toFixed(2)} cores, ${fmt(x.cpuUsPerReq)} µs/req${db}`;
}

function medianOrNull(xs: ReadonlyArray<number | null>): number | null {
  const known = xs.filter((x): x is number => x !== null);
  return known.length === 0 ? null : median(known);
}

/** A `serve` variant and the floor it is measured against in the closing summary, with the target ratios. */
export interface FloorPair {
  serve: string;
  floor: string;
  /** Target for serve/floor req/s (at least) and for serve/floor server CPU per request (at most), when set. */
  rpsTarget?: number;
  cpuTarget?: number;
}

/** The pairs the benches summarise: SQLite against the dedupe floor, Redis against BullMQ, memory against bare. */
export const FLOOR_PAIRS: readonly FloorPair[] = [
  { serve: "c", floor: "fs", rpsTarget: 0.8, cpuTarget: 1.3 },
  { serve: "d", floor: "fb", rpsTarget: 0.75, cpuTarget: 1.4 },
  { serve: "m", floor: "a", rpsTarget: 0.6 },
  // PostgreSQL has no floor server of its own; the SQLite dedupe floor is the least durable ingest measured here.
  { serve: "p", floor: "fs" },
];

/** Server CPU µs per request of a run, with its database server's for variants that report one. */
function totalCpu(x: Result): number | null {
  return x.cpuUsPerReq === null ? null : x.cpuUsPerReq + (x.dbCpuUsPerReq ?? 0);
}

/**
 * Prints the closing summary: for each {@link FLOOR_PAIRS} pair present in the run, the medians of serve's and the
 * floor's req/s and server CPU per request (for PostgreSQL, server plus database), and the median over rounds of the
 * per-round ratios serve/floor, against their targets.
 */
export function printFloorSummary(variants: readonly Variant[], rounds: ReadonlyArray<Record<string, Result>>): void {
  const has = (key: string): boolean => variants.some((v) => v.key === key);
  const pairs = FLOOR_PAIRS.filter((p) => has(p.serve) && has(p.floor));
  if (pairs.length === 0) return;
  const name = (key: string): string => variants.find((v) => v.key === key)!.name;
  const ratios = (f: (x: Result) => number | null, p: FloorPair): number | null =>
    medianOrNull(
      rounds.map((r) => {
        const s = f(r[p.serve]!);
        const b = f(r[p.floor]!);
        return s === null || b === null || b === 0 ? null : s / b;
      }),
    );
  const mid = (key: string, f: (x: Result) => number | null): number | null =>
    medianOrNull(rounds.map((r) => f(r[key]!)));
  const text = (n: number | null, digits = 0): string => (n === null ? "n/a" : fmt(n, digits));
  const target = (t: number | undefined, sign: string): string => (t === undefined ? "" : ` (${sign} ${t})`);
  const rows = pairs.map((p) => [
    `(${p.serve}) ${name(p.serve)}`,
    `(${p.floor}) ${name(p.floor)}`,
    `${text(mid(p.serve, (x) => x.rps))} / ${text(mid(p.floor, (x) => x.rps))}`,
    `${text(
      ratios((x) => x.rps, p),
      2,
    )}${target(p.rpsTarget, "≥")}`,
    `${text(mid(p.serve, totalCpu))} / ${text(mid(p.floor, totalCpu))}`,
    `${text(ratios(totalCpu, p), 2)}${target(p.cpuTarget, "≤")}`,
  ]);
  const header = ["serve", "floor", "req/s serve / floor", "req/s ratio", "CPU µs/req serve / floor", "CPU ratio"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join(" | ")
      .trimEnd();
  process.stdout.write(
    `\nServe against its floor (medians over ${rounds.length} rounds; ratios are medians of per-round ratios; ` +
      `CPU is the server's, plus the database's for PostgreSQL):\n`,
  );
  process.stdout.write(`  ${line(header)}\n  ${widths.map((w) => "-".repeat(w)).join("-|-")}\n`);
  for (const r of rows) process.stdout.write(`  ${line(r)}\n`);
}
