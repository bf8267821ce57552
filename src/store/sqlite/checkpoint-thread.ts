/**
 * Entry of the SQLite checkpointer thread (see `writer-client.ts`): copies committed WAL frames into the database
 * file with `PRAGMA wal_checkpoint(PASSIVE)`, on its own connection, so the writer thread's commits — which the
 * acknowledgements to Intercom wait on — never carry a checkpoint. A passive checkpoint takes no lock that stops the
 * writer; once every frame is copied, the writer's next transaction starts the WAL again from its beginning.
 *
 * Internal: started by {@link WriterClient}; not an entry point of the package.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

/** What the checkpointer thread is started with. */
export interface CheckpointThreadData {
  path: string;
  busyTimeoutMs: number;
  /** How often to copy what the writer committed since the last checkpoint, ms. */
  intervalMs: number;
}

const data = workerData as CheckpointThreadData;
const port = parentPort;
if (!port) throw new Error("checkpoint-thread.ts must run in a worker thread");

const db = new Database(data.path, { timeout: data.busyTimeoutMs });
db.pragma("journal_mode = WAL");
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
let timer: NodeJS.Timeout | null = null;

function tick(): void {
  try {
    checkpoint.get();
  } catch {
    // A failed checkpoint loses nothing (the frames stay in the WAL); the writer's own autocheckpoint is the backstop.
  }
  timer = setTimeout(tick, data.intervalMs);
}

port.on("message", (msg: { op: "close" }) => {
  if (msg.op !== "close") return;
  if (timer) clearTimeout(timer);
  db.close();
  port.close();
});
timer = setTimeout(tick, data.intervalMs);
