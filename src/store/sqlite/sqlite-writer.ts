/**
 * The write side of the SQLite store: group-committed enqueues and the processor's claim / settle / renew
 * transactions. It runs either on the store's own connection (in-process) or inside the writer thread
 * (`writer-thread.ts`), which owns a second connection so the event loop keeps serving HTTP while a commit waits for
 * its fsync.
 *
 * Internal: not exported from the package entry.
 */
import type { Database as Db } from "better-sqlite3";
import { systemClock, type Clock } from "../../core/clock.js";
import { StoreError } from "../../core/errors.js";
import type { JobId, QueueName, RecordWithId } from "../../delivery/types.js";
import { createRecordIdGenerator, jobIdOf, parseJobId } from "../job-helpers.js";
import { decideLeaseExpired } from "../../delivery/outcome.js";
import {
  type ClaimedJob,
  type ExchangeRequest,
  type ExchangeResult,
  type Settlement,
} from "../../delivery/lease-loop.js";
import type { DeliveryInput, EnqueueInput, EnqueueResult } from "../store.js";
import {
  activeSql,
  FIRST_SEQ_AT_SQL,
  NEXT_RUN_AT_SQL,
  SEQ_BOUND_SLACK_MS,
  toRecord,
  type RecordRow,
} from "./schema.js";

interface ClaimRow {
  seq: number;
  record_seq: number;
  idx: number;
  target: string;
  attempts: number;
  max_attempts: number;
  backoff_type: "fixed" | "exponential";
  backoff_delay_ms: number;
  backoff_jitter: number | null;
  backoff_max_ms: number | null;
}

/** One enqueue's outcome inside a batch: its result, or the message of the error that failed it alone. */
export type BatchOutcome = EnqueueResult | { error: string };

/** Options of {@link SqliteWriter}. */
export interface SqliteWriterOptions {
  /** `synchronous` of enqueue commits. */
  synchronous: "FULL" | "NORMAL";
  /** `synchronous` of claim / settle / renew commits. */
  processingSynchronous: "FULL" | "NORMAL";
  clock?: Clock;
}

