/**
 * Shared helpers for the benchmark scripts: child servers, free ports, signed bodies, autocannon runs, statistics.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import autocannon from "autocannon";
import { DEFAULTS } from "../src/config/options.js";
import { sign } from "../src/core/signature.js";
import type { EnqueueInput } from "../src/store/store.js";

export const SECRET = "bench-secret";

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** Starts a child process and resolves once `url` answers (any status). */
export async function startServer(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  readyUrl: string,
  timeoutMs = 30_000,
): Promise<ChildProcess> {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${cmd} ${args.join(" ")} exited ${child.exitCode}: ${stderr}`);
    try {
      await fetch(readyUrl, { method: "HEAD" });
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill("SIGKILL");
  throw new Error(`${cmd} did not become ready: ${stderr}`);
}

const NOOP_HANDLERS = fileURLToPath(new URL("./servers/noop-handlers.mjs", import.meta.url));

/**
 * Starts `intercom-bridge serve` from the CLI build `cli` on `port`, with a no-op handler, `storeArgs` (e.g.
 * `["--store", "memory:"]`) and the bench secret; resolves once `/healthz` answers.
 */
export function startServe(cli: string, port: number, storeArgs: readonly string[]): Promise<ChildProcess> {
  return startServer(
    "node",
    [cli, "serve", "--port", String(port), ...storeArgs, "--handlers", NOOP_HANDLERS, "--log-level", "warn"],
    { INTERCOM_CLIENT_SECRET: SECRET, INTERCOM_BRIDGE_ADMIN_TOKEN: "bench-admin" },
    `http://127.0.0.1:${port}/healthz`,
  );
}

