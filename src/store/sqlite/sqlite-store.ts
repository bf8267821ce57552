import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Database as Db, Statement } from "better-sqlite3";
import { systemClock, type Clock } from "../../core/clock.js";
import { ConfigError, StoreError } from "../../core/errors.js";
import type {
  AttemptRecord,
  JobDetail,
  JobError,
  JobFilter,
  JobId,
  JobRunner,
  JobState,
  JobSummary,
  Page,
  QueueName,
  QueueStats,
  ReceivedBucket,
  RecordDetail,
  RecordSummary,
  RecordWithId,
} from "../../queue/types.js";
import { JOB_STATES } from "../../queue/types.js";
import {
  createWorkerId,
  decodeCursor,
  emptyStats,
  encodeCursor,
  filterStates,
  jobIdOf,
  pageLimit,
  parseJobId,
  QUEUE_NAMES,
  requeueLimit,
  validateDelivery,
  validateEnqueueInput,
  withoutCursor,
} from "../job-helpers.js";
import { LeaseProcessor, type LeaseBackend, type QueuePauses } from "../lease-loop.js";
import type {
  DeliveryInput,
  EnqueueInput,
  EnqueueResult,
  ProcessOptions,
  Processor,
  RequeueResult,
  SharedLimiter,
  Store,
} from "../store.js";
import { migrate } from "./migrate.js";
import {
  FIRST_SEQ_AT_SQL,
  NEXT_RUN_AT_SQL,
  RECOMPUTE_HEADS_SQL,
  SEQ_BOUND_SLACK_MS,
  SqliteWriter,
  toRecord,
  type BatchOutcome,
  type RecordRow,
} from "./sqlite-writer.js";
import { WriterClient } from "./writer-client.js";

/** Options of {@link createSqliteStore}. */
/**
 * Enqueue batches the store sends to its writer thread before waiting for an answer: the second is already waiting
 * in the thread when the first commits, and the thread merges waiting batches into one commit.
 */
const MAX_BATCHES_IN_FLIGHT = 2;

export interface SqliteStoreOptions {
  /** Database file; its parent directory is created. `:memory:` works for a single process. */
  path: string;
  /**
   * `FULL` syncs the WAL on every commit, so a resolved `enqueue` survives power loss (a 200 promises that).
   * `NORMAL` survives a process crash but may lose the last commits on power loss.
   * @defaultValue "FULL"
   */
  synchronous?: "FULL" | "NORMAL";
  /**
   * `synchronous` for the processor's own transactions (claims, settlements, lease renewals). `NORMAL` skips their
   * fsync: on power loss the last outcomes may be lost and those deliveries run again (at-least-once, as after a
   * crash), while every `enqueue` still commits with `synchronous`, whose fsync also covers all earlier frames.
   * @defaultValue "NORMAL"
   */
  processingSynchronous?: "FULL" | "NORMAL";
  /** How long to wait for another process's write lock before failing, ms. @defaultValue 5000 */
  busyTimeoutMs?: number;
  /**
   * Group commit: how long an `enqueue` may wait for others to share its transaction, ms. 0 = the enqueues of the
   * same event-loop turn share one commit.
   * @defaultValue 0
   */
  groupCommitWindowMs?: number;
  /** Group commit: most enqueues in one transaction; a full batch commits at once. @defaultValue 256 */
  maxBatchSize?: number;
  /** How often expired dedupe keys are deleted, ms (0 disables). @defaultValue 60000 */
  purgeIntervalMs?: number;
  /**
   * WAL pages between automatic checkpoints on the writer connection. Larger values trade latency for throughput:
   * measured with `bench/ingest-ab.ts` on 2 CPUs, 10000 gave +15–17 % ingest req/s but p99 ~41 ms instead of ~19 ms
   * (bigger, rarer checkpoints). Durability is the same either way: every enqueue commit fsyncs the WAL.
   * @defaultValue 1000 (SQLite's default, ~4 MB of WAL)
   */
  walAutocheckpointPages?: number;
  /**
   * With the writer thread: a third thread copies the WAL into the database file this often (ms), on its own
   * connection, so enqueue commits never carry a checkpoint; the writer's own autocheckpoint then only runs at 10x
   * `walAutocheckpointPages`, as a backstop that restarts the WAL. 0: the writer checkpoints alone, every
   * `walAutocheckpointPages`. Measured with `bench/ingest-ab.ts` (paired, 4 rounds, 2 CPUs), medians against 0
   * (7,925 req/s, p99 14–15 ms): 5 ms gave 8,303 req/s, p99 12–13 ms; 20 ms gave 9,239 req/s but p99 22–23 ms
   * (bigger checkpoints compete with the WAL fsyncs), too close to the 25 ms the ingest benchmark allows.
   * @defaultValue 5
   */
  checkpointIntervalMs?: number;
  /** Page cache size, KiB. @defaultValue 65536 (64 MiB) */
  cacheSizeKiB?: number;
  /** Time source (receive times, due times, dedupe expiry). @defaultValue the system clock */
  clock?: Clock;
  /**
   * Run enqueue commits and the processor's claim / settle / renew transactions in a worker thread that owns a second
   * connection to the file, so the event loop keeps parsing requests while a commit waits for its fsync; enqueues
   * that arrive meanwhile share the next commit. Needs a file (not `:memory:`) and the system clock.
   * @defaultValue true for a file with the system clock, false otherwise
   */
  writerThread?: boolean;
}

