/**
 * The operator read model of the PostgreSQL store: list, count and get deliveries and records, statistics and the
 * received-per-bucket histogram, for the CLI, the dashboard and `/metrics`. Pages are keyset-paginated newest first
 * over (record seq, delivery index), and every filter maps onto an index that already yields rows in that order
 * (see README.md, and the plan test that EXPLAINs these statements over a million records), so page N costs what
 * page 1 does. The filter-to-SQL builder is also used by the admin writes (`requeueMany`).
 *
 * Internal to the PostgreSQL store.
 */
import type { Pool } from "pg";
import { ConfigError } from "../../core/errors.js";
import type {
  AttemptRecord,
  JobDetail,
  JobFilter,
  JobId,
  JobState,
  JobSummary,
  Page,
  QueueName,
  QueueStats,
  ReceivedBucket,
  RecordDetail,
  RecordSummary,
} from "../../delivery/types.js";
import { JOB_STATES } from "../../delivery/types.js";
import {
  decodeCursor,
  emptyStats,
  encodeCursor,
  filterStates,
  pageLimit,
  parseJobId,
  QUEUE_NAMES,
} from "../job-helpers.js";
import { JOB_COLUMNS, parseError, query, summaryOf, toRecord, type JobRow, type RecordRow } from "./sql.js";

/** Received-time slack when turning a time into a record-seq bound (instances' batches interleave). */
export const SEQ_BOUND_SLACK_MS = 10_000;

const RECORD_COLUMNS =
  "r.seq, r.id, r.queue, r.topic, r.app_id, r.notification_id, r.item_id, r.created_at, r.received_at";

/** Positional parameters of a statement being built. */
export class Params {
  readonly values: unknown[] = [];
  /** Adds a value; returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** A statement and its parameters (what the plan test EXPLAINs). */
export interface Statement {
  text: string;
  values: unknown[];
}

/** Reads over one schema. */
export class PgReader {
  constructor(
    private readonly pool: Pool,
    /** The quoted schema name. */
    private readonly s: string,
  ) {}

  /**
   * SQL conditions on `records r` for a filter (queue, topic or `group.*`, ids, receive time). `since`/`until`
   * also become bounds on `r.seq` and `seqColumn`, so scans in seq order (of either table) start and stop early.
   */
  async recordConditions(filter: JobFilter, p: Params, seqColumn: string): Promise<string[]> {
    const sql: string[] = [];
    if (filter.queue !== undefined) sql.push(`r.queue = ${p.add(filter.queue)}`);
    if (filter.topic !== undefined && filter.topic !== "*") {
      if (filter.topic.endsWith(".*")) {
        const prefix = filter.topic.slice(0, -1); // "group."
        // The column's collation is "C": a byte range, and '/' sorts right after '.'.
        sql.push(`r.topic >= ${p.add(prefix)} AND r.topic < ${p.add(`${prefix.slice(0, -1)}/`)}`);
      } else sql.push(`r.topic = ${p.add(filter.topic)}`);
    }
    for (const [field, column] of [
      ["appId", "app_id"],
      ["notificationId", "notification_id"],
      ["itemId", "item_id"],
      ["recordId", "id"],
    ] as const) {
      const value = filter[field];
      if (value !== undefined) sql.push(`r.${column} = ${p.add(value)}`);
    }
    if (filter.since !== undefined) {
      sql.push(`r.received_at >= ${p.add(filter.since)}`);
      const seq = p.add((await this.firstSeqAt(filter.since - SEQ_BOUND_SLACK_MS)) ?? Number.MAX_SAFE_INTEGER);
      for (const column of new Set([seqColumn, "r.seq"])) sql.push(`${column} >= ${seq}`);
    }
    if (filter.until !== undefined) {
      sql.push(`r.received_at < ${p.add(filter.until)}`);
      const first = await this.firstSeqAt(filter.until + SEQ_BOUND_SLACK_MS);
      if (first !== null) {
        const seq = p.add(first);
        for (const column of new Set([seqColumn, "r.seq"])) sql.push(`${column} < ${seq}`);
      }
    }
    return sql;
  }

  /** Conditions on `jobs j` joined with `records r` for a filter (record conditions, states, queue, target). */
  async jobConditions(filter: JobFilter, p: Params): Promise<string[]> {
    const sql = await this.recordConditions(filter, p, "j.record_seq");
    const states = filterStates(filter);
    if (states) sql.push(`j.state = ANY(${p.add(states)}::text[])`);
    // Naming both queues lets a state filter use jobs_state (queue, state, …) instead of reading every job.
    if (filter.queue !== undefined) sql.push(`j.queue = ${p.add(filter.queue)}`);
    else if (states) sql.push(`j.queue = ANY(${p.add(QUEUE_NAMES)}::text[])`);
    if (filter.target !== undefined) sql.push(`j.target = ${p.add(filter.target)}`);
    return sql;
  }

  /** The first record seq received at or after `t` (one index probe per queue), or null. */
  private async firstSeqAt(t: number): Promise<number | null> {
    const probe = (q: QueueName): string =>
      `(SELECT seq FROM ${this.s}.records WHERE queue = '${q}' AND received_at >= $1 ORDER BY received_at LIMIT 1)`;
    const [row] = await query<{ seq: number | null }>(
      this.pool,
      "list",
      `SELECT LEAST(${probe("inbound")}, ${probe("outbox")}) AS seq`,
      [t],
    );
    return row?.seq ?? null;
  }

  /**
   * The statement for jobs matching `filter`, newest record first, after keyset position `after`. With a state filter
   * (and no selective record filter) it is one index-ordered scan of `jobs_state` per queue × state, merged.
   */
  async jobRowsStatement(
    filter: JobFilter,
    after: readonly [number, number] | null,
    limit: number,
  ): Promise<Statement> {
    const p = new Params();
    const base = await this.recordConditions(filter, p, "j.record_seq");
    if (filter.target !== undefined) base.push(`j.target = ${p.add(filter.target)}`);
    if (after) {
      const seq = p.add(after[0]);
      // The bound on r.seq too: a merge join reading records newest first then starts at the cursor, not at the top.
      base.push(`(j.record_seq, j.idx) < (${seq}, ${p.add(after[1])})`, `r.seq <= ${seq}`);
    }
    const lim = p.add(limit);
    const order = "ORDER BY j.record_seq DESC, j.idx DESC";
    const isSelective =
      filter.recordId !== undefined || filter.notificationId !== undefined || filter.itemId !== undefined;
    if (filter.state === undefined || isSelective) {
      const c = [...base];
      const states = filterStates(filter);
      if (states) c.push(`j.state = ANY(${p.add(states)}::text[])`);
      if (filter.queue !== undefined) c.push(`j.queue = ${p.add(filter.queue)}`);
      const where = c.length > 0 ? `WHERE ${c.join(" AND ")}` : "";
      return {
        text: `SELECT ${JOB_COLUMNS} FROM ${this.s}.jobs j JOIN ${this.s}.records r ON r.seq = j.record_seq ${where} ${order} LIMIT ${lim}`,
        values: p.values,
      };
    }
    const parts: string[] = [];
    for (const q of filter.queue !== undefined ? [filter.queue] : QUEUE_NAMES) {
      for (const state of filterStates(filter) ?? JOB_STATES) {
        const c = [`j.queue = ${p.add(q)}`, `j.state = ${p.add(state)}`, ...base];
        parts.push(
          `(SELECT ${JOB_COLUMNS} FROM ${this.s}.jobs j JOIN ${this.s}.records r ON r.seq = j.record_seq
            WHERE ${c.join(" AND ")} ${order} LIMIT ${lim})`,
        );
      }
    }
    return {
      text: `SELECT * FROM (${parts.join(" UNION ALL ")}) x ORDER BY record_seq DESC, idx DESC LIMIT ${lim}`,
      values: p.values,
    };
  }

  private async jobRows(filter: JobFilter, after: readonly [number, number] | null, limit: number): Promise<JobRow[]> {
    const st = await this.jobRowsStatement(filter, after, limit);
    return query<JobRow>(this.pool, "list", st.text, st.values);
  }

  /** See {@link Store.listJobs}. */
  async listJobs(filter: JobFilter): Promise<Page<JobSummary>> {
    const limit = pageLimit(filter);
    let after: [number, number] | null = null;
    if (filter.cursor !== undefined) {
      const [seq, idx] = decodeCursor(filter.cursor);
      if (typeof seq !== "number" || typeof idx !== "number")
        throw new ConfigError("cursor is not a cursor returned by a previous page");
      after = [seq, idx];
    }
    const rows = await this.jobRows(filter, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(summaryOf),
      nextCursor: rows.length > limit && last ? encodeCursor([last.record_seq, last.idx]) : null,
    };
  }

  /** The statement listing record seqs for a filter without state or target (newest first, before `before`). */
  async recordSeqsStatement(filter: JobFilter, before: number | null, limit: number): Promise<Statement> {
    const p = new Params();
    const c = await this.recordConditions(filter, p, "r.seq");
    if (before !== null) c.push(`r.seq < ${p.add(before)}`);
    const where = c.length > 0 ? `WHERE ${c.join(" AND ")}` : "";
    return {
      text: `SELECT r.seq FROM ${this.s}.records r ${where} ORDER BY r.seq DESC LIMIT ${p.add(limit)}`,
      values: p.values,
    };
  }

  /** See {@link Store.listRecords}. */
  async listRecords(filter: JobFilter): Promise<Page<RecordSummary>> {
    const limit = pageLimit(filter);
    let before: number | null = null;
    if (filter.cursor !== undefined) {
      const [seq] = decodeCursor(filter.cursor);
      if (typeof seq !== "number") throw new ConfigError("cursor is not a cursor returned by a previous page");
      before = seq;
    }
    let seqs: number[];
    if (filter.state !== undefined || filter.target !== undefined) {
      // Walk matching jobs newest first and keep distinct records.
      seqs = [];
      let after: [number, number] | null = before === null ? null : [before, -1];
      const chunk = Math.max(64, (limit + 1) * 4);
      while (seqs.length < limit + 1) {
        const rows = await this.jobRows(filter, after, chunk);
        for (const row of rows)
          if (seqs.at(-1) !== row.record_seq && seqs.length < limit + 1) seqs.push(row.record_seq);
        const last = rows.at(-1);
        if (rows.length < chunk || !last) break;
        after = [last.record_seq, last.idx];
      }
    } else {
      const st = await this.recordSeqsStatement(filter, before, limit + 1);
      seqs = (await query<{ seq: number }>(this.pool, "list", st.text, st.values)).map((r) => r.seq);
    }
    const page = seqs.slice(0, limit);
    const records = await query<Omit<RecordRow, "headers" | "body">>(
      this.pool,
      "list",
      `SELECT ${RECORD_COLUMNS} FROM ${this.s}.records r WHERE r.seq = ANY($1::bigint[])`,
      [page],
    );
    const jobs = await query<JobRow>(
      this.pool,
      "list",
      `SELECT ${JOB_COLUMNS} FROM ${this.s}.jobs j JOIN ${this.s}.records r ON r.seq = j.record_seq
       WHERE j.record_seq = ANY($1::bigint[]) ORDER BY j.record_seq, j.idx`,
      [page],
    );
    const bySeq = new Map(records.map((r) => [r.seq, r]));
    const jobsOf = new Map<number, JobSummary[]>();
    for (const j of jobs) {
      let list = jobsOf.get(j.record_seq);
      if (!list) jobsOf.set(j.record_seq, (list = []));
      list.push(summaryOf(j));
    }
    const items = page.flatMap((seq): RecordSummary[] => {
      const r = bySeq.get(seq);
      if (!r) return []; // deleted by retention meanwhile
      return [
        {
          record: {
            id: r.id,
            queue: r.queue,
            topic: r.topic,
            appId: r.app_id,
            notificationId: r.notification_id,
            itemId: r.item_id,
            createdAt: r.created_at,
            receivedAt: r.received_at,
          },
          jobs: jobsOf.get(seq) ?? [],
        },
      ];
    });
    const last = page.at(-1);
    return { items, nextCursor: seqs.length > limit && last !== undefined ? encodeCursor([last]) : null };
  }

  /** See {@link Store.countJobs}. */
  async countJobs(filter: JobFilter): Promise<number> {
    const p = new Params();
    const c = await this.jobConditions(filter, p);
    const where = c.length > 0 ? `WHERE ${c.join(" AND ")}` : "";
    const [row] = await query<{ n: number }>(
      this.pool,
      "count",
      `SELECT count(*) AS n FROM ${this.s}.jobs j JOIN ${this.s}.records r ON r.seq = j.record_seq ${where}`,
      p.values,
    );
    return row?.n ?? 0;
  }

