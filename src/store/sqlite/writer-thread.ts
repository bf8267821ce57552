/**
 * Entry of the SQLite writer thread (see `writer-client.ts`): owns its own connection to the store's file and runs
 * every enqueue batch and processor exchange there, so a commit's fsync (`synchronous=FULL`) never blocks the event
 * loop that parses HTTP requests.
 *
 * Internal: started by {@link WriterClient}; not an entry point of the package.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { SqliteWriter } from "./sqlite-writer.js";
import type { WriterRequest, WriterResponse, WriterThreadData } from "./writer-client.js";

const data = workerData as WriterThreadData;
const port = parentPort;
if (!port) throw new Error("writer-thread.ts must run in a worker thread");

const db = new Database(data.path, { timeout: data.busyTimeoutMs });
db.pragma("journal_mode = WAL");
db.pragma(`synchronous = ${data.synchronous}`);
db.pragma(`cache_size = -${data.cacheSizeKiB}`);
// Checkpoint size is a latency/throughput trade-off (see SqliteStoreOptions.walAutocheckpointPages): at thousands of
// enqueues per second the default (1000 pages) checkpoints every few dozen commits; 10000 measured +15–17 % req/s but
// p99 ~19 → ~41 ms (bench/ingest-ab.ts, paired).
db.pragma(`wal_autocheckpoint = ${data.walAutocheckpointPages}`);
const writer = new SqliteWriter(db, {
  synchronous: data.synchronous,
  processingSynchronous: data.processingSynchronous,
});

function answer(msg: WriterRequest): WriterResponse {
  try {
    switch (msg.op) {
      case "enqueue":
        return { id: msg.id, ok: true, value: writer.enqueueBatch(msg.items) };
      case "exchange":
        return { id: msg.id, ok: true, value: writer.exchange(msg.req) };
      case "renew":
        return { id: msg.id, ok: true, value: writer.renew(msg.leases, msg.until) };
      case "close":
        try {
          db.pragma("optimize");
        } catch {
          // best effort
        }
        db.close();
        return { id: msg.id, ok: true, value: null };
    }
  } catch (error) {
    return { id: msg.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

port.on("message", (msg: WriterRequest) => {
  port.postMessage(answer(msg));
  if (msg.op === "close") port.close();
});
port.postMessage({ id: 0, ok: true, value: "ready" } satisfies WriterResponse);