/** {@link startServe} on a fresh SQLite file in a temporary folder, which `stop()` removes after the server exits. */
export async function startServeOnTempSqlite(
  cli: string,
  port: number,
): Promise<{ pid: number | undefined; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "ib-bench-"));
  const child = await startServe(cli, port, ["--store", `sqlite:${join(dir, "bench.db")}`]);
  return {
    pid: child.pid,
    async stop() {
      await stopServer(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Stops a child politely, then firmly. */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(t);
}

/** Pre-built signed notification bodies of about `sizeBytes`, each with a unique id (signing inside the load generator would saturate it). */
export function buildSignedBodies(count: number, sizeBytes = 1536): Array<{ body: Buffer; signature: string }> {
  const template = JSON.parse(
    readFileSync(new URL("../samples/intercom/conversation_admin_single_created.json", import.meta.url), "utf8"),
  ) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  const probe = JSON.stringify({ ...template, id: `notif_${randomUUID()}`, created_at: now, bench_padding: "" });
  const padding = "x".repeat(Math.max(0, sizeBytes - Buffer.byteLength(probe)));
  const out: Array<{ body: Buffer; signature: string }> = new Array(count);
  for (let i = 0; i < count; i++) {
    const body = Buffer.from(
      JSON.stringify({ ...template, id: `notif_${randomUUID()}`, created_at: now, bench_padding: padding }),
    );
    out[i] = { body, signature: sign(body, SECRET) };
  }
  return out;
}

/** One load run's figures. */
export interface LoadResult {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

/** Runs autocannon against `url` with bodies taken in order from `bodies` (one per request, never repeated). */
export async function runLoad(
  name: string,
  url: string,
  bodies: ReadonlyArray<{ body: Buffer; signature: string }>,
  opts: { connections: number; durationS: number; warmupS: number },
): Promise<LoadResult> {
  let next = 0;
  // `warmup` is supported by autocannon but missing from its type definitions.
  const options = {
    url,
    connections: opts.connections,
    duration: opts.durationS,
    warmup: { connections: opts.connections, duration: opts.warmupS },
    requests: [
      {
        method: "POST",
        setupRequest: (req) => {
          const b = bodies[next++ % bodies.length]!;
          return {
            ...req,
            body: b.body,
            headers: { "content-type": "application/json", "x-hub-signature": b.signature },
          };
        },
      },
    ],
  } as autocannon.Options;
  const result = await autocannon(options);
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
}

const PING_CREATED_AT = Math.floor(Date.now() / 1000);
const PING_BODY = JSON.stringify({
  type: "notification_event",
  topic: "ping",
  app_id: "bench",
  id: null,
  created_at: PING_CREATED_AT,
  data: { type: "notification_event_data", item: { type: "ping" } },
});

/**
 * The i-th of the drain benchmarks' queued `ping` notifications: one no-op delivery ("noop"), unordered unless an
 * ordering key is given. All of them share one `created_at`, taken when this module loads.
 */
export function benchPingEnqueue(i: number, orderingKey: string | null = null): EnqueueInput {
  return {
    dedupeKey: `bench/${i}`,
    dedupeTtlMs: 3_600_000,
    record: {
      queue: "inbound",
      topic: "ping",
      body: PING_BODY,
      appId: "bench",
      notificationId: `notif_${i}`,
      itemId: String(i),
      createdAt: PING_CREATED_AT,
    },
    deliveries: [{ target: "noop", retry: DEFAULTS.retry, orderingKey }],
  };
}

/** The autocannon load of the ingest scripts, from ROUNDS, DURATION_S, WARMUP_S and CONNECTIONS. */
export interface LoadOptions {
  rounds: number;
  connections: number;
  durationS: number;
  warmupS: number;
}

/** {@link LoadOptions} from the environment: 10 s measured after 3 s of warm-up, 50 connections, `rounds` rounds. */
export function loadOptionsFromEnv(rounds: number): LoadOptions {
  return {
    rounds: Number(process.env.ROUNDS ?? rounds),
    durationS: Number(process.env.DURATION_S ?? 10),
    warmupS: Number(process.env.WARMUP_S ?? 3),
    connections: Number(process.env.CONNECTIONS ?? 50),
  };
}

/** Median of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Fixed-width figure. */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** CPU time (user + system) a process has used so far, ms; null where /proc is not available. */
export function cpuTimeMs(pid: number | undefined): number | null {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return null;
  // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 per second on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Runs {@link runLoad} and measures the server's CPU over the measured period (after the warm-up): cores used and
 * CPU µs per request; with `dbCpu` (CPU ms a database server used so far, e.g. {@link postgresCpuMs}), also the
 * database's CPU µs per request. Figures are null where /proc is not available.
 */
export async function runLoadWithCpu(
  name: string,
  url: string,
  bodies: ReadonlyArray<{ body: Buffer; signature: string }>,
  opts: { connections: number; durationS: number; warmupS: number },
  pid: number | undefined,
  dbCpu?: () => number | null,
): Promise<LoadResult & { cores: number | null; cpuUsPerReq: number | null; dbCpuUsPerReq: number | null }> {
  let start: { cpu: number | null; db: number | null; at: number } = { cpu: null, db: null, at: 0 };
  const timer = setTimeout(
    () => (start = { cpu: cpuTimeMs(pid), db: dbCpu?.() ?? null, at: Date.now() }),
    opts.warmupS * 1000,
  );
  const result = await runLoad(name, url, bodies, opts);
  clearTimeout(timer);
  const end = cpuTimeMs(pid);
  const dbEnd = dbCpu?.() ?? null;
  const dbCpuUsPerReq =
    start.db === null || dbEnd === null || result.total === 0 ? null : ((dbEnd - start.db) * 1000) / result.total;
  if (start.cpu === null || end === null || result.total === 0)
    return { ...result, cores: null, cpuUsPerReq: null, dbCpuUsPerReq };
  const cpuMs = end - start.cpu;
  return {
    ...result,
    cores: cpuMs / (Date.now() - start.at),
    cpuUsPerReq: (cpuMs * 1000) / result.total,
    dbCpuUsPerReq,
  };
}

/**
 * CPU ms used so far by the PostgreSQL server on this machine: every live `postgres` process plus what the
 * postmaster has collected from children that exited (`cutime`/`cstime`). Null where /proc is not available or no
 * server runs here. Read before and after a run; the difference includes other clients of the same server.
 */
export function postgresCpuMs(): number | null {
  if (!existsSync("/proc")) return null;
  let total = 0;
  let found = false;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() !== "postgres") continue;
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    const fields = stat.split(") ")[1]!.split(" ");
    const ppidIsInit = fields[1] === "1" || !existsSync(`/proc/${fields[1]}/comm`);
    let ticks = Number(fields[11]) + Number(fields[12]);
    // The postmaster (its parent is not a postgres process) also carries its exited children's CPU.
    const parentComm = ppidIsInit ? "" : safeRead(`/proc/${fields[1]}/comm`).trim();
    if (parentComm !== "postgres") ticks += Number(fields[13]) + Number(fields[14]);
    total += ticks * 10;
    found = true;
  }
  return found ? total : null;
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