function workerOf(token: string | null): string | undefined {
  if (token === null) return undefined;
  const slash = token.indexOf("/");
  return slash < 0 ? token : token.slice(0, slash);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The write transactions of the SQLite store over one connection. */
export class SqliteWriter {
  private readonly clock: Clock;
  private readonly nextRecordId = createRecordIdGenerator();
  private tokenSeq = 0;
  /** jobId → seq for jobs claimed through this writer, so settlements need no lookup. */
  private readonly leased = new Map<string, number>();
  private readonly s: ReturnType<typeof prepareWrites>;
  /** `PRAGMA synchronous` texts to switch to for processor transactions and back, or null when they are the same. */
  private readonly syncPragmas: { processing: string; enqueue: string } | null;
  private readonly batchFast: (items: readonly EnqueueInput[], now: number) => EnqueueResult[];
  private readonly batchIsolated: (items: readonly EnqueueInput[], now: number) => BatchOutcome[];
  private readonly one: (input: EnqueueInput, now: number) => EnqueueResult;

  constructor(
    private readonly db: Db,
    options: SqliteWriterOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.s = prepareWrites(db);
    this.syncPragmas =
      options.synchronous === options.processingSynchronous
        ? null
        : {
            processing: `PRAGMA synchronous = ${options.processingSynchronous}`,
            enqueue: `PRAGMA synchronous = ${options.synchronous}`,
          };
    this.one = db.transaction((input: EnqueueInput, now: number) => this.insertOne(input, now));
    const fast = db.transaction((items: readonly EnqueueInput[], now: number) =>
      items.map((input) => this.insertOne(input, now)),
    );
    this.batchFast = (items, now) => fast.immediate(items, now);
    const isolated = db.transaction((items: readonly EnqueueInput[], now: number) =>
      items.map((input): BatchOutcome => {
        try {
          // Nested transaction = SAVEPOINT: a failing item rolls back alone.
          return this.one(input, now);
        } catch (error) {
          return { error: messageOf(error) };
        }
      }),
    );
    this.batchIsolated = (items, now) => isolated.immediate(items, now);
  }

  /**
   * Stores a batch in one `BEGIN IMMEDIATE` transaction (one commit, one fsync). Items normally need no savepoint
   * each; only when one fails is the batch run again with a savepoint per item, so that item fails alone.
   * @throws when the transaction itself cannot run (lock timeout, broken file): every item fails.
   */
  enqueueBatch(items: readonly EnqueueInput[], now: number = this.clock.now()): BatchOutcome[] {
    if (items.length === 0) return [];
    try {
      return this.batchFast(items, now);
    } catch (error) {
      if (items.length === 1) return [{ error: messageOf(error) }];
      if (this.db.inTransaction) throw error;
      return this.batchIsolated(items, now);
    }
  }

  private insertOne(input: EnqueueInput, now: number): EnqueueResult {
    const { record } = input;
    const id = this.nextRecordId(now);
    const upsert = this.s.dedupeUpsert.run(record.queue, input.dedupeKey, id, now + input.dedupeTtlMs, now);
    if (upsert.changes === 0) {
      const existing = this.s.dedupeGet.get(record.queue, input.dedupeKey) as string | undefined;
      return { status: "duplicate", recordId: existing ?? null };
    }
    const info = this.s.insertRecord.run(
      id,
      record.queue,
      record.topic,
      record.appId,
      record.notificationId,
      record.itemId,
      record.createdAt,
      now,
      record.headers === undefined ? null : JSON.stringify(record.headers),
      // The exact bytes as a BLOB when the text is not them (a body that is not valid UTF-8).
      record.bodyBase64 === undefined ? record.body : Buffer.from(record.bodyBase64, "base64"),
    );
    const recordSeq = Number(info.lastInsertRowid);
    const jobIds = this.insertJobs(recordSeq, id, record.queue, record.createdAt, now, 0, input.deliveries);
    return { status: "enqueued", recordId: id, jobIds };
  }

  /** Inserts one job per delivery, numbered from `firstIdx`. Call inside a transaction. */
  insertJobs(
    recordSeq: number,
    recordId: string,
    queue: QueueName,
    createdAt: number,
    receivedAt: number,
    firstIdx: number,
    deliveries: readonly DeliveryInput[],
  ): JobId[] {
    const now = this.clock.now();
    const ids: JobId[] = [];
    deliveries.forEach((d, i) => {
      const idx = firstIdx + i;
      const b = d.retry.backoff;
      // The new job heads its ordering key when no active job of the key comes before it (tuples never change,
      // and a new job's seq is the largest, so only (created, received) decide).
      let isHead = 1;
      if (d.orderingKey !== null) {
        const head = this.s.headOf.get(queue, d.orderingKey) as { seq: number; c: number; r: number } | undefined;
        if (head) {
          if (createdAt < head.c || (createdAt === head.c && receivedAt < head.r)) this.s.setHead.run(0, head.seq);
          else isHead = 0;
        }
      }
      this.s.insertJob.run(
        recordSeq,
        idx,
        queue,
        d.target,
        d.orderingKey,
        createdAt,
        receivedAt,
        d.retry.maxAttempts,
        b.type,
        b.delayMs,
        b.jitter ?? null,
        b.maxDelayMs ?? null,
        now,
        now,
        isHead,
      );
      ids.push(jobIdOf(recordId, idx));
    });
    return ids;
  }

  /** Runs processor transactions with `processingSynchronous`, then restores the enqueue setting. */
  private processing<T>(fn: () => T): T {
    if (!this.syncPragmas) return fn();
    // exec, not a prepared statement: SQLite applies `PRAGMA synchronous` when the statement is compiled, so
    // re-running a prepared one does not reliably switch the level (measured: claims kept fsyncing at FULL).
    this.db.exec(this.syncPragmas.processing);
    try {
      return fn();
    } finally {
      this.db.exec(this.syncPragmas.enqueue);
    }
  }

  private seqOfJob(jobId: string): number | undefined {
    const known = this.leased.get(jobId);
    if (known !== undefined) return known;
    const parsed = parseJobId(jobId);
    return parsed ? (this.s.jobSeqById.get(parsed.recordId, parsed.index) as number | undefined) : undefined;
  }

  /** Applies settlements and claims due jobs in one transaction (see {@link LeaseBackend.exchange}). */
  exchange(req: ExchangeRequest): ExchangeResult {
    return this.processing(() => this.exchangeTxn(req));
  }

  private exchangeTxn(req: ExchangeRequest): ExchangeResult {
    const s = this.s;
    // Cheap read first: an idle poll takes no write lock.
    if (req.settlements.length === 0 && (req.claim <= 0 || s.hasWork.get({ queue: req.queue, now: req.now }) === 0)) {
      return { claimed: [], nextRunAt: (s.nextRunAt.get(req.queue, req.queue) as number | null) ?? null };
    }
    const txn = this.db.transaction((): ExchangeResult => {
      const now = this.clock.now();
      for (const st of req.settlements) this.applySettlement(st, now);
      const claimed: ClaimedJob[] = [];
      if (req.claim > 0) {
        this.expireLeases(req.queue, now);
        const token = `${req.owner}/${++this.tokenSeq}`;
        const rows = (req.ordered ? s.claimOrdered : s.claimUnordered).all({
          queue: req.queue,
          now,
          token,
          until: now + req.leaseMs,
          limit: req.claim,
        }) as ClaimRow[];
        rows.sort((a, b) => a.seq - b.seq);
        const records = new Map<number, RecordWithId>();
        for (const row of rows) {
          let record = records.get(row.record_seq);
          if (!record) {
            const r = s.recordBySeq.get(row.record_seq) as RecordRow | undefined;
            if (!r) continue;
            record = toRecord(r);
            records.set(row.record_seq, record);
          }
          const id = jobIdOf(record.id, row.idx);
          this.leased.set(id, row.seq);
          const backoff: ClaimedJob["retry"]["backoff"] = { type: row.backoff_type, delayMs: row.backoff_delay_ms };
          if (row.backoff_jitter !== null) backoff.jitter = row.backoff_jitter;
          if (row.backoff_max_ms !== null) backoff.maxDelayMs = row.backoff_max_ms;
          claimed.push({
            token,
            retry: { maxAttempts: row.max_attempts, backoff },
            job: {
              id,
              queue: req.queue,
              target: row.target,
              attempt: row.attempts,
              maxAttempts: row.max_attempts,
              record: { ...record },
            },
          });
        }
      }
      return { claimed, nextRunAt: (s.nextRunAt.get(req.queue, req.queue) as number | null) ?? null };
    });
    return txn.immediate();
  }

  private applySettlement(st: Settlement, now: number): void {
    const seq = this.seqOfJob(st.jobId);
    this.leased.delete(st.jobId);
    if (seq === undefined) return;
    const { changes } = this.s.settle.run(
      st.state,
      st.attempts,
      st.runAt,
      st.lastError ? JSON.stringify(st.lastError) : null,
      now,
      seq,
      st.token,
    );
    if (changes === 0) return; // the lease was lost: another worker owns the job now
    if (st.state === "done" || st.state === "dead") {
      // Looked up rather than RETURNed: RETURNING buffers its rows in a temporary table (see migration 0004).
      const row = this.s.orderingOf.get(seq) as { queue: QueueName; ordering_key: string | null };
      if (row.ordering_key !== null) this.s.promoteHead.run(row.queue, row.ordering_key);
    }
    const r = st.run;
    this.s.insertAttempt.run(
      seq,
      r.attempt,
      r.startedAt,
      r.finishedAt,
      r.outcome,
      r.error ? JSON.stringify(r.error) : null,
      r.worker ?? null,
    );
  }

  private expireLeases(queue: QueueName, now: number): void {
    const rows = this.s.expired.all(queue, now) as {
      seq: number;
      attempts: number;
      max_attempts: number;
      lease_owner: string | null;
      lease_started_at: number | null;
      ordering_key: string | null;
    }[];
    for (const row of rows) {
      const expired = decideLeaseExpired({ attempts: row.attempts, maxAttempts: row.max_attempts, now });
      const error = JSON.stringify(expired.error);
      this.s.expire.run(expired.state, expired.runAt, error, now, row.seq);
      if (expired.state === "dead" && row.ordering_key !== null) this.s.promoteHead.run(queue, row.ordering_key);
      this.s.insertAttempt.run(
        row.seq,
        row.attempts,
        row.lease_started_at ?? now,
        now,
        "lease-expired",
        error,
        workerOf(row.lease_owner) ?? null,
      );
    }
  }

  /**
   * Retention (see {@link Store.purgeRecords}): deletes up to `limit` records received before `beforeMs` with no
   * pending, failed or running job, oldest first, with their jobs and attempts, in one transaction at the processing
   * `synchronous` level (a purge lost to a power cut is simply done again).
   */
  purge(beforeMs: number, limit: number): number {
    const max = Math.max(0, Math.floor(limit));
    if (max === 0) return 0;
    return this.processing(() =>
      this.db
        .transaction((): number => {
          // Every record received before `beforeMs` has a seq below the first one received at or after it, give or
          // take the clock slack between processes, which the received_at test settles.
          const bound = this.s.firstSeqAt.get({ t: beforeMs + SEQ_BOUND_SLACK_MS }) as number | null | undefined;
          const seqs = this.s.purgeCandidates.all({
            maxSeq: bound ?? Number.MAX_SAFE_INTEGER,
            before: beforeMs,
            limit: max,
          }) as number[];
          if (seqs.length === 0) return 0;
          const list = JSON.stringify(seqs);
          this.s.purgeAttempts.run(list);
          this.s.purgeJobs.run(list);
          return this.s.purgeRecords.run(list).changes;
        })
        .immediate(),
    );
  }

  /** Extends the leases still held; returns the job ids whose lease was lost. */
  renew(leases: readonly { jobId: string; token: string }[], until: number): string[] {
    return this.processing(() => {
      const lost: string[] = [];
      this.db
        .transaction(() => {
          for (const { jobId, token } of leases) {
            const seq = this.seqOfJob(jobId);
            if (seq === undefined || this.s.renew.run(until, seq, token).changes === 0) {
              lost.push(jobId);
              this.leased.delete(jobId);
            }
          }
        })
        .immediate();
      return lost;
    });
  }
}

/** Builds a {@link StoreError} for an item or batch that failed in the writer. */
export function writerError(what: string, message: string): StoreError {
  return new StoreError(`SQLite ${what} failed: ${message}`);
}

/** The SQL of each of the writer's statements by name, prepared on `db` (for the schema tests, which EXPLAIN them). */
export function writeStatementSql(db: Db): Record<string, string> {
  return Object.fromEntries(Object.entries(prepareWrites(db)).map(([name, st]) => [name, st.source]));
}

function prepareWrites(db: Db) {
  return {
    firstSeqAt: db.prepare(FIRST_SEQ_AT_SQL).pluck(),
    // Oldest first through the primary key; a record with an unfinished job (jobs_record lookup) is skipped.
    purgeCandidates: db
      .prepare(
        `SELECT r.seq FROM records r WHERE r.seq < @maxSeq AND r.received_at < @before
           AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.record_seq = r.seq AND ${activeSql("j.state")})
         ORDER BY r.seq LIMIT @limit`,
      )
      .pluck(),
    purgeAttempts: db.prepare(
      "DELETE FROM attempts WHERE job_seq IN (SELECT seq FROM jobs WHERE record_seq IN (SELECT value FROM json_each(?)))",
    ),
    purgeJobs: db.prepare("DELETE FROM jobs WHERE record_seq IN (SELECT value FROM json_each(?))"),
    purgeRecords: db.prepare("DELETE FROM records WHERE seq IN (SELECT value FROM json_each(?))"),
    dedupeUpsert: db.prepare(
      `INSERT INTO dedupe (queue, key, record_id, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (queue, key) DO UPDATE SET record_id = excluded.record_id, expires_at = excluded.expires_at
       WHERE dedupe.expires_at <= ?`,
    ),
    dedupeGet: db.prepare("SELECT record_id FROM dedupe WHERE queue = ? AND key = ?").pluck(),
    insertRecord: db.prepare(
      `INSERT INTO records (id, queue, topic, app_id, notification_id, item_id, created_at, received_at, headers, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertJob: db.prepare(
      `INSERT INTO jobs (record_seq, idx, queue, target, ordering_key, order_created_at, order_received_at, state,
         attempts, max_attempts, backoff_type, backoff_delay_ms, backoff_jitter, backoff_max_ms, run_at, updated_at, is_head)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    /** The earliest active job of an ordering key (its head, or the job that will head it). */
    headOf: db.prepare(
      `SELECT seq, order_created_at AS c, order_received_at AS r FROM jobs
       WHERE queue = ? AND ordering_key = ? AND ${activeSql()}
       ORDER BY order_created_at, order_received_at, seq LIMIT 1`,
    ),
    setHead: db.prepare("UPDATE jobs SET is_head = ? WHERE seq = ?"),
    /** After a job of the key left the active set: its earliest active job becomes the head. */
    promoteHead: db.prepare(
      `UPDATE jobs SET is_head = 1 WHERE seq = (SELECT seq FROM jobs WHERE queue = ? AND ordering_key = ?
         AND ${activeSql()} ORDER BY order_created_at, order_received_at, seq LIMIT 1) AND is_head = 0`,
    ),
    recordBySeq: db.prepare("SELECT * FROM records WHERE seq = ?"),
    settle: db.prepare(
      `UPDATE jobs SET state = ?, attempts = ?, run_at = ?, last_error = coalesce(?, last_error), updated_at = ?,
         lease_owner = NULL, lease_until = NULL, lease_started_at = NULL
       WHERE seq = ? AND state = 'running' AND lease_owner = ?`,
    ),
    orderingOf: db.prepare("SELECT queue, ordering_key FROM jobs WHERE seq = ?"),
    insertAttempt: db.prepare(
      "INSERT INTO attempts (job_seq, attempt, started_at, finished_at, outcome, error, worker) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    expired: db.prepare(
      `SELECT seq, attempts, max_attempts, lease_owner, lease_started_at, ordering_key FROM jobs
       WHERE queue = ? AND state = 'running' AND lease_until <= ?`,
    ),
    expire: db.prepare(
      `UPDATE jobs SET state = ?, run_at = ?, last_error = ?, updated_at = ?, lease_owner = NULL, lease_until = NULL,
         lease_started_at = NULL WHERE seq = ?`,
    ),
    // Every waiting job sits in one of two jobs_due ranges (is_head 1 or 0); unordered claims merge both.
    claimUnordered: db.prepare(
      `UPDATE jobs SET state = 'running', attempts = attempts + 1, run_at = NULL, updated_at = @now,
         lease_owner = @token, lease_until = @until, lease_started_at = @now
       WHERE seq IN (SELECT seq FROM (
           SELECT seq, run_at FROM (SELECT seq, run_at FROM jobs WHERE queue = @queue AND is_head = 1 AND state IN ('pending', 'failed')
                                    AND run_at <= @now ORDER BY run_at, seq LIMIT @limit)
           UNION ALL
           SELECT seq, run_at FROM (SELECT seq, run_at FROM jobs WHERE queue = @queue AND is_head = 0 AND state IN ('pending', 'failed')
                                    AND run_at <= @now ORDER BY run_at, seq LIMIT @limit))
         ORDER BY run_at, seq LIMIT @limit)
       RETURNING seq, record_seq, idx, target, attempts, max_attempts, backoff_type, backoff_delay_ms, backoff_jitter, backoff_max_ms`,
    ),
    // Heads only: a head has no earlier active job in its key; it still waits while another job of the key runs.
    claimOrdered: db.prepare(
      `UPDATE jobs SET state = 'running', attempts = attempts + 1, run_at = NULL, updated_at = @now,
         lease_owner = @token, lease_until = @until, lease_started_at = @now
       WHERE seq IN (
         SELECT j.seq FROM jobs j
         WHERE j.queue = @queue AND j.is_head = 1 AND j.state IN ('pending', 'failed') AND j.run_at <= @now
           AND (j.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs b INDEXED BY jobs_running
                                                      WHERE b.queue = j.queue AND b.ordering_key = j.ordering_key AND b.state = 'running'))
         ORDER BY j.run_at, j.seq LIMIT @limit)
       RETURNING seq, record_seq, idx, target, attempts, max_attempts, backoff_type, backoff_delay_ms, backoff_jitter, backoff_max_ms`,
    ),
    nextRunAt: db.prepare(NEXT_RUN_AT_SQL).pluck(),
    hasWork: db
      .prepare(
        `SELECT EXISTS (SELECT 1 FROM jobs WHERE queue = @queue AND is_head = 1 AND state IN ('pending', 'failed') AND run_at <= @now)
             OR EXISTS (SELECT 1 FROM jobs WHERE queue = @queue AND is_head = 0 AND state IN ('pending', 'failed') AND run_at <= @now)
             OR EXISTS (SELECT 1 FROM jobs WHERE queue = @queue AND state = 'running' AND lease_until <= @now)`,
      )
      .pluck(),
    renew: db.prepare("UPDATE jobs SET lease_until = ? WHERE seq = ? AND state = 'running' AND lease_owner = ?"),
    jobSeqById: db
      .prepare("SELECT j.seq FROM jobs j JOIN records r ON r.seq = j.record_seq WHERE r.id = ? AND j.idx = ?")
      .pluck(),
  };
}
