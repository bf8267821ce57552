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
// With a checkpointer thread (checkpoint-thread.ts) the writer checkpoints only as a backstop: the checkpointer has
// usually copied every frame already, so this mostly restarts the WAL, which a passive checkpoint cannot do.
db.pragma(
  `wal_autocheckpoint = ${data.checkpointIntervalMs > 0 ? data.walAutocheckpointPages * 10 : data.walAutocheckpointPages}`,
);
const writer = new SqliteWriter(db, {
  synchronous: data.synchronous,
  processingSynchronous: data.processingSynchronous,
});

function run(msg: Exclude<WriterRequest, { op: "enqueue" }>): WriterResponse {
  try {
    switch (msg.op) {
      case "exchange":
        return { id: msg.id, ok: true, value: writer.exchange(msg.req) };
      case "renew":
        return { id: msg.id, ok: true, value: writer.renew(msg.leases, msg.until) };
      case "purge":
        return { id: msg.id, ok: true, value: writer.purge(msg.beforeMs, msg.limit) };
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
    return { id: msg.id, ok: false, error: messageOf(error) };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Requests wait here while a transaction runs; {@link drain} picks what to run next:
 * 1. lease renewals (a late renewal lets another process take a running job);
 * 2. every waiting enqueue batch, merged into ONE transaction (one commit, one fsync): acknowledgements to Intercom
 *    wait on these, and several batches cost little more than one;
 * 3. processor exchanges (claims and settlements), one per turn, so a burst of enqueues is not queued behind them —
 *    except that an exchange waiting longer than {@link MAX_EXCHANGE_WAIT_MS} goes before the enqueues, so
 *    deliveries never stop during a long burst;
 * 4. retention purges, once no exchange waits either (they can wait: nothing depends on them soon);
 * 5. close, once nothing else waits.
 */
const waiting: Array<{ msg: WriterRequest; at: number }> = [];
const MAX_EXCHANGE_WAIT_MS = 20;
let scheduled = false;

function drain(): void {
  scheduled = false;
  if (waiting.length === 0) return;
  const now = performance.now();
  const pick = (op: WriterRequest["op"]): number => waiting.findIndex((w) => w.msg.op === op);
  let i = pick("renew");
  const firstExchange = pick("exchange");
  if (i < 0 && firstExchange >= 0 && now - waiting[firstExchange]!.at > MAX_EXCHANGE_WAIT_MS) i = firstExchange;
  if (i < 0 && pick("enqueue") >= 0) {
    const batches = waiting
      .filter((w) => w.msg.op === "enqueue")
      .map((w) => w.msg as WriterRequest & { op: "enqueue" });
    for (let k = waiting.length - 1; k >= 0; k--) if (waiting[k]!.msg.op === "enqueue") waiting.splice(k, 1);
    answerEnqueues(batches);
  } else {
    if (i < 0) i = firstExchange >= 0 ? firstExchange : Math.max(pick("purge"), 0);
    const { msg } = waiting.splice(i, 1)[0]!;
    if (msg.op === "close" && waiting.length > 0) waiting.push({ msg, at: now });
    else {
      port!.postMessage(msg.op === "enqueue" ? enqueueOne(msg) : run(msg));
      if (msg.op === "close") {
        port!.close();
        return;
      }
    }
  }
  if (waiting.length > 0) schedule();
}

function enqueueOne(msg: WriterRequest & { op: "enqueue" }): WriterResponse {
  try {
    return { id: msg.id, ok: true, value: writer.enqueueBatch(msg.items) };
  } catch (error) {
    return { id: msg.id, ok: false, error: messageOf(error) };
  }
}

function answerEnqueues(batches: Array<WriterRequest & { op: "enqueue" }>): void {
  if (batches.length === 1) {
    port!.postMessage(enqueueOne(batches[0]!));
    return;
  }
  const items = batches.flatMap((b) => b.items);
  let outcomes: ReturnType<SqliteWriter["enqueueBatch"]>;
  try {
    outcomes = writer.enqueueBatch(items);
  } catch (error) {
    for (const b of batches)
      port!.postMessage({ id: b.id, ok: false, error: messageOf(error) } satisfies WriterResponse);
    return;
  }
  let offset = 0;
  for (const b of batches) {
    const value = outcomes.slice(offset, offset + b.items.length);
    offset += b.items.length;
    port!.postMessage({ id: b.id, ok: true, value } satisfies WriterResponse);
  }
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  // setImmediate, not a microtask: messages that arrived during the last transaction are queued first.
  setImmediate(drain);
}

port.on("message", (msg: WriterRequest) => {
  waiting.push({ msg, at: performance.now() });
  schedule();
});
port.postMessage({ id: 0, ok: true, value: "ready" } satisfies WriterResponse);
