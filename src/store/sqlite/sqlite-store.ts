/**
 * The default, durable store on one SQLite file: opening and migrating it, group commit of `enqueue` (in a writer
 * thread when there is one), the lease loop's backend, requeue, retention and named sets. Reads live in `reader.ts`,
 * SQL building in `query.ts`, the limiter in `limiter.ts`, write transactions in `sqlite-writer.ts`. Only `service/`,
 * `cli/` and the `intercom-bridge/sqlite` entry import this file (it loads better-sqlite3).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Database as Db } from "better-sqlite3";
import { systemClock, type Clock } from "../../core/clock.js";
import { ConfigError, StoreError } from "../../core/errors.js";
import { LeaseProcessor, type LeaseBackend, type QueuePauses } from "../../delivery/lease-loop.js";
import type {
  JobDetail,
  JobFilter,
  JobId,
  JobRunner,
  JobSummary,
  Page,
  QueueName,
  QueueStats,
  ReceivedBucket,
  RecordDetail,
  RecordSummary,
} from "../../delivery/types.js";
import {
  createWorkerId,
  parseJobId,
  QUEUE_NAMES,
  requeueLimit,
  validateDelivery,
  validateEnqueueInput,
  withoutCursor,
} from "../job-helpers.js";
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
import { GroupCommit } from "./group-commit.js";
import { createSqliteLimiters } from "./limiter.js";
import { migrate } from "./migrate.js";
import { openError } from "./open-error.js";
import type { SqliteStoreOptions } from "./options.js";
import { jobConditions } from "./query.js";
import { SqliteReader } from "./reader.js";
import { RECOMPUTE_HEADS_SQL, type RecordRow } from "./schema.js";
import { SqliteWriter } from "./sqlite-writer.js";
import { WriterClient } from "./writer-client.js";

export type { SqliteStoreOptions } from "./options.js";

const PURGE_CHUNK = 10_000;

/** A driver error as a {@link StoreError} naming the operation. */
export function wrap(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  return new StoreError(`SQLite ${what} failed: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
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
  /** Pending enqueues and their shared commits. */
  private readonly commits: GroupCommit;
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
  private readonly s: ReturnType<SqliteStore["prepare"]>;
  /** The operator read model on this connection. */
  private readonly reader: SqliteReader;
  /** `limiter(name)`: see {@link createSqliteLimiters}. */
  private readonly limiters: (name: string) => SharedLimiter;

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
    const isMemory = options.path === ":memory:" || options.path.startsWith("file::memory:");
    try {
      if (!isMemory) mkdirSync(dirname(options.path), { recursive: true });
      this.db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    } catch (error) {
      throw isMemory ? wrap(error, "open") : openError(options.path, error);
    }
    try {
      this.db.pragma("journal_mode = WAL");
      this.db.pragma(`synchronous = ${synchronous}`);
      this.db.pragma(`cache_size = -${Math.max(1024, Math.floor(options.cacheSizeKiB ?? 65_536))}`);
      migrate(this.db);
      this.s = this.prepare();
      this.reader = new SqliteReader(this.db);
      this.limiters = createSqliteLimiters(this.db, this.clock, (what, fn) => this.run(what, fn));
      this.writer = new SqliteWriter(this.db, { synchronous, processingSynchronous, clock: this.clock });
    } catch (error) {
      this.db.close();
      throw isMemory ? wrap(error, "open") : openError(options.path, error);
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
    this.commits = new GroupCommit({
      windowMs: Math.max(0, options.groupCommitWindowMs ?? 0),
      maxBatch: Math.max(1, Math.floor(options.maxBatchSize ?? 256)),
      thread: this.thread,
      writer: this.writer,
      clock: this.clock,
      isOpen: () => this.isOpen,
      wrap,
      wake: (queue) => this.wake(queue),
    });
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
      recordById: db.prepare("SELECT * FROM records WHERE id = ?"),
      maxIdx: db.prepare("SELECT coalesce(max(idx), -1) FROM jobs WHERE record_seq = ?").pluck(),
      recomputeHeads: db.prepare(RECOMPUTE_HEADS_SQL),
      jobSeqById: db
        .prepare("SELECT j.seq FROM jobs j JOIN records r ON r.seq = j.record_seq WHERE r.id = ? AND j.idx = ?")
        .pluck(),
      requeue: db.prepare(
        `UPDATE jobs SET state = 'pending', attempts = 0, run_at = ?, updated_at = ?, last_error = NULL
         WHERE seq = ? AND state IN ('dead', 'failed', 'done')`,
      ),
      jobState: db.prepare("SELECT state, queue, ordering_key FROM jobs WHERE seq = ?"),
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

  // ---------------------------------------------------------------- enqueue (group-commit.ts)

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
    return this.commits.add(input);
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

  // ---------------------------------------------------------------- reads (reader.ts)

  /** See {@link Store.listJobs}. Keyset pagination over (record seq, delivery index). */
  listJobs(filter: JobFilter): Promise<Page<JobSummary>> {
    return this.run("listJobs", () => this.reader.listJobs(filter));
  }

  /** See {@link Store.listRecords}. Keyset pagination over the record seq. */
  listRecords(filter: JobFilter): Promise<Page<RecordSummary>> {
    return this.run("listRecords", () => this.reader.listRecords(filter));
  }

  /** See {@link Store.countJobs}. */
  countJobs(filter: JobFilter): Promise<number> {
    return this.run("countJobs", () => this.reader.countJobs(filter));
  }

  /** See {@link Store.getJob}. */
  getJob(id: JobId): Promise<JobDetail | undefined> {
    return this.run("getJob", () => this.reader.getJob(id));
  }

  /** See {@link Store.getRecord}. */
  getRecord(recordId: string): Promise<RecordDetail | undefined> {
    return this.run("getRecord", () => this.reader.getRecord(recordId));
  }

  /** See {@link Store.stats}. */
  stats(): Promise<QueueStats> {
    return this.run("stats", () => this.reader.stats());
  }

  /** See {@link Store.receivedHistogram}. */
  receivedHistogram(queue: QueueName, sinceMs: number, bucketMs: number): Promise<ReceivedBucket[]> {
    return this.run("receivedHistogram", () => this.reader.receivedHistogram(queue, sinceMs, bucketMs));
  }

  // ---------------------------------------------------------------- operator writes

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
      const c = jobConditions(withoutCursor(filter), this.reader.seqAt);
      c.sql.push("j.state IN ('dead', 'failed', 'done')");
      if (Number.isFinite(max)) c.params.push(max);
      const now = this.clock.now();
      const sql = `UPDATE jobs SET state = 'pending', attempts = 0, run_at = ?, updated_at = ?, last_error = NULL
        WHERE seq IN (SELECT j.seq FROM jobs j JOIN records r ON r.seq = j.record_seq WHERE ${c.sql.join(" AND ")}
        ${Number.isFinite(max) ? "ORDER BY j.seq LIMIT ?" : ""})
        RETURNING queue, ordering_key`;
      const n = this.db
        .transaction(() => {
          const rows = this.reader.statement(sql).all(now, now, ...c.params) as {
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

  /**
   * See {@link Store.purgeRecords}. One transaction, in the writer thread when there is one (which runs it after
   * waiting enqueues, so the event loop and acknowledgements never wait for a purge); callers purging many records
   * call it in chunks.
   */
  purgeRecords(beforeMs: number, limit: number): Promise<number> {
    if (this.thread) return this.threadCall(this.thread.purge(beforeMs, limit));
    return this.run("purgeRecords", () => this.writer.purge(beforeMs, limit));
  }

  /** See {@link Store.limiter}. The budget lives in the `limiters` table, so every process on this file shares it. */
  limiter(name: string): SharedLimiter {
    return this.limiters(name);
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
      await this.commits.drain();
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