interface PendingEnqueue {
  input: EnqueueInput;
  resolve: (r: EnqueueResult) => void;
  reject: (e: unknown) => void;
}

interface JobRow {
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

const JOB_COLUMNS = `j.seq AS j_seq, j.record_seq, j.idx, j.queue, j.target, j.state, j.attempts, j.max_attempts,
  j.run_at, j.updated_at, j.last_error, r.id AS record_id, r.topic, r.app_id, r.notification_id, r.item_id,
  r.created_at, r.received_at`;
const RECORD_COLUMNS =
  "r.seq, r.id, r.queue, r.topic, r.app_id, r.notification_id, r.item_id, r.created_at, r.received_at";
const PURGE_CHUNK = 10_000;

function parseError(text: string | null): JobError | null {
  return text === null ? null : (JSON.parse(text) as JobError);
}

function wrap(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  return new StoreError(`SQLite ${what} failed: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}

/** SQL conditions built from a {@link JobFilter}. */
interface Conditions {
  sql: string[];
  params: unknown[];
}

/**
 * The default, durable {@link Store}: one SQLite file (better-sqlite3, WAL), a hand-written queue with leases, group
 * commit for `enqueue`, and versioned migrations. Several processes may share one file: claims are `BEGIN IMMEDIATE`
 * transactions, so two workers never hold the same delivery. See `src/store/sqlite/README.md` for the data model.
 *
 * @example
 * ```ts
 * import { createSqliteStore } from "intercom-bridge/sqlite";
 * const store = createSqliteStore({ path: "./data/intercom-bridge.db" });
 * ```
 */
export class SqliteStore implements Store {
  /** Always `sqlite`. */
  readonly kind = "sqlite";
  /** The database file. */
  readonly path: string;
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly windowMs: number;
  private readonly maxBatch: number;
  private batch: PendingEnqueue[] = [];
  private batchScheduled: NodeJS.Immediate | NodeJS.Timeout | null = null;
  /**
   * Batches sent to the writer thread and not answered yet. Up to {@link MAX_BATCHES_IN_FLIGHT} go out without
   * waiting: the thread merges whatever waits for it into one commit, so no batch waits for a round trip.
   */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly workerPrefix = createWorkerId(process.pid);
  private workerCount = 0;
  private readonly pauses: QueuePauses = new Map();
  private readonly processors = new Set<LeaseProcessor>();
  private readonly wakeListeners = new Map<QueueName, Set<() => void>>();
  private readonly purgeTimer: NodeJS.Timeout | null;
  private closing = false;
  private isOpen = true;
  private closePromise: Promise<void> | null = null;
  /** Write transactions on this connection: everything when there is no writer thread, else `addDeliveries`. */
  private readonly writer: SqliteWriter;
  /** The writer thread, when enabled: enqueues, claims, settlements and renewals go there. */
  private readonly thread: WriterClient | null = null;
  private readonly backend: LeaseBackend;
  private readonly dynamic = new Map<string, Statement>();
  private readonly s: ReturnType<SqliteStore["prepare"]>;

  constructor(options: SqliteStoreOptions) {
    if (typeof options.path !== "string" || options.path.length === 0)
      throw new ConfigError("path must be a non-empty string");
    const synchronous = options.synchronous ?? "FULL";
    if (synchronous !== "FULL" && synchronous !== "NORMAL") throw new ConfigError("synchronous must be FULL or NORMAL");
    this.path = options.path;
    const processingSynchronous = options.processingSynchronous ?? "NORMAL";
    if (processingSynchronous !== "FULL" && processingSynchronous !== "NORMAL") {
      throw new ConfigError("processingSynchronous must be FULL or NORMAL");
    }
    this.clock = options.clock ?? systemClock;
    this.windowMs = Math.max(0, options.groupCommitWindowMs ?? 0);
    this.maxBatch = Math.max(1, Math.floor(options.maxBatchSize ?? 256));
    const isMemory = options.path === ":memory:" || options.path.startsWith("file::memory:");
    try {
      if (!isMemory) mkdirSync(dirname(options.path), { recursive: true });
      this.db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    } catch (error) {
      throw wrap(error, "open");
    }
    try {
      this.db.pragma("journal_mode = WAL");
      this.db.pragma(`synchronous = ${synchronous}`);
      this.db.pragma(`cache_size = -${Math.max(1024, Math.floor(options.cacheSizeKiB ?? 65_536))}`);
      migrate(this.db);
      this.s = this.prepare();
      this.writer = new SqliteWriter(this.db, { synchronous, processingSynchronous, clock: this.clock });
    } catch (error) {
      this.db.close();
      throw wrap(error, "open");
    }
    if (options.writerThread ?? (!isMemory && options.clock === undefined)) {
      if (isMemory) throw new ConfigError("writerThread needs a database file, not :memory:");
      this.thread = new WriterClient({
        path: options.path,
        synchronous,
        processingSynchronous,
        busyTimeoutMs: options.busyTimeoutMs ?? 5000,
        cacheSizeKiB: Math.max(1024, Math.floor(options.cacheSizeKiB ?? 65_536)),
        walAutocheckpointPages: Math.max(1, Math.floor(options.walAutocheckpointPages ?? 1000)),
        checkpointIntervalMs: Math.max(0, Math.floor(options.checkpointIntervalMs ?? 5)),
      });
    }
    this.backend = {
      exchange: (req) =>
        this.thread ? this.threadCall(this.thread.exchange(req)) : this.run("claim", () => this.writer.exchange(req)),
      renew: (_queue, leases, until) =>
        this.thread
          ? this.threadCall(this.thread.renew(leases, until))
          : this.run("renew", () => this.writer.renew(leases, until)),
      onWake: (queue, listener) => {
        let set = this.wakeListeners.get(queue);
        if (!set) this.wakeListeners.set(queue, (set = new Set()));
        set.add(listener);
        return () => set.delete(listener);
      },
    };
    const purgeMs = options.purgeIntervalMs ?? 60_000;
    this.purgeTimer =
      purgeMs > 0 ? setInterval(() => void this.purgeExpiredDedupeKeys().catch(() => undefined), purgeMs) : null;
    this.purgeTimer?.unref();
  }

  private prepare() {
    const db = this.db;
    return {
      recordBySeq: db.prepare("SELECT * FROM records WHERE seq = ?"),
      recordById: db.prepare("SELECT * FROM records WHERE id = ?"),
      maxIdx: db.prepare("SELECT coalesce(max(idx), -1) FROM jobs WHERE record_seq = ?").pluck(),
      nextRunAt: db.prepare(NEXT_RUN_AT_SQL).pluck(),
      recomputeHeads: db.prepare(RECOMPUTE_HEADS_SQL),
      jobSeqById: db
        .prepare("SELECT j.seq FROM jobs j JOIN records r ON r.seq = j.record_seq WHERE r.id = ? AND j.idx = ?")
        .pluck(),
      jobById: db.prepare(
        `SELECT ${JOB_COLUMNS} FROM records r JOIN jobs j ON j.record_seq = r.seq WHERE r.id = ? AND j.idx = ?`,
      ),
      jobsOfRecord: db.prepare(
        `SELECT ${JOB_COLUMNS} FROM records r JOIN jobs j ON j.record_seq = r.seq WHERE r.seq = ? ORDER BY j.idx`,
      ),
      attemptsOf: db.prepare("SELECT * FROM attempts WHERE job_seq = ? ORDER BY rowid"),
      requeue: db.prepare(
        `UPDATE jobs SET state = 'pending', attempts = 0, run_at = ?, updated_at = ?, last_error = NULL
         WHERE seq = ? AND state IN ('dead', 'failed', 'done')`,
      ),
      jobState: db.prepare("SELECT state, queue, ordering_key FROM jobs WHERE seq = ?"),
      counts: db.prepare("SELECT queue, state, count(*) AS n FROM jobs GROUP BY queue, state"),
      firstSeqAt: db.prepare(FIRST_SEQ_AT_SQL).pluck(),
      histogram: db.prepare(
        `SELECT CAST(@since + CAST((received_at - @since) / @bucket AS INTEGER) * @bucket AS INTEGER) AS bucket_start, topic, count(*) AS n
         FROM records WHERE queue = @queue AND received_at >= @since GROUP BY bucket_start, topic ORDER BY bucket_start, topic`,
      ),
      limiterGet: db.prepare("SELECT window_start, used, paused_until, pause_reason FROM limiters WHERE name = ?"),
      limiterEnsure: db.prepare("INSERT INTO limiters (name) VALUES (?) ON CONFLICT (name) DO NOTHING"),
      limiterSet: db.prepare("UPDATE limiters SET window_start = ?, used = ? WHERE name = ?"),
      limiterPause: db.prepare(
        `UPDATE limiters SET paused_until = ?, pause_reason = ? WHERE name = ? AND (paused_until IS NULL OR paused_until < ?)`,
      ),
      limiterResume: db.prepare("UPDATE limiters SET paused_until = NULL, pause_reason = NULL WHERE name = ?"),
      setAdd: db.prepare("INSERT INTO sets (name, member) VALUES (?, ?) ON CONFLICT DO NOTHING"),
      setCount: db.prepare("SELECT count(*) FROM sets WHERE name = ?").pluck(),
      setMembers: db.prepare("SELECT member FROM sets WHERE name = ? ORDER BY member").pluck(),
      purge: db.prepare(
        `DELETE FROM dedupe WHERE (queue, key) IN (SELECT queue, key FROM dedupe WHERE expires_at <= ? LIMIT ${PURGE_CHUNK})`,
      ),
      ping: db.prepare("SELECT count(*) FROM sqlite_master").pluck(),
    };
  }

  /** Runs a synchronous database call, mapping driver errors (and a closed store) to {@link StoreError}. */
  private run<T>(what: string, fn: () => T): Promise<T> {
    if (!this.isOpen) return Promise.reject(new StoreError("Store is closed"));
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error instanceof ConfigError ? error : wrap(error, what));
    }
  }

  /** Maps a writer-thread call's failure (and a closed store) to {@link StoreError}. */
  private threadCall<T>(p: Promise<T>): Promise<T> {
    if (!this.isOpen) return Promise.reject(new StoreError("Store is closed"));
    return p;
  }

  private wake(queue: QueueName): void {
    for (const listener of this.wakeListeners.get(queue) ?? []) listener();
  }

  // ---------------------------------------------------------------- enqueue (group commit)

  /**
   * See {@link Store.enqueue}. Calls made in the same event-loop turn (or within `groupCommitWindowMs`) share one
   * transaction; with the writer thread, calls made while a commit is under way share the next one. Each resolves only
   * after its transaction committed, and one failing item fails alone.
   */
  enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    if (this.closing || !this.isOpen) return Promise.reject(new StoreError("Store is closed"));
    try {
      validateEnqueueInput(input);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return new Promise<EnqueueResult>((resolve, reject) => {
      this.batch.push({ input, resolve, reject });
      if (this.batch.length >= this.maxBatch) this.flushBatch();
      else if (!this.batchScheduled && this.inFlight.size < MAX_BATCHES_IN_FLIGHT) {
        this.batchScheduled =
          this.windowMs > 0
            ? setTimeout(() => this.flushBatch(), this.windowMs)
            : setImmediate(() => this.flushBatch());
      }
    });
  }

  private flushBatch(): void {
    if (this.batchScheduled) {
      clearTimeout(this.batchScheduled as NodeJS.Timeout);
      clearImmediate(this.batchScheduled as NodeJS.Immediate);
      this.batchScheduled = null;
    }
    // A bounded number of batches at a time through the thread: what arrives meanwhile joins the next batch.
    if (this.thread && this.inFlight.size >= MAX_BATCHES_IN_FLIGHT) return;
    const items = this.batch.length > this.maxBatch ? this.batch.splice(0, this.maxBatch) : this.batch;
    if (items === this.batch) this.batch = [];
    if (items.length === 0) return;
    if (!this.isOpen) {
      const e = new StoreError("Store is closed");
      for (const item of items) item.reject(e);
      return;
    }
    const inputs = items.map((item) => item.input);
    if (this.thread) {
      const sent: Promise<void> = this.thread.enqueue(inputs).then(
        (results) => this.settleBatch(items, results),
        (error: unknown) => {
          const e = wrap(error, "enqueue");
          for (const item of items) item.reject(e);
        },
      );
      this.inFlight.add(sent);
      void sent.finally(() => {
        this.inFlight.delete(sent);
        if (this.batch.length > 0) this.flushBatch();
      });
      return;
    }
    let results: BatchOutcome[];
    try {
      results = this.writer.enqueueBatch(inputs, this.clock.now());
    } catch (error) {
      const e = wrap(error, "enqueue");
      for (const item of items) item.reject(e);
      return;
    }
    this.settleBatch(items, results);
  }

  private settleBatch(items: readonly PendingEnqueue[], results: readonly BatchOutcome[]): void {
    const woken = new Set<QueueName>();
    results.forEach((result, i) => {
      const item = items[i];
      if (!item) return;
      if ("error" in result) item.reject(new StoreError(`SQLite enqueue failed: ${result.error}`));
      else {
        if (result.status === "enqueued" && result.jobIds.length > 0) woken.add(item.input.record.queue);
        item.resolve(result);
      }
    });
    for (const q of woken) this.wake(q);
  }

  // ---------------------------------------------------------------- processing

  /** See {@link Store.process}. Runs the shared lease loop over this file. */
  process(queue: QueueName, run: JobRunner, opts: ProcessOptions): Processor {
    if (this.closing || !this.isOpen) throw new StoreError("Store is closed");
    const processor = new LeaseProcessor(queue, run, opts, {
      backend: this.backend,
      pauses: this.pauses,
      workerId: `${this.workerPrefix}.${++this.workerCount}`,
      clock: this.clock,
      onStopped: (p) => this.processors.delete(p),
    });
    this.processors.add(processor);
    return processor;
  }

  // ---------------------------------------------------------------- reads

  private recordConditions(filter: JobFilter, c: Conditions): void {
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
  private seqBounds(filter: JobFilter, column: string, c: Conditions): void {
    if (filter.since !== undefined) {
      const seq = this.s.firstSeqAt.get({ t: filter.since - SEQ_BOUND_SLACK_MS }) as number | null | undefined;
      c.sql.push(`${column} >= ?`);
      c.params.push(seq ?? Number.MAX_SAFE_INTEGER);
    }
    if (filter.until !== undefined) {
      const seq = this.s.firstSeqAt.get({ t: filter.until + SEQ_BOUND_SLACK_MS }) as number | null | undefined;
      if (seq !== undefined && seq !== null) {
        c.sql.push(`${column} < ?`);
        c.params.push(seq);
      }
    }
  }

  private statement(sql: string): Statement {
    let st = this.dynamic.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.dynamic.set(sql, st);
    }
    return st;
  }

  private static isRecordSelective(filter: JobFilter): boolean {
    return filter.recordId !== undefined || filter.notificationId !== undefined || filter.itemId !== undefined;
  }

  /**
   * How to read `records` newest first for a filter: an index that yields rows already in `seq` order, or the
   * rowid itself (`NOT INDEXED`). Without this the planner may pick an equality index and sort a million rows.
   */
  private static recordAccess(filter: JobFilter): string {
    if (SqliteStore.isRecordSelective(filter)) return "";
    const isExactTopic = filter.topic !== undefined && filter.topic !== "*" && !filter.topic.endsWith(".*");
    if (isExactTopic && filter.queue !== undefined) return "INDEXED BY records_topic";
    if (filter.appId !== undefined) return "INDEXED BY records_app";
    return "NOT INDEXED";
  }

  /**
   * Jobs matching `filter`, newest record first, after the keyset position `after` ([record seq, idx]).
   * Without a selective record filter this runs one index-ordered query per (queue, state) and merges them, so a
   * page never sorts the whole table.
   */
  private jobRows(filter: JobFilter, after: readonly [number, number] | null, limit: number): JobRow[] {
    const base: Conditions = { sql: [], params: [] };
    this.recordConditions(filter, base);
    this.seqBounds(filter, "j.record_seq", base);
    if (filter.target !== undefined) {
      base.sql.push("j.target = ?");
      base.params.push(filter.target);
    }
    if (after) {
      base.sql.push("(j.record_seq, j.idx) < (?, ?)");
      base.params.push(after[0], after[1]);
    }
    const states = filterStates(filter) ?? JOB_STATES;
    if (SqliteStore.isRecordSelective(filter) || filter.state === undefined) {
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
      const sql = `SELECT ${JOB_COLUMNS} FROM records r ${SqliteStore.recordAccess(filter)} CROSS JOIN jobs j ON j.record_seq = r.seq
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

  private summaryOf(row: JobRow): JobSummary {
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
    return { ...this.summaryOf(row), record, history };
  }

  private decodeJobCursor(cursor: string | undefined): [number, number] | null {
    if (cursor === undefined) return null;
    const [seq, idx] = decodeCursor(cursor);
    if (typeof seq !== "number" || typeof idx !== "number")
      throw new ConfigError("cursor is not a cursor returned by a previous page");
    return [seq, idx];
  }

  /** See {@link Store.listJobs}. Keyset pagination over (record seq, delivery index). */
  listJobs(filter: JobFilter): Promise<Page<JobSummary>> {
    return this.run("listJobs", () => {
      const limit = pageLimit(filter);
      const rows = this.jobRows(filter, this.decodeJobCursor(filter.cursor), limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((r) => this.summaryOf(r)),
        nextCursor: rows.length > limit && last ? encodeCursor([last.record_seq, last.idx]) : null,
      };
    });
  }

  /** See {@link Store.listRecords}. Keyset pagination over the record seq. */
  listRecords(filter: JobFilter): Promise<Page<RecordSummary>> {
    return this.run("listRecords", () => {
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
        this.recordConditions(filter, c);
        this.seqBounds(filter, "r.seq", c);
        if (before !== null) {
          c.sql.push("r.seq < ?");
          c.params.push(before);
        }
        const where = c.sql.length > 0 ? `WHERE ${c.sql.join(" AND ")}` : "";
        const sql = `SELECT r.seq FROM records r ${SqliteStore.recordAccess(filter)} ${where} ORDER BY r.seq DESC LIMIT ?`;
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
          jobs: (this.s.jobsOfRecord.all(seq) as JobRow[]).map((j) => this.summaryOf(j)),
        };
      });
      const last = page.at(-1);
      return { items, nextCursor: seqs.length > limit && last !== undefined ? encodeCursor([last]) : null };
    });
  }

  /** See {@link Store.countJobs}. */
  countJobs(filter: JobFilter): Promise<number> {
    return this.run("countJobs", () => {
      // One count per queue, so the (queue, state, …) index applies even when the filter names no queue.
      let total = 0;
      for (const queue of filter.queue !== undefined ? [filter.queue] : QUEUE_NAMES) {
        const c = this.jobConditions({ ...filter, queue });
        const sql = `SELECT count(*) FROM jobs j JOIN records r ON r.seq = j.record_seq WHERE ${c.sql.join(" AND ")}`;
        total += this.statement(sql)
          .pluck()
          .get(...c.params) as number;
      }
      return total;
    });
  }

  private jobConditions(filter: JobFilter): Conditions {
    const c: Conditions = { sql: [], params: [] };
    this.recordConditions(filter, c);
    this.seqBounds(filter, "j.record_seq", c);
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

  /** See {@link Store.getJob}. */
  getJob(id: JobId): Promise<JobDetail | undefined> {
    return this.run("getJob", () => {
      const parsed = parseJobId(id);
      if (!parsed) return undefined;
      const row = this.s.jobById.get(parsed.recordId, parsed.index) as JobRow | undefined;
      if (!row) return undefined;
      const r = this.s.recordBySeq.get(row.record_seq) as RecordRow;
      return this.detailOf(row, toRecord(r));
    });
  }

  /** See {@link Store.getRecord}. */
  getRecord(recordId: string): Promise<RecordDetail | undefined> {
    return this.run("getRecord", () => {
      const r = this.s.recordById.get(recordId) as RecordRow | undefined;
      if (!r) return undefined;
      const record = toRecord(r);
      const jobs = (this.s.jobsOfRecord.all(r.seq) as JobRow[]).map((row) => this.detailOf(row, { ...record }));
      return { record, jobs };
    });
  }

  /** See {@link Store.requeue}. */
  requeue(id: JobId): Promise<RequeueResult> {
    return this.run("requeue", (): RequeueResult => {
      const parsed = parseJobId(id);
      const seq = parsed ? (this.s.jobSeqById.get(parsed.recordId, parsed.index) as number | undefined) : undefined;
      if (seq === undefined) return "not-found";
      const now = this.clock.now();
      const row = this.db
        .transaction(() => {
          if (this.s.requeue.run(now, now, seq).changes === 0) return undefined;
          const job = this.s.jobState.get(seq) as { queue: QueueName; ordering_key: string | null };
          // The job is active again: it may now head its ordering key.
          if (job.ordering_key !== null) this.s.recomputeHeads.run(job.queue, job.ordering_key);
          return job;
        })
        .immediate();
      if (!row) return "conflict";
      this.wake(row.queue);
      return "requeued";
    });
  }

  /** See {@link Store.requeueMany}. */
  requeueMany(filter: JobFilter): Promise<number> {
    return this.run("requeueMany", () => {
      const max = requeueLimit(filter);
      const c = this.jobConditions(withoutCursor(filter));
      c.sql.push("j.state IN ('dead', 'failed', 'done')");
      if (Number.isFinite(max)) c.params.push(max);
      const now = this.clock.now();
      const sql = `UPDATE jobs SET state = 'pending', attempts = 0, run_at = ?, updated_at = ?, last_error = NULL
        WHERE seq IN (SELECT j.seq FROM jobs j JOIN records r ON r.seq = j.record_seq WHERE ${c.sql.join(" AND ")}
        ${Number.isFinite(max) ? "ORDER BY j.seq LIMIT ?" : ""})
        RETURNING queue, ordering_key`;
      const n = this.db
        .transaction(() => {
          const rows = this.statement(sql).all(now, now, ...c.params) as {
            queue: QueueName;
            ordering_key: string | null;
          }[];
          // Requeued jobs are active again: recompute the head of each ordering key they belong to.
          const keys = new Set<string>();
          for (const r of rows) {
            if (r.ordering_key === null || keys.has(`${r.queue}\n${r.ordering_key}`)) continue;
            keys.add(`${r.queue}\n${r.ordering_key}`);
            this.s.recomputeHeads.run(r.queue, r.ordering_key);
          }
          return rows.length;
        })
        .immediate();
      if (n > 0) for (const q of filter.queue !== undefined ? [filter.queue] : QUEUE_NAMES) this.wake(q);
      return n;
    });
  }

  /** See {@link Store.addDeliveries}. */
  addDeliveries(recordId: string, deliveries: readonly DeliveryInput[]): Promise<JobId[]> {
    return this.run("addDeliveries", () => {
      deliveries.forEach((d, i) => validateDelivery(d, i));
      const ids = this.db
        .transaction(() => {
          const r = this.s.recordById.get(recordId) as RecordRow | undefined;
          if (!r) throw new StoreError(`Record ${recordId} not found`);
          const first = (this.s.maxIdx.get(r.seq) as number) + 1;
          return {
            queue: r.queue,
            ids: this.writer.insertJobs(r.seq, r.id, r.queue, r.created_at, r.received_at, first, deliveries),
          };
        })
        .immediate();
      if (ids.ids.length > 0) this.wake(ids.queue);
      return ids.ids;
    });
  }

  /** See {@link Store.stats}. */
  stats(): Promise<QueueStats> {
    return this.run("stats", () => {
      const stats = emptyStats();
      for (const row of this.s.counts.all() as { queue: QueueName; state: JobState; n: number }[]) {
        if (row.queue in stats.counts && row.state in stats.counts[row.queue])
          stats.counts[row.queue][row.state] = row.n;
      }
      for (const q of QUEUE_NAMES) stats.oldestDueAt[q] = (this.s.nextRunAt.get(q, q) as number | null) ?? null;
      return stats;
    });
  }

  /**
   * See {@link Store.purgeRecords}. One transaction, in the writer thread when there is one (which runs it after
   * waiting enqueues, so the event loop and acknowledgements never wait for a purge); callers purging many records
   * call it in chunks.
   */
  purgeRecords(beforeMs: number, limit: number): Promise<number> {
    if (this.thread) return this.threadCall(this.thread.purge(beforeMs, limit));
    return this.run("purgeRecords", () => this.writer.purge(beforeMs, limit));
  }

  /** See {@link Store.receivedHistogram}. */
  receivedHistogram(queue: QueueName, sinceMs: number, bucketMs: number): Promise<ReceivedBucket[]> {
    return this.run("receivedHistogram", () =>
      (
        this.s.histogram.all({ queue, since: Math.floor(sinceMs), bucket: Math.max(1, Math.floor(bucketMs)) }) as {
          bucket_start: number;
          topic: string;
          n: number;
        }[]
      ).map((r) => ({ bucketStart: r.bucket_start, topic: r.topic, count: r.n })),
    );
  }

  /** See {@link Store.limiter}. The budget lives in the `limiters` table, so every process on this file shares it. */
  limiter(name: string): SharedLimiter {
    type Row = { window_start: number; used: number; paused_until: number | null; pause_reason: string | null };
    const read = (): Row => {
      this.s.limiterEnsure.run(name);
      return this.s.limiterGet.get(name) as Row;
    };
    return {
      acquire: (max, windowMs, originMs = 0) =>
        this.run("limiter", () =>
          this.db
            .transaction((): number => {
              const row = read();
              const now = this.clock.now();
              if (row.paused_until !== null && row.paused_until > now) return row.paused_until - now;
              const size = Math.max(1, windowMs);
              const windowStart = now - ((((now - originMs) % size) + size) % size);
              const used = row.window_start === windowStart ? row.used : 0;
              if (used < max) {
                this.s.limiterSet.run(windowStart, used + 1, name);
                return 0;
              }
              if (row.window_start !== windowStart) this.s.limiterSet.run(windowStart, used, name);
              return Math.max(1, windowStart + size - now);
            })
            .immediate(),
        ),
      pauseUntil: (untilMs, reason) =>
        this.run("limiter", () => {
          this.db
            .transaction(() => {
              this.s.limiterEnsure.run(name);
              this.s.limiterPause.run(untilMs, reason, name, untilMs);
            })
            .immediate();
        }),
      resume: () =>
        this.run("limiter", () => {
          this.s.limiterResume.run(name);
        }),
      state: () =>
        this.run("limiter", () => {
          const row = (this.s.limiterGet.get(name) as Row | undefined) ?? {
            window_start: 0,
            used: 0,
            paused_until: null,
            pause_reason: null,
          };
          const isPaused = row.paused_until !== null && row.paused_until > this.clock.now();
          return {
            windowStart: row.window_start,
            used: row.used,
            pausedUntil: isPaused ? row.paused_until : null,
            pauseReason: isPaused ? row.pause_reason : null,
          };
        }),
    };
  }

  /** See {@link Store.addToSet}. */
  addToSet(name: string, members: readonly string[]): Promise<number> {
    return this.run("addToSet", () =>
      this.db
        .transaction(() => {
          for (const m of members) this.s.setAdd.run(name, m);
          return this.s.setCount.get(name) as number;
        })
        .immediate(),
    );
  }

  /** See {@link Store.setMembers}. */
  setMembers(name: string): Promise<string[]> {
    return this.run("setMembers", () => this.s.setMembers.all(name) as string[]);
  }

  /**
   * Deletes expired dedupe keys (in chunks of 10,000, each its own transaction). Runs every `purgeIntervalMs`;
   * callable directly. Returns how many keys were deleted.
   */
  purgeExpiredDedupeKeys(): Promise<number> {
    return this.run("purge", () => {
      let total = 0;
      for (let i = 0; i < 100; i++) {
        const n = this.s.purge.run(this.clock.now()).changes;
        total += n;
        if (n < PURGE_CHUNK) break;
      }
      return total;
    });
  }

  /** See {@link Store.ping}: reads the schema; rejects with {@link StoreError} once closed or on a broken file. */
  ping(): Promise<void> {
    return this.run("ping", () => {
      this.s.ping.get();
    });
  }

  /**
   * See {@link Store.close}: refuses new enqueues, commits the pending batch, closes processors (waiting for running
   * jobs), then closes the database. Idempotent.
   */
  close(): Promise<void> {
    this.closePromise ??= (async () => {
      this.closing = true;
      this.flushBatch();
      while (this.inFlight.size > 0) await Promise.all(this.inFlight);
      await Promise.all([...this.processors].map((p) => p.close()));
      if (this.purgeTimer) clearInterval(this.purgeTimer);
      this.isOpen = false;
      await this.thread?.close();
      try {
        this.db.pragma("optimize");
      } catch {
        // best effort
      }
      this.db.close();
    })();
    return this.closePromise;
  }
}

/**
 * Opens (creating if needed) a SQLite store: WAL, `synchronous=FULL` by default, migrations applied.
 * @throws {StoreError} when the file cannot be opened or is not a database.
 * @example
 * ```ts
 * const store = createSqliteStore({ path: "./data/intercom-bridge.db" });
 * ```
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}
