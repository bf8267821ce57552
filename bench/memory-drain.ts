/**
 * `npx tsx bench/memory-drain.ts`: claim cost of the in-memory store. Enqueues N notifications (default 50,000) into a
 * MemoryStore, then drains them through `store.process` with a no-op runner and prints deliveries/s.
 * Environment: N, CONCURRENCY (default 16), KEYS (ordering keys spread over the jobs; 0 = unordered, default 0).
 */
import { createMemoryStore } from "../src/store/memory/memory-store.js";
import { benchPingEnqueue, fmt } from "./lib.js";

const N = Number(process.env.N ?? 50_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const KEYS = Number(process.env.KEYS ?? 0);

async function main(): Promise<void> {
  const store = createMemoryStore();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    await store.enqueue(benchPingEnqueue(i, KEYS > 0 ? `k${i % KEYS}` : null));
  }
  const fillMs = performance.now() - t0;
  let done = 0;
  const t1 = performance.now();
  await new Promise<void>((resolve) => {
    store.process(
      "inbound",
      () => {
        if (++done === N) setImmediate(resolve);
        return Promise.resolve();
      },
      { concurrency: CONCURRENCY, leaseMs: 30_000 },
    );
  });
  const ms = performance.now() - t1;
  await store.close();
  process.stdout.write(
    `memory N=${fmt(N)} keys=${KEYS} concurrency=${CONCURRENCY}: enqueued in ${fmt(fillMs / 1000, 2)} s (${fmt(N / (fillMs / 1000))}/s); drained in ${fmt(ms / 1000, 2)} s = ${fmt(N / (ms / 1000))} deliveries/s\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
