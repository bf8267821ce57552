/**
 * `npx tsx bench/ingest-ab.ts`: paired A/B ingest comparison of several builds of `intercom-bridge serve` on SQLite
 * (synchronous=FULL, no-op handler), alternating the builds within each round so machine load affects them alike.
 * Environment: CLIS (comma-separated paths of dist/cli/main.js builds), ROUNDS (default 4), DURATION_S (10),
 * WARMUP_S (3), CONNECTIONS (50).
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildSignedBodies,
  fmt,
  freePort,
  loadOptionsFromEnv,
  median,
  runLoad,
  startServeOnTempSqlite,
} from "./lib.js";

const load = loadOptionsFromEnv(4);
const root = fileURLToPath(new URL("..", import.meta.url));
const clis = (process.env.CLIS ?? join(root, "dist/cli/main.js")).split(",");

async function main(): Promise<void> {
  const bodies = buildSignedBodies(Math.ceil(20_000 * (load.durationS + load.warmupS)));
  const rps: number[][] = clis.map(() => []);
  for (let r = 1; r <= load.rounds; r++) {
    for (let i = 0; i < clis.length; i++) {
      const k = r % 2 === 0 ? clis.length - 1 - i : i;
      const cli = clis[k]!;
      const port = await freePort();
      const server = await startServeOnTempSqlite(cli, port);
      try {
        const x = await runLoad(cli, `http://127.0.0.1:${port}/webhooks/intercom`, bodies, load);
        rps[k]!.push(x.rps);
        process.stdout.write(
          `round ${r} [${k}] ${cli}: ${fmt(x.rps)} req/s p50 ${x.p50} ms p99 ${x.p99} ms non-2xx ${x.non2xx}\n`,
        );
      } finally {
        await server.stop();
      }
    }
  }
  clis.forEach((cli, k) => process.stdout.write(`median [${k}] ${cli}: ${fmt(median(rps[k]!))} req/s\n`));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
