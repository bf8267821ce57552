/**
 * A worker process for test/integration/sqlite-two-processes.test.ts: processes the inbound queue of one SQLite
 * file, appending `<jobId>` to its own output file for every run, until `expected` deliveries are done.
 * Usage: tsx test/helpers/sqlite-worker.ts <db path> <output file> <expected>
 */
import { appendFileSync } from "node:fs";
import { createSqliteStore } from "../../src/store/sqlite/index.js";

const [dbPath, outFile, expectedArg] = process.argv.slice(2);
if (!dbPath || !outFile || !expectedArg) throw new Error("usage: sqlite-worker <db> <out> <expected>");
const expected = Number(expectedArg);
const store = createSqliteStore({ path: dbPath, purgeIntervalMs: 0 });
const processor = store.process(
  "inbound",
  async (job) => {
    appendFileSync(outFile, `${job.id}\n`);
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 5));
  },
  { concurrency: 4, leaseMs: 5_000, pollMs: 10 },
);
const deadline = Date.now() + 60_000;
while ((await store.countJobs({ state: "done" })) < expected && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await processor.close();
await store.close();
