/**
 * Small shared pieces of the PostgreSQL store: schema-name checks and quoting, the one query function every module
 * goes through (it reads `bigint` columns as numbers without touching the driver's global type parsers, and turns
 * driver failures into {@link StoreError}), and the row types with their conversion to the contract's records.
 *
 * Internal to the PostgreSQL store (which is the only part of the package that imports `pg`).
 */
import { createHash } from "node:crypto";
import pg from "pg";
import type { Pool, PoolClient, QueryResultRow } from "pg";
import { ConfigError, StoreError } from "../../core/errors.js";
import type { JobError, JobState, JobSummary, QueueName, RecordWithId } from "../../delivery/types.js";
import { jobIdOf } from "../job-helpers.js";

/** Something a query can run on: the pool (one statement, autocommit) or a checked-out client (a transaction). */
export type Queryable = Pool | PoolClient;

/** Default schema of the store's tables. */
export const DEFAULT_SCHEMA = "intercom_bridge";

/** Checks a schema name: a plain identifier, so it can be quoted without surprises. */
export function checkSchemaName(schema: string): string {
  if (typeof schema !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigError(
      `PostgreSQL schema "${String(schema)}" is not a plain identifier: use letters, digits and _ (at most 63, not starting with a digit)`,
    );
  }
  return schema;
}

/** Quotes an identifier checked by {@link checkSchemaName}. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * Per-query type parsers: `bigint` (epoch ms, sequence numbers, counts) as JavaScript numbers, which is exact up to
 * 2^53. Passed with each query, so an application's own `pg` settings stay as they are.
 */
const TYPES = {
  getTypeParser(oid: number, format?: string): (value: string) => unknown {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, (format ?? "text") as "text") as (value: string) => unknown;
  },
};

/**
 * Runs one statement and returns its rows; driver errors become {@link StoreError}s that say what failed (never the
 * connection string).
 */
export async function query<R extends QueryResultRow>(
  db: Queryable,
  what: string,
  sql: string | Prepared,
  values: readonly unknown[] = [],
): Promise<R[]> {
  try {
    const result = await db.query<R>(
      typeof sql === "string"
        ? { text: sql, values: values as unknown[], types: TYPES }
        : { text: sql.text, name: sql.name, values: values as unknown[], types: TYPES },
    );
    return result.rows;
  } catch (error) {
    throw wrap(error, what);
  }
}

/** A statement the driver prepares once per connection (parsed and planned once, then only executed). */
export interface Prepared {
  text: string;
  /** Derived from the text, so two stores on different schemas never share a name. */
  name: string;
}

/** Names a hot, fixed statement so each connection prepares it once. */
export function prepared(text: string): Prepared {
  return { text, name: `ib_${createHash("sha1").update(text).digest("hex").slice(0, 32)}` };
}

/** Wraps a driver error in a {@link StoreError} (errors that already are one, or a {@link ConfigError}, pass). */
export function wrap(error: unknown, what: string): Error {
  if (error instanceof StoreError || error instanceof ConfigError) return error;
  return new StoreError(`PostgreSQL ${what} failed: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}

/** Runs `fn` in one transaction on a client of `pool`; rolls back (and discards a broken connection) on failure. */
export async function transaction<T>(pool: Pool, what: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw wrap(error, what);
  }
  // A checked-out client reports a broken connection as an 'error' event too (the pool listens only while it is
  // idle); the query that was running gets the same error, so the event itself needs no more than a listener.
  const onError = (): void => undefined;
  client.on("error", onError);
  let broken: Error | undefined;
  try {
    await query(client, what, "BEGIN");
    const result = await fn(client);
    await query(client, what, "COMMIT");
    return result;
  } catch (error) {
    try {
      await client.query("ROLLBACK");
    } catch (rollbackError) {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw wrap(error, what);
  } finally {
    client.removeListener("error", onError);
    client.release(broken);
  }
}

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
  body: string;
  /** The exact bytes, base64, of a body that is not valid UTF-8; NULL otherwise (absent from summary queries). */
  body_base64?: string | null;
}

/** Converts a stored row to the record the contract returns. */
export function toRecord(r: RecordRow): RecordWithId {
  const record: RecordWithId = {
    id: r.id,
    queue: r.queue,
    topic: r.topic,
    body: r.body,
    appId: r.app_id,
    notificationId: r.notification_id,
    itemId: r.item_id,
    createdAt: r.created_at,
    receivedAt: r.received_at,
  };
  if (r.headers !== null) record.headers = JSON.parse(r.headers) as Record<string, string>;
  if (r.body_base64 !== undefined && r.body_base64 !== null) record.bodyBase64 = r.body_base64;
  return record;
}

/** A job joined with its record's summary columns ({@link JOB_COLUMNS}). */
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

/** The select list of a {@link JobRow} from `jobs j` joined with `records r`. */
export const JOB_COLUMNS = `j.seq AS j_seq, j.record_seq, j.idx, j.queue, j.target, j.state, j.attempts, j.max_attempts,
  j.run_at, j.updated_at, j.last_error, r.id AS record_id, r.topic, r.app_id, r.notification_id, r.item_id,
  r.created_at, r.received_at`;

/** Parses a stored error. */
export function parseError(text: string | null): JobError | null {
  return text === null ? null : (JSON.parse(text) as JobError);
}

/** What operators see of one delivery row. */
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
