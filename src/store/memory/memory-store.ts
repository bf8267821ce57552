/**
 * The in-process store: records, dedupe keys, the operator read model and writes, the limiter and named sets, over
 * the jobs and claim structures of `memory/jobs.ts`. Filter matching, histogram bucketing, the limiter rule and the
 * oldest-first requeue selection come from `shared/`, the same code the other backends use. Must not import a
 * driver or `node:*` I/O.
 */
import { systemClock, type Clock } from "../../core/clock.js";
import { ConfigError, StoreError } from "../../core/errors.js";
import { LeaseProcessor, type QueuePauses } from "../../delivery/lease-loop.js";
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
  RecordWithId,
} from "../../delivery/types.js";
import {
  createRecordIdGenerator,
  createWorkerId,
  decodeCursor,
  emptyStats,
  encodeCursor,
  pageLimit,
  requeueLimit,
  validateDelivery,
  validateEnqueueInput,
} from "../job-helpers.js";
import { clone, MemoryJobs, NON_TERMINAL, type MemJob, type MemRecord } from "./jobs.js";
import {
  acquireFixedWindow,
  EMPTY_WINDOW,
  pauseFixedWindow,
  viewFixedWindow,
  type FixedWindowState,
} from "../shared/fixed-window.js";
import { hasJobFilter, jobMatchesFilter, recordMatchesFilter } from "../shared/filter.js";
import { HistogramCounter } from "../shared/histogram.js";
import { requeueOldestFirst } from "../shared/requeue-many.js";
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

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Time source for receive times, due times and dedupe expiry. @defaultValue the system clock */
  clock?: Clock;
}

/**
 * A {@link Store} kept in this process's memory, for tests, examples and quick starts (`--store memory:`).
 *
 * **State is lost when the process exits**: nothing is durable, so do not use it where a 200 must mean "safe".
 * It implements the whole contract (dedupe, leases, retries, ordering keys, limiter, sets) with the same loop as the
 * SQLite store, and passes the same conformance suite.
 *
 * @example
 * ```ts
 * const store = createMemoryStore();
 * await store.enqueue({ dedupeKey: "a", dedupeTtlMs: 60_000, record, deliveries: [] });
 * ```
 */
export class MemoryStore implements Store {
  /** Always `memory`. */
  readonly kind = "memory";
  private readonly clock: Clock;
  private readonly records = new Map<string, MemRecord>();
  /** Records in receive order (oldest first). */
  private readonly recordOrder: MemRecord[] = [];
  private readonly recordIndex = new Map<string, number>();
  private readonly dedupe = new Map<string, { recordId: string; expiresAt: number }>();
  private readonly sets = new Map<string, Set<string>>();
  private readonly values = new Map<string, string>();
  private readonly limiters = new Map<string, FixedWindowState>();
  private readonly pauses: QueuePauses = new Map();
  private readonly processors = new Set<LeaseProcessor>();
  private readonly nextRecordId = createRecordIdGenerator();
  private readonly workerPrefix = createWorkerId(process.pid);
  private workerCount = 0;
  private closed = false;
  private closePromise: Promise<void> | null = null;
  /** The jobs and their claim structures: the lease loop's backend. */
  private readonly q: MemoryJobs;

  constructor(options: MemoryStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.q = new MemoryJobs(this.records, () => this.closed);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError("Store is closed");
  }

