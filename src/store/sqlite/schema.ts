/**
 * The SQLite schema as the code sees it: the row shape of `records`, and the SQL fragments both the read side
 * (`reader.ts`, `query.ts`) and the write side (`sqlite-writer.ts`) use (ordering-key heads, the next due time, the
 * record-seq probe by receive time). Pure strings and row mapping: runs nothing, imports only types.
 */
import type { QueueName, RecordWithId } from "../../delivery/types.js";

/** A row of `records` as stored. */
export interface RecordRow {
  seq: number;
  id: string;
  queue: QueueName;
  topic: string;
  app_id: string | null;
  notification_id: string | null;
  item_id: string | null;
  created_at: number;
  received_at: number;
  headers: string | null;
  /** Text; a BLOB of the exact bytes when the body is not valid UTF-8 (see `bodyBase64`). */
  body: string | Buffer;
}

/**
 * "The job is active" (pending, failed or running) as `jobs_order`'s predicate spells it (migration 0004), for the
 * `state` column `column`: a query must say it this way for the planner to use that index. Do not write it as a
 * three-value IN list (see the migration).
 */
export function activeSql(column = "state"): string {
  return `${column} NOT IN ('done', 'dead')`;
}

/** Earliest due time of the waiting jobs of queue (bound twice): the smaller minimum of the two `jobs_due` ranges. */
export const NEXT_RUN_AT_SQL = `SELECT min(t) FROM (SELECT min(run_at) AS t FROM jobs WHERE queue = ? AND is_head = 1 AND state IN ('pending', 'failed')
  UNION ALL SELECT min(run_at) FROM jobs WHERE queue = ? AND is_head = 0 AND state IN ('pending', 'failed'))`;

/** Recomputes `is_head` for the active jobs of one ordering key (after jobs re-entered it: requeue). */
export const RECOMPUTE_HEADS_SQL = `UPDATE jobs SET is_head = NOT EXISTS (SELECT 1 FROM jobs e WHERE e.queue = jobs.queue
    AND e.ordering_key = jobs.ordering_key AND ${activeSql("e.state")}
    AND (e.order_created_at, e.order_received_at, e.seq) < (jobs.order_created_at, jobs.order_received_at, jobs.seq))
  WHERE queue = ? AND ordering_key = ? AND ${activeSql()}`;

/** Converts a stored row to the record the contract returns. */
export function toRecord(r: RecordRow): RecordWithId {
  const record: RecordWithId = {
    id: r.id,
    queue: r.queue,
    topic: r.topic,
    body: typeof r.body === "string" ? r.body : r.body.toString("utf8"),
    appId: r.app_id,
    notificationId: r.notification_id,
    itemId: r.item_id,
    createdAt: r.created_at,
    receivedAt: r.received_at,
  };
  if (typeof r.body !== "string") record.bodyBase64 = r.body.toString("base64");
  if (r.headers !== null) record.headers = JSON.parse(r.headers) as Record<string, string>;
  return record;
}

/** Received-time slack when turning a time into a record-seq bound (batches from several processes interleave). */
export const SEQ_BOUND_SLACK_MS = 10_000;

/** The first record seq received at or after `@t`: one probe per queue through records_received. */
export const FIRST_SEQ_AT_SQL = `SELECT min(seq) FROM (
  SELECT * FROM (SELECT seq FROM records WHERE queue = 'inbound' AND received_at >= @t ORDER BY received_at LIMIT 1)
  UNION ALL
  SELECT * FROM (SELECT seq FROM records WHERE queue = 'outbox' AND received_at >= @t ORDER BY received_at LIMIT 1))`;
