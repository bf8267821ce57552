/**
 * The SQLite store's query builder: how a {@link JobFilter} becomes SQL conditions (the SQL twin of
 * `shared/filter.ts`), which access path reads records newest first without sorting the table, and how a row becomes
 * a {@link JobSummary}. Pure string and row work: no statement is run here, and it must not import the store class
 * or the writer thread.
 */
import { ConfigError } from "../../core/errors.js";
import type { JobError, JobFilter, JobState, JobSummary, QueueName } from "../../delivery/types.js";
import { decodeCursor, filterStates, jobIdOf } from "../job-helpers.js";
import { SEQ_BOUND_SLACK_MS } from "./schema.js";

/** A delivery joined with its record, as the read queries select it ({@link JOB_COLUMNS}). */
export interface JobRow {
  j_seq: number;
  record_seq: number;
  idx: number;
  queue: QueueName;
  target: string;
  state: JobState;
  attempts: number;
  max_attempts: number;
  run_at: number | null;
  updated_at: number;
  last_error: string | null;
  record_id: string;
  topic: string;
  app_id: string | null;
  notification_id: string | null;
  item_id: string | null;
  created_at: number;
  received_at: number;
}

/** The columns of a {@link JobRow}. */
export const JOB_COLUMNS = `j.seq AS j_seq, j.record_seq, j.idx, j.queue, j.target, j.state, j.attempts, j.max_attempts,
  j.run_at, j.updated_at, j.last_error, r.id AS record_id, r.topic, r.app_id, r.notification_id, r.item_id,
  r.created_at, r.received_at`;
/** The columns of a record summary. */
export const RECORD_COLUMNS =
  "r.seq, r.id, r.queue, r.topic, r.app_id, r.notification_id, r.item_id, r.created_at, r.received_at";
/** A stored error (JSON text) as a {@link JobError}. */
export function parseError(text: string | null): JobError | null {
  return text === null ? null : (JSON.parse(text) as JobError);
}

/** SQL conditions built from a {@link JobFilter}. */
export interface Conditions {
  sql: string[];
  params: unknown[];
}

/** Finds the first record seq received at or after `t` minus slack (see `FIRST_SEQ_AT_SQL`), or null. */
export type SeqAt = (t: number) => number | null | undefined;

/** Adds the record conditions of `filter` (queue, topic pattern, ids, receive-time range). */
export function recordConditions(filter: JobFilter, c: Conditions): void {
  if (filter.queue !== undefined) {
    c.sql.push("r.queue = ?");
    c.params.push(filter.queue);
  }
  if (filter.topic !== undefined && filter.topic !== "*") {
    if (filter.topic.endsWith(".*")) {
      const prefix = filter.topic.slice(0, -1); // "group."
      c.sql.push("r.topic >= ? AND r.topic < ?");
      c.params.push(prefix, `${prefix.slice(0, -1)}/`); // '/' sorts right after '.'
    } else {
      c.sql.push("r.topic = ?");
      c.params.push(filter.topic);
    }
  }
  for (const [field, column] of [
    ["appId", "app_id"],
    ["notificationId", "notification_id"],
    ["itemId", "item_id"],
    ["recordId", "id"],
  ] as const) {
    const value = filter[field];
    if (value !== undefined) {
      c.sql.push(`r.${column} = ?`);
      c.params.push(value);
    }
  }
  if (filter.since !== undefined) {
    c.sql.push("r.received_at >= ?");
    c.params.push(filter.since);
  }
  if (filter.until !== undefined) {
    c.sql.push("r.received_at < ?");
    c.params.push(filter.until);
  }
}

/** Record-seq bounds implied by `since`/`until`, so keyset scans stop early instead of filtering every row. */
export function seqBounds(filter: JobFilter, column: string, c: Conditions, seqAt: SeqAt): void {
  if (filter.since !== undefined) {
    const seq = seqAt(filter.since - SEQ_BOUND_SLACK_MS);
    c.sql.push(`${column} >= ?`);
    c.params.push(seq ?? Number.MAX_SAFE_INTEGER);
  }
  if (filter.until !== undefined) {
    const seq = seqAt(filter.until + SEQ_BOUND_SLACK_MS);
    if (seq !== undefined && seq !== null) {
      c.sql.push(`${column} < ?`);
      c.params.push(seq);
    }
  }
}

/** Whether a filter names one record (or a few) by id, so any access path is fast. */
export function isRecordSelective(filter: JobFilter): boolean {
  return filter.recordId !== undefined || filter.notificationId !== undefined || filter.itemId !== undefined;
}

/**
 * How to read `records` newest first for a filter: an index that yields rows already in `seq` order, or the
 * rowid itself (`NOT INDEXED`). Without this the planner may pick an equality index and sort a million rows.
 */
export function recordAccess(filter: JobFilter): string {
  if (isRecordSelective(filter)) return "";
  const isExactTopic = filter.topic !== undefined && filter.topic !== "*" && !filter.topic.endsWith(".*");
  if (isExactTopic && filter.queue !== undefined) return "INDEXED BY records_topic";
  if (filter.appId !== undefined) return "INDEXED BY records_app";
  return "NOT INDEXED";
}

/** The conditions of a count or bulk update over jobs joined with records. */
export function jobConditions(filter: JobFilter, seqAt: SeqAt): Conditions {
  const c: Conditions = { sql: [], params: [] };
  recordConditions(filter, c);
  seqBounds(filter, "j.record_seq", c, seqAt);
  const states = filterStates(filter);
  if (states) {
    c.sql.push(`j.state IN (${states.map(() => "?").join(", ")})`);
    c.params.push(...states);
  }
  if (filter.queue !== undefined) {
    c.sql.push("j.queue = ?");
    c.params.push(filter.queue);
  }
  if (filter.target !== undefined) {
    c.sql.push("j.target = ?");
    c.params.push(filter.target);
  }
  return c;
}

/** A row as an operator sees it. */
export function summaryOf(row: JobRow): JobSummary {
  return {
    id: jobIdOf(row.record_id, row.idx),
    queue: row.queue,
    recordId: row.record_id,
    target: row.target,
    state: row.state,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    topic: row.topic,
    appId: row.app_id,
    notificationId: row.notification_id,
    itemId: row.item_id,
    createdAt: row.created_at,
    receivedAt: row.received_at,
    runAt: row.state === "pending" || row.state === "failed" ? row.run_at : null,
    updatedAt: row.updated_at,
    lastError: parseError(row.last_error),
  };
}

/** The keyset position a job-list cursor encodes. */
export function decodeJobCursor(cursor: string | undefined): [number, number] | null {
  if (cursor === undefined) return null;
  const [seq, idx] = decodeCursor(cursor);
  if (typeof seq !== "number" || typeof idx !== "number")
    throw new ConfigError("cursor is not a cursor returned by a previous page");
  return [seq, idx];
}
