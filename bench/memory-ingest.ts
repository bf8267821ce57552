/**
 * `npm run build && npx tsx bench/memory-ingest.ts`: webhook ingest throughput of `intercom-bridge serve --store
 * memory:` (no-op handler) next to a bare node:http server, with the same autocannon load as bench/ingest.ts.
 * Environment: ROUNDS (default 1), DURATION_S (10), WARMUP_S (3), CONNECTIONS (50).
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  SECRET,
  buildSignedBodies,
  fmt,
  freePort,
  median,
  runLoad,
  startServer,
  stopServer,
  type LoadResult,
} from "./lib.js";

const ROUNDS = Number(process.env.ROUNDS ?? 1);
const DURATION_S = Number(process.env.DURATION_S ?? 10);
const WARMUP_S = Number(process.env.WARMUP_S ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "dist/cli/main.js");

const variants: Array<{ key: string; name: string; cmd: string[]; env: NodeJS.ProcessEnv; ready: string }> = [
  { key: "a", name: "bare node:http", cmd: [join(root, "bench/servers/bare.mjs")], env: {}, ready: "/" },
  {
    key: "m",
    name: "serve (memory)",
    cmd: [
      cli,
      "serve",
      "--store",
      "memory:",
      "--handlers",
      join(root, "bench/servers/noop-handlers.mjs"),
      "--log-level",
      "warn",
    ],
    env: { INTERCOM_CLIENT_SECRET: SECRET, INTERCOM_BRIDGE_ADMIN_TOKEN: "bench-admin" },
    ready: "/healthz",
  },
];

async function main(): Promise<void> {
  const bodies = buildSignedBodies(Math.ceil(40_000 * (DURATION_S + WARMUP_S)));
  const rounds: Array<Record<string, LoadResult>> = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const round: Record<string, LoadResult> = {};
    for (const v of variants) {
      const port = await freePort();
      const args = v.key === "a" ? v.cmd : [...v.cmd, "--port", String(port)];
      const child = await startServer(
        "node",
        args,
        { ...v.env, PORT: String(port) },
        `http://127.0.0.1:${port}${v.ready}`,
      );
      try {
        round[v.key] = await runLoad(v.name, `http://127.0.0.1:${port}/webhooks/intercom`, bodies, {
          connections: CONNECTIONS,
          durationS: DURATION_S,
          warmupS: WARMUP_S,
        });
      } finally {
        await stopServer(child);
      }
      const x = round[v.key]!;
      process.stdout.write(
        `round ${r} (${v.key}) ${v.name.padEnd(16)} ${fmt(x.rps).padStart(7)} req/s  p50 ${fmt(x.p50, 1)} ms  p99 ${fmt(x.p99, 1)} ms  non-2xx ${x.non2xx}  errors ${x.errors}\n`,
      );
    }
    rounds.push(round);
  }
  const m = median(rounds.map((r) => r["m"]!.rps / r["a"]!.rps));
  process.stdout.write(`median m/a ${m.toFixed(2)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
