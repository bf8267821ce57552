// A floor for (c), not a product: the least work a durable SQLite ingest can do per notification. After the shared
// HTTP half (floor-http.mjs: body, HMAC, JSON.parse), a worker thread inserts (key, body) rows in group-committed
// transactions with synchronous=FULL, up to two batches in flight; the answer waits for the commit. DEDUPE=1 makes the
// key (app_id:id) UNIQUE, which any dedupe-and-enqueue needs; DEDUPE=0 stores the body alone. No records index, no
// deliveries, no lease, no metrics, no logs. Environment: PORT, DB (file), SECRET, DEDUPE.
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { serveFloor } from "./floor-http.mjs";

if (!isMainThread) {
  const db = new Database(workerData.path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec(
    `CREATE TABLE IF NOT EXISTS inbox (seq INTEGER PRIMARY KEY, k TEXT NOT NULL ${workerData.dedupe ? "UNIQUE" : ""}, body TEXT NOT NULL)`,
  );
  const insert = db.prepare("INSERT OR IGNORE INTO inbox (k, body) VALUES (?, ?)");
  const commit = db.transaction((items) => items.map(([k, body]) => insert.run(k, body).changes));
  parentPort.on("message", ({ id, items }) => parentPort.postMessage({ id, changes: commit.immediate(items) }));
} else {
  const writer = new Worker(new URL(import.meta.url), {
    workerData: { path: process.env.DB, dedupe: process.env.DEDUPE === "1" },
  });
  let items = [];
  let waiters = [];
  let inFlight = 0;
  let nextId = 0;
  const waiting = new Map();
  const flush = () => {
    if (items.length === 0 || inFlight >= 2) return;
    waiting.set(++nextId, waiters);
    writer.postMessage({ id: nextId, items });
    items = [];
    waiters = [];
    inFlight++;
  };
  writer.on("message", ({ id, changes }) => {
    inFlight--;
    waiting.get(id).forEach((answer, i) => answer(changes[i] === 1));
    waiting.delete(id);
    flush();
  });
  serveFloor(
    (n, text) =>
      new Promise((resolve) => {
        items.push([`${n.app_id}:${n.id}`, text]);
        waiters.push(resolve);
        if (items.length === 1) setImmediate(flush);
      }),
  );
}
