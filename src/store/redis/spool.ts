/**
 * The Redis outage spool: a small local SQLite file holding enqueues acknowledged while Redis was unreachable, until
 * the drain loop moves them into Redis. Separate from the SQLite store on purpose (one table, no queue). Several
 * processes on one machine may share the file: draining twice is harmless, since the Redis write is deduplicated and
 * job ids are deterministic. Internal.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { EnqueueInput } from "../store.js";

/** One spooled enqueue. */
export interface SpoolEntry {
  /** Row id (spool order = receive order). */
  id: number;
  /** The record id answered to the caller; reused when the row reaches Redis. */
  recordId: string;
  /** The dedupe-claim token, so a half-done Redis write by the same enqueue is taken over, not mistaken for a duplicate. */
  token: string;
  receivedAt: number;
  input: EnqueueInput;
}

/** The spool's operations. */
export interface Spool {
  /** Stores one enqueue durably; `duplicate` when the same queue + dedupe key is already spooled. */
  put(entry: Omit<SpoolEntry, "id">): { status: "spooled" } | { status: "duplicate"; recordId: string };
  /** The oldest `limit` rows. */
  take(limit: number): SpoolEntry[];
  /** Deletes a row once it is in Redis. */
  remove(id: number): void;
  /** Rows waiting. */
  count(): number;
  /** Closes the file. */
  close(): void;
}

interface Row {
  id: number;
  record_id: string;
  token: string;
  received_at: number;
  input: string;
}

/** Opens (creating if needed) a spool file. `synchronous = FULL`: a spooled row backs a 200. */
export function openSpool(path: string): Spool {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("busy_timeout = 2000");
  db.exec(`CREATE TABLE IF NOT EXISTS redis_spool (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    record_id TEXT NOT NULL,
    token TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    input TEXT NOT NULL,
    UNIQUE (queue, dedupe_key)
  )`);
  const insert = db.prepare(
    "INSERT INTO redis_spool (queue, dedupe_key, record_id, token, received_at, input) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (queue, dedupe_key) DO NOTHING",
  );
  const existing = db.prepare<[string, string], { record_id: string }>(
    "SELECT record_id FROM redis_spool WHERE queue = ? AND dedupe_key = ?",
  );
  const take = db.prepare<[number], Row>(
    "SELECT id, record_id, token, received_at, input FROM redis_spool ORDER BY id LIMIT ?",
  );
  const remove = db.prepare("DELETE FROM redis_spool WHERE id = ?");
  const count = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM redis_spool");
  return {
    put(entry) {
      const { input } = entry;
      const info = insert.run(
        input.record.queue,
        input.dedupeKey,
        entry.recordId,
        entry.token,
        entry.receivedAt,
        JSON.stringify(input),
      );
      if (info.changes === 1) return { status: "spooled" };
      const row = existing.get(input.record.queue, input.dedupeKey);
      return { status: "duplicate", recordId: row?.record_id ?? entry.recordId };
    },
    take(limit) {
      return take.all(limit).map((r) => ({
        id: r.id,
        recordId: r.record_id,
        token: r.token,
        receivedAt: r.received_at,
        input: JSON.parse(r.input) as EnqueueInput,
      }));
    },
    remove(id) {
      remove.run(id);
    },
    count() {
      return count.get()?.n ?? 0;
    },
    close() {
      db.close();
    },
  };
}