  /** See {@link Store.enqueue}. */
  enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    try {
      this.assertOpen();
      validateEnqueueInput(input);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new StoreError(String(error)));
    }
    const now = this.clock.now();
    const key = `${input.record.queue}\u0000${input.dedupeKey}`;
    const seen = this.dedupe.get(key);
    if (seen && seen.expiresAt > now) return Promise.resolve({ status: "duplicate", recordId: seen.recordId });
    const id = this.nextRecordId(now);
    const record: RecordWithId = { ...clone(input.record), id, receivedAt: now };
    const entry: MemRecord = { record, jobs: [] };
    this.records.set(id, entry);
    this.recordIndex.set(id, this.recordOrder.length);
    this.recordOrder.push(entry);
    this.dedupe.set(key, { recordId: id, expiresAt: now + input.dedupeTtlMs });
    const jobIds = this.q.appendJobs(entry, input.deliveries, now);
    if (jobIds.length > 0) this.q.wake(record.queue);
    return Promise.resolve({ status: "enqueued", recordId: id, jobIds });
  }

  /** See {@link Store.process}. Runs the shared lease loop over this store's memory. */
  process(queue: QueueName, run: JobRunner, opts: ProcessOptions): Processor {
    this.assertOpen();
    const processor = new LeaseProcessor(queue, run, opts, {
      backend: this.q,
      pauses: this.pauses,
      workerId: `${this.workerPrefix}.${++this.workerCount}`,
      clock: this.clock,
      onStopped: (p) => this.processors.delete(p),
    });
    this.processors.add(processor);
    return processor;
  }

  private summary(job: MemJob): JobSummary {
    const record = this.records.get(job.recordId)?.record;
    if (!record) throw new StoreError(`Record ${job.recordId} missing`);
    return {
      id: job.id,
      queue: job.queue,
      recordId: job.recordId,
      target: job.target,
      state: job.state,
      attempts: job.attempts,
      maxAttempts: job.retry.maxAttempts,
      topic: record.topic,
      appId: record.appId,
      notificationId: record.notificationId,
      itemId: record.itemId,
      createdAt: record.createdAt,
      receivedAt: record.receivedAt,
      runAt: job.state === "pending" || job.state === "failed" ? job.runAt : null,
      updatedAt: job.updatedAt,
      lastError: job.lastError ? clone(job.lastError) : null,
    };
  }

  private detail(job: MemJob): JobDetail {
    const entry = this.records.get(job.recordId);
    if (!entry) throw new StoreError(`Record ${job.recordId} missing`);
    return { ...this.summary(job), record: clone(entry.record), history: clone(job.history) };
  }

  /** Matching jobs, newest record first (then delivery index, highest first). */
  private *matchingJobs(filter: JobFilter, after?: { order: number; index: number }): Generator<MemJob> {
    for (let i = after ? after.order : this.recordOrder.length - 1; i >= 0; i--) {
      const entry = this.recordOrder[i];
      if (!entry || !recordMatchesFilter(entry.record, filter)) continue;
      for (let k = entry.jobs.length - 1; k >= 0; k--) {
        if (after && i === after.order && k >= after.index) continue;
        const job = entry.jobs[k];
        if (job && jobMatchesFilter(job, filter)) yield job;
      }
    }
  }

  /** Position of a record in {@link recordOrder}; throws on a cursor naming an unknown record. */
  private orderOf(recordId: string): number {
    const order = this.recordIndex.get(recordId);
    if (order === undefined) throw new ConfigError("cursor is not a cursor returned by a previous page");
    return order;
  }

  /** See {@link Store.listJobs}. */
  listJobs(filter: JobFilter): Promise<Page<JobSummary>> {
    return this.guard(() => {
      const limit = pageLimit(filter);
      let after: { order: number; index: number } | undefined;
      if (filter.cursor !== undefined) {
        const [recordId, index] = decodeCursor(filter.cursor);
        after = { order: this.orderOf(String(recordId)), index: Number(index) };
      }
      const items: JobSummary[] = [];
      let last: MemJob | undefined;
      let more = false;
      for (const job of this.matchingJobs(filter, after)) {
        if (items.length === limit) {
          more = true;
          break;
        }
        items.push(this.summary(job));
        last = job;
      }
      return { items, nextCursor: more && last ? encodeCursor([last.recordId, last.index]) : null };
    });
  }

  /** See {@link Store.listRecords}. */
  listRecords(filter: JobFilter): Promise<Page<RecordSummary>> {
    return this.guard(() => {
      const limit = pageLimit(filter);
      let start = this.recordOrder.length - 1;
      if (filter.cursor !== undefined) {
        const [recordId] = decodeCursor(filter.cursor);
        start = this.orderOf(String(recordId)) - 1;
      }
      const byJob = hasJobFilter(filter);
      const items: RecordSummary[] = [];
      let more = false;
      for (let i = start; i >= 0; i--) {
        const entry = this.recordOrder[i];
        if (!entry || !recordMatchesFilter(entry.record, filter)) continue;
        if (byJob && !entry.jobs.some((j) => jobMatchesFilter(j, filter))) continue;
        if (items.length === limit) {
          more = true;
          break;
        }
        const { body: _body, bodyBase64: _bytes, headers: _headers, ...rest } = entry.record;
        items.push({ record: clone(rest), jobs: entry.jobs.map((j) => this.summary(j)) });
      }
      const last = items.at(-1);
      return { items, nextCursor: more && last ? encodeCursor([last.record.id]) : null };
    });
  }

  /** See {@link Store.purgeRecords}. */
  purgeRecords(beforeMs: number, limit: number): Promise<number> {
    return this.guard(() => {
      const max = Math.max(0, Math.floor(limit));
      const purged = new Set<MemRecord>();
      for (const entry of this.recordOrder) {
        if (purged.size >= max || entry.record.receivedAt >= beforeMs) break;
        if (entry.jobs.some((j) => NON_TERMINAL.has(j.state))) continue;
        purged.add(entry);
      }
      if (purged.size === 0) return 0;
      for (const entry of purged) {
        this.records.delete(entry.record.id);
        // Finished jobs are in no claim structure any more (heaps drop stale entries by version when they surface).
        for (const job of entry.jobs) this.q.jobs.delete(job.id);
      }
      const kept = this.recordOrder.filter((e) => !purged.has(e));
      this.recordOrder.length = 0;
      this.recordIndex.clear();
      for (const e of kept) {
        this.recordIndex.set(e.record.id, this.recordOrder.length);
        this.recordOrder.push(e);
      }
      return purged.size;
    });
  }

  /** See {@link Store.countJobs}. */
  countJobs(filter: JobFilter): Promise<number> {
    return this.guard(() => {
      let n = 0;
      for (const _job of this.matchingJobs(filter)) n++;
      return n;
    });
  }

  /** See {@link Store.getJob}. */
  getJob(id: JobId): Promise<JobDetail | undefined> {
    return this.guard(() => {
      const job = this.q.jobs.get(id);
      return job ? this.detail(job) : undefined;
    });
  }

  /** See {@link Store.getRecord}. */
  getRecord(recordId: string): Promise<RecordDetail | undefined> {
    return this.guard(() => {
      const entry = this.records.get(recordId);
      return entry ? { record: clone(entry.record), jobs: entry.jobs.map((j) => this.detail(j)) } : undefined;
    });
  }

  /** See {@link Store.requeue}. */
  requeue(id: JobId): Promise<RequeueResult> {
    return this.guard(() => {
      const job = this.q.jobs.get(id);
      if (!job) return "not-found";
      if (!this.q.requeueJob(job, this.clock.now())) return "conflict";
      this.q.wake(job.queue);
      return "requeued";
    });
  }

  /** See {@link Store.requeueMany}. */
  requeueMany(filter: JobFilter): Promise<number> {
    return this.guard(async () => {
      const max = requeueLimit(filter);
      const now = this.clock.now();
      const queues = new Set<QueueName>();
      const n = await requeueOldestFirst([...this.matchingJobs(filter)], max, (job) => {
        if (!this.q.requeueJob(job, now)) return false;
        queues.add(job.queue);
        return true;
      });
      for (const queue of queues) this.q.wake(queue);
      return n;
    });
  }

  /** See {@link Store.addDeliveries}. */
  addDeliveries(recordId: string, deliveries: readonly DeliveryInput[]): Promise<JobId[]> {
    return this.guard(() => {
      deliveries.forEach((d, i) => validateDelivery(d, i));
      const entry = this.records.get(recordId);
      if (!entry) throw new StoreError(`Record ${recordId} not found`);
      const ids = this.q.appendJobs(entry, deliveries, this.clock.now());
      if (ids.length > 0) this.q.wake(entry.record.queue);
      return ids;
    });
  }

  /** See {@link Store.stats}. */
  stats(): Promise<QueueStats> {
    return this.guard(() => {
      const stats = emptyStats();
      for (const job of this.q.jobs.values()) {
        stats.counts[job.queue][job.state]++;
        if ((job.state === "pending" || job.state === "failed") && job.runAt !== null) {
          const oldest = stats.oldestDueAt[job.queue];
          if (oldest === null || job.runAt < oldest) stats.oldestDueAt[job.queue] = job.runAt;
        }
      }
      return stats;
    });
  }

  /** See {@link Store.receivedHistogram}. */
  receivedHistogram(queue: QueueName, sinceMs: number, bucketMs: number): Promise<ReceivedBucket[]> {
    return this.guard(() => {
      const counter = new HistogramCounter(sinceMs, bucketMs);
      for (const { record } of this.recordOrder) {
        if (record.queue === queue) counter.add(record.receivedAt, record.topic);
      }
      return counter.buckets();
    });
  }

  /** See {@link Store.limiter}. In memory the budget is shared by the processors of this store only. */
  limiter(name: string): SharedLimiter {
    const get = (): FixedWindowState => this.limiters.get(name) ?? EMPTY_WINDOW;
    const set = (state: FixedWindowState): void => void this.limiters.set(name, state);
    return {
      acquire: (max, windowMs, originMs = 0) =>
        this.guard(() => {
          const { waitMs, state } = acquireFixedWindow(get(), max, windowMs, this.clock.now(), originMs);
          set(state);
          return waitMs;
        }),
      pauseUntil: (untilMs, reason) => this.guard(() => set(pauseFixedWindow(get(), untilMs, reason))),
      resume: () => this.guard(() => set({ ...get(), pausedUntil: null, pauseReason: null })),
      state: () => this.guard(() => viewFixedWindow(get(), this.clock.now())),
    };
  }

  /** See {@link Store.addToSet}. */
  addToSet(name: string, members: readonly string[]): Promise<number> {
    return this.guard(() => {
      let set = this.sets.get(name);
      if (!set) this.sets.set(name, (set = new Set()));
      for (const m of members) set.add(m);
      return set.size;
    });
  }

  /** See {@link Store.setMembers}. */
  setMembers(name: string): Promise<string[]> {
    return this.guard(() => [...(this.sets.get(name) ?? [])].sort());
  }
  /** See {@link Store.compareAndSet}. */
  compareAndSet(name: string, expected: string | null, next: string): Promise<string | null> {
    return this.guard(() => {
      const current = this.values.get(name) ?? null;
      if (current === expected) this.values.set(name, next);
      return current;
    });
  }

  /** See {@link Store.ping}. Rejects with {@link StoreError} once closed. */
  ping(): Promise<void> {
    return this.guard(() => undefined);
  }

  /** See {@link Store.close}. Closes every processor (waiting for running jobs), then refuses further calls. */
  close(): Promise<void> {
    this.closePromise ??= (async () => {
      await Promise.all([...this.processors].map((p) => p.close()));
      this.closed = true;
    })();
    return this.closePromise;
  }

  private guard<T>(fn: () => T | Promise<T>): Promise<T> {
    try {
      this.assertOpen();
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new StoreError(String(error)));
    }
  }
}

/**
 * Creates an in-process {@link MemoryStore}. State is lost when the process exits.
 * @example
 * ```ts
 * import { createMemoryStore } from "intercom-bridge";
 * const store = createMemoryStore();
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options);
}
