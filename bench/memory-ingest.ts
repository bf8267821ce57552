/**
 * `npm run build && npx tsx bench/memory-ingest.ts`: webhook ingest throughput of `intercom-bridge serve --store
 * memory:` (no-op handler) next to a bare node:http server, with the same autocannon load as bench/ingest.ts (its
 * (a) and (m) variants alone, for a quick look at the event loop's share).
 * Environment: ROUNDS (default 1), DURATION_S (10), WARMUP_S (3), CONNECTIONS (50).
 */
import { buildSignedBodies, loadOptionsFromEnv } from "./lib.js";
import { bare, medianRatio, runRounds, serveMemory } from "./variants.js";

const load = loadOptionsFromEnv(1);
const bodies = buildSignedBodies(Math.ceil(40_000 * (load.durationS + load.warmupS)));
const rounds = await runRounds([bare(), serveMemory()], bodies, load);
process.stdout.write(`median m/a ${medianRatio(rounds, "m", "a").toFixed(2)}\n`);
process.exit(0);
