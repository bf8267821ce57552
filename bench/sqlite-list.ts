/**
 * Fills a SQLite store with N records (one delivery each, 1 % dead) and times filtered, keyset-paginated pages.
 * Usage: npx tsx bench/sqlite-list.ts [records=1000000] [db path]
 * Prints figures; not a test. Reuses an existing file at the given path instead of refilling it.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteStore } from "../src/store/sqlite/index.js";
import type { JobFilter } from "../src/delivery/types.js";
import type { EnqueueInput } from "../src/store/store.js";

const total = Number(process.argv[2] ?? 1_000_000);
const path = process.argv[3] ?? join(mkdtempSync(join(tmpdir(), "ib-list-")), "list.db");
const topics = [
  "conversation.admin.replied",
  "conversation.user.created",
  "conversation.admin.closed",
  "contact.created",
  "contact.tag.created",
  "ticket.created",
  "user.created",
  "company.created",
  "ping",
  "visitor.signed_up",
];
const body = JSON.stringify({ type: "notification_event", data: { item: { pad: "p".repeat(1000) } } });
const fresh = !existsSync(path);
const store = createSqliteStore({ path, synchronous: "NORMAL", maxBatchSize: 2000 });

if (fresh) {
  const t0 = performance.now();
  const batch = 2000;
  for (let start = 0; start < total; start += batch) {
    const calls: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(total, start + batch); i++) {
      const input: EnqueueInput = {
        dedupeKey: `k${i}`,
        dedupeTtlMs: 7 * 86_400_000,
        record: {
          queue: i % 20 === 0 ? "outbox" : "inbound",
          topic: topics[i % topics.length]!,
          body,
          appId: `app${i % 5}`,
          notificationId: `notif_${i}`,
          itemId: `item-${i % 50_000}`,
          createdAt: 1_700_000_000 + i,
        },
        deliveries: [
          {
            target: i % 3 === 0 ? "archive" : "crm-sync",
            retry: { maxAttempts: 8, backoff: { type: "exponential", delayMs: 1000 } },
            orderingKey: null,
          },
        ],
      };
      calls.push(store.enqueue(input));
    }
    await Promise.all(calls);
  }
  // Mark 1 % dead and the rest done, as after processing (bench setup only: direct SQL).
  const db = (store as unknown as { db: { exec(sql: string): void } }).db;
  db.exec(
    "UPDATE jobs SET state = CASE WHEN seq % 100 = 0 THEN 'dead' ELSE 'done' END, run_at = NULL WHERE seq % 100 <> 1",
  );
  console.log(`filled ${total} records in ${((performance.now() - t0) / 1000).toFixed(1)} s at ${path}`);
}

async function time(label: string, fn: () => Promise<unknown>): Promise<unknown> {
  await fn(); // warm the page cache and the statement cache
  const runs = 5;
  const t = performance.now();
  let result: unknown;
  for (let i = 0; i < runs; i++) result = await fn();
  console.log(`${label.padEnd(58)} ${((performance.now() - t) / runs).toFixed(2)} ms`);
  return result;
}

const page = (f: JobFilter) => store.listJobs({ limit: 50, ...f });
const first = (await page({ queue: "inbound", state: "dead" })) as { nextCursor: string | null };
await time("listJobs queue=inbound state=dead (page 1)", () => page({ queue: "inbound", state: "dead" }));
await time("listJobs queue=inbound state=dead (page 2, cursor)", () =>
  page({ queue: "inbound", state: "dead", cursor: first.nextCursor! }),
);
await time("listJobs state=dead (both queues)", () => page({ state: "dead" }));
await time("listJobs state=[failed,dead] topic=conversation.*", () =>
  page({ state: ["failed", "dead"], topic: "conversation.*" }),
);
await time("listJobs queue=inbound topic=contact.created", () => page({ queue: "inbound", topic: "contact.created" }));
await time("listJobs appId=app3 target=archive", () => page({ appId: "app3", target: "archive" }));
await time("listJobs itemId=item-777", () => page({ itemId: "item-777" }));
await time("listJobs notificationId=notif_123456", () => page({ notificationId: "notif_123456" }));
await time("listJobs since=(now-1h) state=dead", () => page({ since: Date.now() - 3_600_000, state: "dead" }));
await time("listRecords queue=inbound (page 1)", () => store.listRecords({ queue: "inbound", limit: 50 }));
await time("listRecords state=dead topic=contact.*", () =>
  store.listRecords({ state: "dead", topic: "contact.*", limit: 50 }),
);
await time("listRecords topic=ticket.* appId=app1", () =>
  store.listRecords({ topic: "ticket.*", appId: "app1", limit: 50 }),
);
await time("listJobs queue=outbox (all states, page 1)", () => page({ queue: "outbox" }));
await time("listRecords queue=outbox (page 1)", () => store.listRecords({ queue: "outbox", limit: 50 }));
await time("receivedHistogram inbound, last hour by minute", () =>
  store.receivedHistogram("inbound", Date.now() - 3_600_000, 60_000),
);
await time("countJobs state=dead", () => store.countJobs({ state: "dead" }));
await time("stats()", () => store.stats());
await store.close();
