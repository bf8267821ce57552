/**
 * `npx tsx bench/ingest-ab.ts`: paired A/B ingest comparison of several builds of `intercom-bridge serve` (no-op
 * handler), alternating the builds within each round so machine load affects them alike; prints each run, each
 * build's median req/s and server CPU per request, and the median over rounds of each build's ratio to the first.
 * Environment: CLIS (comma-separated paths of dist/cli/main.js builds), STORE (`sqlite`, the default, on a fresh
 * file with synchronous=FULL; `memory`; or `redis` under a fresh key prefix at REDIS_URL), ROUNDS (default 4),
 * DURATION_S (10), WARMUP_S (3), CONNECTIONS (50).
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildSignedBodies,
  fmt,
  freePort,
  loadOptionsFromEnv,
  median,
  runLoadWithCpu,
  startServe,
  startServeOnTempSqlite,
  stopServer,
} from "./lib.js";
import { REDIS_URL, deleteKeys, type Running } from "./variants.js";

const load = loadOptionsFromEnv(4);
const root = fileURLToPath(new URL("..", import.meta.url));
const clis = (process.env.CLIS ?? join(root, "dist/cli/main.js")).split(",");
const store = process.env.STORE ?? "sqlite";

/** Starts build `cli` of `serve` on the store STORE names. */
async function start(cli: string, port: number): Promise<Running> {
  if (store === "sqlite") return startServeOnTempSqlite(cli, port);
  if (store === "memory") {
    const child = await startServe(cli, port, ["--store", "memory:"]);
    return { pid: child.pid, stop: () => stopServer(child) };
  }
  if (store === "redis") {
    const prefix = `bench-ab-${randomUUID()}`;
    const child = await startServe(cli, port, [
      "--store",
      REDIS_URL,
      "--redis-prefix",
      prefix,
      "--allow-volatile-redis",
    ]);
    return {
      pid: child.pid,
      async stop() {
        await stopServer(child);
        await deleteKeys(prefix);
      },
    };
  }
  throw new Error(`STORE must be sqlite, memory or redis, not ${store}`);
}

async function main(): Promise<void> {
  const bodies = buildSignedBodies(Math.ceil(20_000 * (load.durationS + load.warmupS)));
  const rps: number[][] = clis.map(() => []);
  const cpu: number[][] = clis.map(() => []);
  for (let r = 1; r <= load.rounds; r++) {
    for (let i = 0; i < clis.length; i++) {
      const k = r % 2 === 0 ? clis.length - 1 - i : i;
      const cli = clis[k]!;
      const port = await freePort();
      const server = await start(cli, port);
      try {
        const url = `http://127.0.0.1:${port}/webhooks/intercom`;
        const x = await runLoadWithCpu(cli, url, bodies, load, server.pid);
        rps[k]!.push(x.rps);
        if (x.cpuUsPerReq !== null) cpu[k]!.push(x.cpuUsPerReq);
        const cpuText = x.cpuUsPerReq === null ? "" : ` server CPU ${fmt(x.cpuUsPerReq)} µs/req`;
        process.stdout.write(
          `round ${r} [${k}] ${cli}: ${fmt(x.rps)} req/s p50 ${x.p50} ms p99 ${x.p99} ms non-2xx ${x.non2xx}${cpuText}\n`,
        );
      } finally {
        await server.stop();
      }
    }
  }
  process.stdout.write(`store: ${store}\n`);
  clis.forEach((cli, k) => {
    const cpuText = cpu[k]!.length === 0 ? "" : `, ${fmt(median(cpu[k]!))} µs/req server CPU`;
    const ratio = k === 0 ? "" : `; [${k}]/[0] req/s ${median(rps[k]!.map((x, r) => x / rps[0]![r]!)).toFixed(3)}`;
    process.stdout.write(`median [${k}] ${cli}: ${fmt(median(rps[k]!))} req/s${cpuText}${ratio}\n`);
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
