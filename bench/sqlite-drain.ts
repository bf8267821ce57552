/**
 * Quick SQLite figures: enqueue throughput with group commit, then drain throughput of N no-op deliveries.
 * Usage: npx tsx bench/sqlite-drain.ts [jobs=100000] [concurrency=64] [synchronous=FULL]
 * Prints figures; not a test. The full `bench:drain` builds on this.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteStore } from "../src/store/sqlite/index.js";
import type { EnqueueInput } from "../src/store/store.js";

const total = Number(process.argv[2] ?? 100_000);
const concurrency = Number(process.argv[3] ?? 64);
const synchronous = (process.argv[4] ?? "FULL") as "FULL" | "NORMAL";
const dir = mkdtempSync(join(tmpdir(), "ib-bench-"));
const store = createSqliteStore({ path: join(dir, "bench.db"), synchronous });
const body = JSON.stringify({
  type: "notification_event",
  topic: "conversation.admin.replied",
  data: { item: { id: "x", pad: "p".repeat(1200) } },
});

function item(i: number): EnqueueInput {
  return {
    dedupeKey: `app1:notif_${i}`,
    dedupeTtlMs: 7 * 86_400_000,
    record: {
      queue: "inbound",
      topic: "conversation.admin.replied",
      body,
      appId: "app1",
      notificationId: `notif_${i}`,
      itemId: `item-${i}`,
      createdAt: 1_700_000_000 + i,
    },
    deliveries: [
      {
        target: "noop",
        retry: { maxAttempts: 8, backoff: { type: "exponential", delayMs: 1000 } },
        orderingKey: `item-${i}`,
      },
    ],
  };
}

// Enqueue: 50 concurrent callers (like 50 HTTP connections), each awaiting its own commit.
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 50 }, async () => {
    while (next < total) await store.enqueue(item(next++));
  }),
);
const enqueueMs = performance.now() - t0;
console.log(
  `enqueue: ${total} records in ${enqueueMs.toFixed(0)} ms = ${Math.round(total / (enqueueMs / 1000))}/s (50 concurrent callers, synchronous=${synchronous})`,
);

// Drain.
const t1 = performance.now();
let done = 0;
await new Promise<void>((resolve) => {
  store.process(
    "inbound",
    async () => {
      if (++done === total) resolve();
    },
    { concurrency, leaseMs: 30_000 },
  );
});
const drainMs = performance.now() - t1;
console.log(
  `drain: ${total} no-op deliveries in ${drainMs.toFixed(0)} ms = ${Math.round(total / (drainMs / 1000))}/s (concurrency ${concurrency}, ordered)`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });
