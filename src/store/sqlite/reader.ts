/**
 * The SQLite store's operator read model: lists, counts, single deliveries and records, statistics and the receive
 * histogram, as synchronous reads on the store's connection (the store class maps driver errors and a closed store).
 * Queries come from `query.ts`; nothing here writes. Must not import the store class or the writer thread.
 */
import type { Database as Db, Statement } from "better-sqlite3";
import { ConfigError } from "../../core/errors.js";
import { JOB_STATES } from "../../delivery/types.js";
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
  RecordWithId,
} from "../../delivery/types.js";
import {
  decodeCursor,
  emptyStats,
  encodeCursor,
  filterStates,
  pageLimit,
  parseJobId,
  QUEUE_NAMES,
} from "../job-helpers.js";
import {
  decodeJobCursor,
  isRecordSelective,
  JOB_COLUMNS,
  jobConditions,
  parseError,
  RECORD_COLUMNS,
  recordAccess,
  recordConditions,
  seqBounds,
  summaryOf,
  type Conditions,
  type JobRow,
  type SeqAt,
} from "./query.js";
import { FIRST_SEQ_AT_SQL, NEXT_RUN_AT_SQL, toRecord, type RecordRow } from "./schema.js";

/** Reads of the operator side; see the file comment. */
export class SqliteReader {
  private readonly dynamic = new Map<string, Statement>();
  private readonly s: ReturnType<SqliteReader["prepare"]>;
  /** See {@link SeqAt}. */
  readonly seqAt: SeqAt;

  constructor(private readonly db: Db) {
    this.s = this.prepare();
    this.seqAt = (t) => this.s.firstSeqAt.get({ t }) as number | null | undefined;
  }

  private prepare() {
    const db = this.db;
    return {
      recordBySeq: db.prepare("SELECT * FROM records WHERE seq = ?"),
      recordById: db.prepare("SELECT * FROM records WHERE id = ?"),
      nextRunAt: db.prepare(NEXT_RUN_AT_SQL).pluck(),
      jobById: db.prepare(
        `SELECT ${JOB_COLUMNS} FROM records r JOIN jobs j ON j.record_seq = r.seq WHERE r.id = ? AND j.idx = ?`,
      ),
      jobsOfRecord: db.prepare(
        `SELECT ${JOB_COLUMNS} FROM records r JOIN jobs j ON j.record_seq = r.seq WHERE r.seq = ? ORDER BY j.idx`,
      ),
      attemptsOf: db.prepare("SELECT * FROM attempts WHERE job_seq = ? ORDER BY rowid"),
      counts: db.prepare("SELECT queue, state, count(*) AS n FROM jobs GROUP BY queue, state"),
      firstSeqAt: db.prepare(FIRST_SEQ_AT_SQL).pluck(),
      histogram: db.prepare(
        `SELECT CAST(@since + CAST((received_at - @since) / @bucket AS INTEGER) * @bucket AS INTEGER) AS bucket_start, topic, count(*) AS n
         FROM records WHERE queue = @queue AND received_at >= @since GROUP BY bucket_start, topic ORDER BY bucket_start, topic`,
      ),
    };
  }

  /** A prepared statement for generated SQL, cached by its text. */
  statement(sql: string): Statement {
    let st = this.dynamic.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.dynamic.set(sql, st);
    }
    return st;
  }

  /**
   * Jobs matching `filter`, newest record first, after the keyset position `after` ([record seq, idx]).
   * Without a selective record filter this runs one index-ordered query per (queue, state) and merges them, so a
   * page never sorts the whole table.
   */
  jobRows(filter: JobFilter, after: readonly [number, number] | null, limit: number): JobRow[] {
    const base: Conditions = { sql: [], params: [] };
    recordConditions(filter, base);
    seqBounds(filter, "j.record_seq", base, this.seqAt);
    if (filter.target !== undefined) {
      base.sql.push("j.target = ?");
      base.params.push(filter.target);
    }
    if (after) {
      base.sql.push("(j.record_seq, j.idx) < (?, ?)");
      base.params.push(after[0], after[1]);
    }
    const states = filterStates(filter) ?? JOB_STATES;
    if (isRecordSelective(filter) || filter.state === undefined) {
      const c: Conditions = { sql: [...base.sql], params: [...base.params] };
      if (filter.state !== undefined) {
        c.sql.push(`j.state IN (${states.map(() => "?").join(", ")})`);
        c.params.push(...states);
      }
      if (after) {
        c.sql.push("r.seq <= ?");
        c.params.push(after[0]);
      }
      // CROSS JOIN keeps records as the outer loop, read newest first through an order-preserving access path.
      const sql = `SELECT ${JOB_COLUMNS} FROM records r ${recordAccess(filter)} CROSS JOIN jobs j ON j.record_seq = r.seq
        ${c.sql.length > 0 ? `WHERE ${c.sql.join(" AND ")}` : ""} ORDER BY r.seq DESC, j.idx DESC LIMIT ?`;
      return this.statement(sql).all(...c.params, limit) as JobRow[];
    }
    const queues = filter.queue !== undefined ? [filter.queue] : QUEUE_NAMES;
    const where = base.sql.length > 0 ? ` AND ${base.sql.join(" AND ")}` : "";
    const sql = `SELECT ${JOB_COLUMNS} FROM jobs j INDEXED BY jobs_state CROSS JOIN records r ON r.seq = j.record_seq
      WHERE j.queue = ? AND j.state = ?${where} ORDER BY j.record_seq DESC, j.idx DESC LIMIT ?`;
    const st = this.statement(sql);
    const rows: JobRow[] = [];
    for (const q of queues)
      for (const state of states) rows.push(...(st.all(q, state, ...base.params, limit) as JobRow[]));
    rows.sort((a, b) => b.record_seq - a.record_seq || b.idx - a.idx);
    return rows.slice(0, limit);
  }

  private detailOf(row: JobRow, record: RecordWithId): JobDetail {
    const history = (
      this.s.attemptsOf.all(row.j_seq) as {
        attempt: number;
        started_at: number;
        finished_at: number;
        outcome: AttemptRecord["outcome"];
        error: string | null;
        worker: string | null;
      }[]
    ).map((a) => {
      const entry: AttemptRecord = {
        attempt: a.attempt,
        startedAt: a.started_at,
        finishedAt: a.finished_at,
        outcome: a.outcome,
      };
      const error = parseError(a.error);
      if (error) entry.error = error;
      if (a.worker !== null) entry.worker = a.worker;
      return entry;
    });
    return { ...summaryOf(row), record, history };
  }

  /** See {@link StoreReader.listJobs}. Keyset pagination over (record seq, delivery index). */
  listJobs(filter: JobFilter): Page<JobSummary> {
    const limit = pageLimit(filter);
    const rows = this.jobRows(filter, decodeJobCursor(filter.cursor), limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => summaryOf(r)),
      nextCursor: rows.length > limit && last ? encodeCursor([last.record_seq, last.idx]) : null,
    };
  }

  /** See {@link StoreReader.listRecords}. Keyset pagination over the record seq. */
  listRecords(filter: JobFilter): Page<RecordSummary> {
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
        const rows = this.jobRows(filter, after, chunk);
        for (const row of rows)
          if (seqs.at(-1) !== row.record_seq && seqs.length < limit + 1) seqs.push(row.record_seq);
        const last = rows.at(-1);
        if (rows.length < chunk || !last) break;
        after = [last.record_seq, last.idx];
      }
    } else {
      const c: Conditions = { sql: [], params: [] };
      recordConditions(filter, c);
      seqBounds(filter, "r.seq", c, this.seqAt);
      if (before !== null) {
        c.sql.push("r.seq < ?");
        c.params.push(before);
      }
      const where = c.sql.length > 0 ? `WHERE ${c.sql.join(" AND ")}` : "";
      const sql = `SELECT r.seq FROM records r ${recordAccess(filter)} ${where} ORDER BY r.seq DESC LIMIT ?`;
      seqs = this.statement(sql)
        .pluck()
        .all(...c.params, limit + 1) as number[];
    }
    const page = seqs.slice(0, limit);
    const recordSt = this.statement(`SELECT ${RECORD_COLUMNS} FROM records r WHERE r.seq = ?`);
    const items = page.map((seq) => {
      const r = recordSt.get(seq) as Omit<RecordRow, "headers" | "body">;
      return {
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
        jobs: (this.s.jobsOfRecord.all(seq) as JobRow[]).map((j) => summaryOf(j)),
      };
    });
    const last = page.at(-1);
    return { items, nextCursor: seqs.length > limit && last !== undefined ? encodeCursor([last]) : null };
  }
  /** See {@link StoreReader.countJobs}. */
  countJobs(filter: JobFilter): number {
    // One count per queue, so the (queue, state, …) index applies even when the filter names no queue.
    let total = 0;
    for (const queue of filter.queue !== undefined ? [filter.queue] : QUEUE_NAMES) {
      const c = jobConditions({ ...filter, queue }, this.seqAt);
      const sql = `SELECT count(*) FROM jobs j JOIN records r ON r.seq = j.record_seq WHERE ${c.sql.join(" AND ")}`;
      total += this.statement(sql)
        .pluck()
        .get(...c.params) as number;
    }
    return total;
  }
  /** See {@link StoreReader.getJob}. */
  getJob(id: JobId): JobDetail | undefined {
    const parsed = parseJobId(id);
    if (!parsed) return undefined;
    const row = this.s.jobById.get(parsed.recordId, parsed.index) as JobRow | undefined;
    if (!row) return undefined;
    const r = this.s.recordBySeq.get(row.record_seq) as RecordRow;
    return this.detailOf(row, toRecord(r));
  }

  /** See {@link StoreReader.getRecord}. */
  getRecord(recordId: string): RecordDetail | undefined {
    const r = this.s.recordById.get(recordId) as RecordRow | undefined;
    if (!r) return undefined;
    const record = toRecord(r);
    const jobs = (this.s.jobsOfRecord.all(r.seq) as JobRow[]).map((row) => this.detailOf(row, { ...record }));
    return { record, jobs };
  }
  /** See {@link StoreReader.stats}. */
  stats(): QueueStats {
    const stats = emptyStats();
    for (const row of this.s.counts.all() as { queue: QueueName; state: JobState; n: number }[]) {
      if (row.queue in stats.counts && row.state in stats.counts[row.queue]) stats.counts[row.queue][row.state] = row.n;
    }
    for (const q of QUEUE_NAMES) stats.oldestDueAt[q] = (this.s.nextRunAt.get(q, q) as number | null) ?? null;
    return stats;
  }

  /** See {@link StoreReader.receivedHistogram}: the buckets of `shared/histogram.ts`, computed in SQL. */
  receivedHistogram(queue: QueueName, sinceMs: number, bucketMs: number): ReceivedBucket[] {
    return (
      this.s.histogram.all({ queue, since: Math.floor(sinceMs), bucket: Math.max(1, Math.floor(bucketMs)) }) as {
        bucket_start: number;
        topic: string;
        n: number;
      }[]
    ).map((r) => ({ bucketStart: r.bucket_start, topic: r.topic, count: r.n }));
  }
}