  /** See {@link Store.getJob}. */
  async getJob(id: JobId): Promise<JobDetail | undefined> {
    const parsed = parseJobId(id);
    if (!parsed) return undefined;
    const [row] = await query<JobRow>(
      this.pool,
      "getJob",
      `SELECT ${JOB_COLUMNS} FROM ${this.s}.records r JOIN ${this.s}.jobs j ON j.record_seq = r.seq
       WHERE r.id = $1 AND j.idx = $2`,
      [parsed.recordId, parsed.index],
    );
    if (!row) return undefined;
    const [record] = await query<RecordRow>(this.pool, "getJob", `SELECT * FROM ${this.s}.records WHERE seq = $1`, [
      row.record_seq,
    ]);
    if (!record) return undefined;
    const history = await this.historyOf([row.j_seq]);
    return { ...summaryOf(row), record: toRecord(record), history: history.get(row.j_seq) ?? [] };
  }

  /** See {@link Store.getRecord}. */
  async getRecord(recordId: string): Promise<RecordDetail | undefined> {
    const [r] = await query<RecordRow>(this.pool, "getRecord", `SELECT * FROM ${this.s}.records WHERE id = $1`, [
      recordId,
    ]);
    if (!r) return undefined;
    const record = toRecord(r);
    const rows = await query<JobRow>(
      this.pool,
      "getRecord",
      `SELECT ${JOB_COLUMNS} FROM ${this.s}.records r JOIN ${this.s}.jobs j ON j.record_seq = r.seq
       WHERE r.seq = $1 ORDER BY j.idx`,
      [r.seq],
    );
    const history = await this.historyOf(rows.map((j) => j.j_seq));
    const jobs = rows.map((row): JobDetail => ({
      ...summaryOf(row),
      record: { ...record },
      history: history.get(row.j_seq) ?? [],
    }));
    return { record, jobs };
  }

  private async historyOf(jobSeqs: readonly number[]): Promise<Map<number, AttemptRecord[]>> {
    const rows = await query<{
      job_seq: number;
      attempt: number;
      started_at: number;
      finished_at: number;
      outcome: AttemptRecord["outcome"];
      error: string | null;
      worker: string | null;
    }>(
      this.pool,
      "history",
      `SELECT * FROM ${this.s}.attempts WHERE job_seq = ANY($1::bigint[]) ORDER BY job_seq, seq`,
      [jobSeqs],
    );
    const out = new Map<number, AttemptRecord[]>();
    for (const a of rows) {
      const entry: AttemptRecord = {
        attempt: a.attempt,
        startedAt: a.started_at,
        finishedAt: a.finished_at,
        outcome: a.outcome,
      };
      const error = parseError(a.error);
      if (error) entry.error = error;
      if (a.worker !== null) entry.worker = a.worker;
      let list = out.get(a.job_seq);
      if (!list) out.set(a.job_seq, (list = []));
      list.push(entry);
    }
    return out;
  }

  /** See {@link Store.stats}. */
  async stats(): Promise<QueueStats> {
    const stats = emptyStats();
    const rows = await query<{ queue: QueueName; state: JobState; n: number }>(
      this.pool,
      "stats",
      `SELECT queue, state, count(*) AS n FROM ${this.s}.jobs GROUP BY queue, state`,
    );
    for (const row of rows) {
      if (row.queue in stats.counts && row.state in stats.counts[row.queue]) stats.counts[row.queue][row.state] = row.n;
    }
    const due = await query<{ queue: QueueName; next: number | null }>(
      this.pool,
      "stats",
      `SELECT q AS queue, (SELECT min(run_at) FROM ${this.s}.jobs WHERE queue = q AND state IN ('pending', 'failed')) AS next
       FROM unnest($1::text[]) AS q`,
      [QUEUE_NAMES],
    );
    for (const row of due) stats.oldestDueAt[row.queue] = row.next;
    return stats;
  }

  /** See {@link Store.receivedHistogram}. */
  async receivedHistogram(queue: QueueName, sinceMs: number, bucketMs: number): Promise<ReceivedBucket[]> {
    const rows = await query<{ bucket_start: number; topic: string; n: number }>(
      this.pool,
      "receivedHistogram",
      `SELECT $2::bigint + ((received_at - $2::bigint) / $3::bigint) * $3::bigint AS bucket_start, topic, count(*) AS n
       FROM ${this.s}.records WHERE queue = $1 AND received_at >= $2::bigint
       GROUP BY 1, 2 ORDER BY 1, 2`,
      [queue, Math.floor(sinceMs), Math.max(1, Math.floor(bucketMs))],
    );
    return rows.map((r) => ({ bucketStart: r.bucket_start, topic: r.topic, count: r.n }));
  }
}
