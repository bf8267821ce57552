import { systemClock, type Clock } from "../core/clock.js";
import { ConfigError, StoreError } from "../core/errors.js";
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
  RetryPolicy,
} from "../queue/types.js";
import {
  createRecordIdGenerator,
  createWorkerId,
  decodeCursor,
  emptyStats,
  encodeCursor,
  filterStates,
  jobIdOf,
  pageLimit,
  requeueLimit,
  topicMatches,
  validateDelivery,
  validateEnqueueInput,
} from "./job-helpers.js";
import {
  LEASE_EXPIRED_ERROR,
  LeaseProcessor,
  type ClaimedJob,
  type ExchangeRequest,
  type ExchangeResult,
  type LeaseBackend,
  type QueuePauses,
  type Settlement,
} from "./lease-loop.js";
import type {
  DeliveryInput,
  EnqueueInput,
  EnqueueResult,
  ProcessOptions,
  Processor,
  RequeueResult,
  SharedLimiter,
  Store,
} from "./store.js";

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Time source for receive times, due times and dedupe expiry. @defaultValue the system clock */
  clock?: Clock;
}

interface MemJob {
  id: JobId;
  seq: number;
  recordId: string;
  index: number;
  queue: QueueName;
  target: string;
  retry: RetryPolicy;
  orderingKey: string | null;
  state: JobState;
  attempts: number;
  runAt: number | null;
  updatedAt: number;
  lastError: JobError | null;
  history: AttemptRecord[];
  lease: { token: string; owner: string; until: number; startedAt: number } | null;
  /** The record's createdAt and receivedAt, cached for ordering-key comparisons. */
  createdAt: number;
  receivedAt: number;
  /** Bumped on every state or runAt change; due-heap entries carrying an older version are stale. */
  version: number;
  /** The version last pushed into the ordered due heap as a key head (-1: none pending). */
  headVersion: number;
  /** Whether the job sits in its ordering key's heap (entries are removed lazily). */
  inKeyHeap: boolean;
}

/** A binary min-heap over `less`. */
class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    let i = a.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(item, a[parent]!)) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(a[r]!, a[l]!) ? r : l;
      if (!this.less(a[c]!, last)) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

/** A waiting job in a due heap, valid while `version` matches the job's. */
interface DueEntry {
  runAt: number;
  seq: number;
  job: MemJob;
  version: number;
}

/** The non-terminal jobs of one ordering key, earliest (createdAt, receivedAt, seq) first, and how many run. */
interface KeyState {
  jobs: Heap<MemJob>;
  running: number;
}

/**
 * Per-queue claim structures, so a claim costs O(claimed · log n) whatever the backlog:
 * - `ordered`: unkeyed waiting jobs plus the waiting head of every idle ordering key, by (runAt, seq);
 * - `unordered`: every waiting job by (runAt, seq) (for `ordered: false` processors);
 * both built on the first claim of their kind, so a queue only ever claimed one way does not grow the other;
 * - `leases`: running jobs by lease expiry (renewals re-push on pop).
 */
interface QueueIndex {
  ordered: Heap<DueEntry> | null;
  unordered: Heap<DueEntry> | null;
  leases: Heap<{ until: number; job: MemJob; token: string }>;
  keys: Map<string, KeyState>;
}

const dueLess = (a: DueEntry, b: DueEntry): boolean => a.runAt < b.runAt || (a.runAt === b.runAt && a.seq < b.seq);
const positionLess = (a: MemJob, b: MemJob): boolean =>
  a.createdAt !== b.createdAt
    ? a.createdAt < b.createdAt
    : a.receivedAt !== b.receivedAt
      ? a.receivedAt < b.receivedAt
      : a.seq < b.seq;

function isWaiting(job: MemJob): boolean {
  return (job.state === "pending" || job.state === "failed") && job.runAt !== null;
}

interface MemRecord {
  record: RecordWithId;
  jobs: MemJob[];
}

const NON_TERMINAL: ReadonlySet<JobState> = new Set(["pending", "failed", "running"]);
const REQUEUEABLE: ReadonlySet<JobState> = new Set(["dead", "failed", "done"]);

function clone<T>(value: T): T {
  return structuredClone(value);
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
  /** Claim structures per queue. */
  private readonly queues = new Map<QueueName, QueueIndex>();
  private readonly jobs = new Map<JobId, MemJob>();
  private readonly dedupe = new Map<string, { recordId: string; expiresAt: number }>();
  private readonly sets = new Map<string, Set<string>>();
  private readonly limiters = new Map<
    string,
    { windowStart: number; used: number; pausedUntil: number | null; pauseReason: string | null }
  >();
  private readonly wakeListeners = new Map<QueueName, Set<() => void>>();
  private readonly pauses: QueuePauses = new Map();
  private readonly processors = new Set<LeaseProcessor>();
  private readonly nextRecordId = createRecordIdGenerator();
  private readonly workerPrefix = createWorkerId(process.pid);
  private jobSeq = 0;
  private workerCount = 0;
  private tokenSeq = 0;
  private closed = false;
  private closePromise: Promise<void> | null = null;
  private readonly backend: LeaseBackend;

  constructor(options: MemoryStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.backend = {
      exchange: (req) => Promise.resolve(this.exchange(req)),
      renew: (_queue, leases, until) => Promise.resolve(this.renew(leases, until)),
      onWake: (queue, listener) => {
        let set = this.wakeListeners.get(queue);
        if (!set) this.wakeListeners.set(queue, (set = new Set()));
        set.add(listener);
        return () => set.delete(listener);
      },
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError("Store is closed");
  }

  private wake(queue: QueueName): void {
    for (const listener of this.wakeListeners.get(queue) ?? []) listener();
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
    const jobIds = this.appendJobs(entry, input.deliveries, now);
    if (jobIds.length > 0) this.wake(record.queue);
    return Promise.resolve({ status: "enqueued", recordId: id, jobIds });
  }

  private appendJobs(entry: MemRecord, deliveries: readonly DeliveryInput[], now: number): JobId[] {
    const ids: JobId[] = [];
    for (const d of deliveries) {
      const index = entry.jobs.length;
      const job: MemJob = {
        id: jobIdOf(entry.record.id, index),
        seq: ++this.jobSeq,
        recordId: entry.record.id,
        index,
        queue: entry.record.queue,
        target: d.target,
        retry: clone(d.retry),
        orderingKey: d.orderingKey,
        state: "pending",
        attempts: 0,
        runAt: now,
        updatedAt: now,
        lastError: null,
        history: [],
        lease: null,
        createdAt: entry.record.createdAt ?? 0,
        receivedAt: entry.record.receivedAt,
        version: 0,
        headVersion: -1,
        inKeyHeap: false,
      };
      entry.jobs.push(job);
      this.jobs.set(job.id, job);
      this.changed(job);
      ids.push(job.id);
    }
    return ids;
  }

  /** See {@link Store.process}. Runs the shared lease loop over this store's memory. */
  process(queue: QueueName, run: JobRunner, opts: ProcessOptions): Processor {
    this.assertOpen();
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

  private index(queue: QueueName): QueueIndex {
    let q = this.queues.get(queue);
    if (!q) {
      q = { ordered: null, unordered: null, leases: new Heap((a, b) => a.until < b.until), keys: new Map() };
      this.queues.set(queue, q);
    }
    return q;
  }

  /** Records a change of `job`'s state or runAt in the claim structures (after any running count was adjusted). */
  private changed(job: MemJob): void {
    job.version++;
    const q = this.index(job.queue);
    const waiting = isWaiting(job);
    if (waiting) {
      const entry: DueEntry = { runAt: job.runAt ?? 0, seq: job.seq, job, version: job.version };
      q.unordered?.push(entry);
      if (job.orderingKey === null) q.ordered?.push(entry);
    }
    if (job.orderingKey === null) return;
    let ks = q.keys.get(job.orderingKey);
    if (waiting && !job.inKeyHeap) {
      if (!ks) q.keys.set(job.orderingKey, (ks = { jobs: new Heap(positionLess), running: 0 }));
      ks.jobs.push(job);
      job.inKeyHeap = true;
    }
    if (ks) this.refreshKey(q, job.orderingKey, ks);
  }

  /** The earliest non-terminal job of a key, dropping finished ones from the top of its heap. */
  private keyHead(ks: KeyState): MemJob | undefined {
    for (let top = ks.jobs.peek(); top; top = ks.jobs.peek()) {
      if (NON_TERMINAL.has(top.state)) return top;
      ks.jobs.pop();
      top.inKeyHeap = false;
    }
    return undefined;
  }

  /** Offers an idle key's waiting head to ordered claims; forgets keys with nothing left. */
  private refreshKey(q: QueueIndex, key: string, ks: KeyState): void {
    const head = this.keyHead(ks);
    if (!head) {
      if (ks.running === 0) q.keys.delete(key);
      return;
    }
    if (ks.running > 0 || !q.ordered || !isWaiting(head) || head.headVersion === head.version) return;
    head.headVersion = head.version;
    q.ordered.push({ runAt: head.runAt ?? 0, seq: head.seq, job: head, version: head.version });
  }

  private buildDue(q: QueueIndex, queue: QueueName, ordered: boolean): Heap<DueEntry> {
    const heap = new Heap(dueLess);
    if (ordered) q.ordered = heap;
    else q.unordered = heap;
    for (const job of this.jobs.values()) {
      if (job.queue !== queue || !isWaiting(job)) continue;
      if (ordered && job.orderingKey !== null) continue;
      heap.push({ runAt: job.runAt ?? 0, seq: job.seq, job, version: job.version });
    }
    if (ordered) {
      for (const [key, ks] of [...q.keys]) this.refreshKey(q, key, ks);
    }
    return heap;
  }

  /** Whether a due-heap entry still names a claimable job. */
  private claimable(q: QueueIndex, entry: DueEntry, ordered: boolean): boolean {
    const job = entry.job;
    if (job.version !== entry.version || !isWaiting(job)) return false;
    if (!ordered || job.orderingKey === null) return true;
    const ks = q.keys.get(job.orderingKey);
    return ks !== undefined && ks.running === 0 && this.keyHead(ks) === job;
  }

  private exchange(req: ExchangeRequest): ExchangeResult {
    if (this.closed) throw new StoreError("Store is closed");
    for (const s of req.settlements) this.applySettlement(s, req.now);
    const now = req.now;
    const q = this.index(req.queue);
    // Expire leases that ran out; drop entries of runs that already ended; re-file renewed ones.
    for (let top = q.leases.peek(); top; top = q.leases.peek()) {
      const job = top.job;
      const current = job.state === "running" && job.lease?.token === top.token ? job.lease : null;
      if (current && top.until > now) break;
      q.leases.pop();
      if (!current) continue;
      if (current.until > now) q.leases.push({ until: current.until, job, token: top.token });
      else this.expireLease(job, now);
    }
    const heap = (req.ordered ? q.ordered : q.unordered) ?? this.buildDue(q, req.queue, req.ordered);
    const claimed: ClaimedJob[] = [];
    const token = `${req.owner}/${++this.tokenSeq}`;
    for (let top = heap.peek(); top; top = heap.peek()) {
      if (!this.claimable(q, top, req.ordered)) {
        heap.pop();
        if (top.job.headVersion === top.version) top.job.headVersion = -1;
        continue;
      }
      if (claimed.length >= req.claim || top.runAt > now) break;
      heap.pop();
      const job = top.job;
      const entry = this.records.get(job.recordId);
      if (!entry) continue;
      if (job.headVersion === top.version) job.headVersion = -1;
      job.state = "running";
      job.attempts += 1;
      job.runAt = null;
      job.updatedAt = now;
      job.lease = { token, owner: req.owner, until: now + req.leaseMs, startedAt: now };
      if (job.orderingKey !== null) {
        const ks = q.keys.get(job.orderingKey);
        if (ks) ks.running++;
      }
      this.changed(job);
      q.leases.push({ until: job.lease.until, job, token });
      claimed.push({
        token,
        retry: clone(job.retry),
        job: {
          id: job.id,
          queue: job.queue,
          target: job.target,
          attempt: job.attempts,
          maxAttempts: job.retry.maxAttempts,
          record: clone(entry.record),
        },
      });
    }
    return { claimed, nextRunAt: heap.peek()?.runAt ?? null };
  }

  /** Adjusts the running count of a job that stops running. */
  private stoppedRunning(job: MemJob): void {
    if (job.orderingKey === null) return;
    const ks = this.queues.get(job.queue)?.keys.get(job.orderingKey);
    if (ks && ks.running > 0) ks.running--;
  }

  private expireLease(job: MemJob, now: number): void {
    const lease = job.lease;
    if (!lease) return;
    const isLast = job.attempts >= job.retry.maxAttempts;
    job.history.push({
      attempt: job.attempts,
      startedAt: lease.startedAt,
      finishedAt: now,
      outcome: "lease-expired",
      error: { ...LEASE_EXPIRED_ERROR },
      worker: lease.owner,
    });
    job.lease = null;
    job.state = isLast ? "dead" : "failed";
    job.runAt = isLast ? null : now;
    job.lastError = { ...LEASE_EXPIRED_ERROR };
    job.updatedAt = now;
    this.stoppedRunning(job);
    this.changed(job);
  }

  private applySettlement(s: Settlement, now: number): void {
    const job = this.jobs.get(s.jobId);
    if (!job || job.state !== "running" || job.lease?.token !== s.token) return; // lease lost: ignore
    job.state = s.state;
    job.attempts = s.attempts;
    job.runAt = s.runAt;
    if (s.lastError) job.lastError = s.lastError;
    job.lease = null;
    job.updatedAt = now;
    job.history.push(s.run);
    this.stoppedRunning(job);
    this.changed(job);
    if (s.state === "pending" || s.state === "failed") this.wake(job.queue);
  }

  private renew(leases: readonly { jobId: string; token: string }[], until: number): string[] {
    if (this.closed) throw new StoreError("Store is closed");
    const lost: string[] = [];
    for (const { jobId, token } of leases) {
      const job = this.jobs.get(jobId);
      if (job && job.state === "running" && job.lease?.token === token) job.lease.until = until;
      else lost.push(jobId);
    }
    return lost;
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

  private recordMatches(record: RecordWithId, filter: JobFilter): boolean {
    if (filter.queue !== undefined && record.queue !== filter.queue) return false;
    if (filter.topic !== undefined && !topicMatches(filter.topic, record.topic)) return false;
    if (filter.appId !== undefined && record.appId !== filter.appId) return false;
    if (filter.notificationId !== undefined && record.notificationId !== filter.notificationId) return false;
    if (filter.itemId !== undefined && record.itemId !== filter.itemId) return false;
    if (filter.recordId !== undefined && record.id !== filter.recordId) return false;
    if (filter.since !== undefined && record.receivedAt < filter.since) return false;
    if (filter.until !== undefined && record.receivedAt >= filter.until) return false;
    return true;
  }

  private jobMatches(job: MemJob, filter: JobFilter): boolean {
    const states = filterStates(filter);
    if (states && !states.includes(job.state)) return false;
    if (filter.target !== undefined && job.target !== filter.target) return false;
    return true;
  }

  /** Matching jobs, newest record first (then delivery index, highest first). */
  private *matchingJobs(filter: JobFilter, after?: { order: number; index: number }): Generator<MemJob> {
    for (let i = after ? after.order : this.recordOrder.length - 1; i >= 0; i--) {
      const entry = this.recordOrder[i];
      if (!entry || !this.recordMatches(entry.record, filter)) continue;
      for (let k = entry.jobs.length - 1; k >= 0; k--) {
        if (after && i === after.order && k >= after.index) continue;
        const job = entry.jobs[k];
        if (job && this.jobMatches(job, filter)) yield job;
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
      const hasJobFilter = filter.state !== undefined || filter.target !== undefined;
      const items: RecordSummary[] = [];
      let more = false;
      for (let i = start; i >= 0; i--) {
        const entry = this.recordOrder[i];
        if (!entry || !this.recordMatches(entry.record, filter)) continue;
        if (hasJobFilter && !entry.jobs.some((j) => this.jobMatches(j, filter))) continue;
        if (items.length === limit) {
          more = true;
          break;
        }
        const { body: _body, headers: _headers, ...rest } = entry.record;
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
        for (const job of entry.jobs) this.jobs.delete(job.id);
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
      const job = this.jobs.get(id);
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

  private requeueJob(job: MemJob, now: number): boolean {
    if (!REQUEUEABLE.has(job.state)) return false;
    job.state = "pending";
    job.attempts = 0;
    job.runAt = now;
    job.updatedAt = now;
    job.lastError = null;
    this.changed(job);
    return true;
  }

  /** See {@link Store.requeue}. */
  requeue(id: JobId): Promise<RequeueResult> {
    return this.guard(() => {
      const job = this.jobs.get(id);
      if (!job) return "not-found";
      if (!this.requeueJob(job, this.clock.now())) return "conflict";
      this.wake(job.queue);
      return "requeued";
    });
  }

  /** See {@link Store.requeueMany}. */
  requeueMany(filter: JobFilter): Promise<number> {
    return this.guard(() => {
      const max = requeueLimit(filter);
      const now = this.clock.now();
      // Oldest first (matchingJobs walks newest first): with a cap, what matched after a caller counted is left out.
      const selected = [...this.matchingJobs(filter)].reverse();
      let n = 0;
      const queues = new Set<QueueName>();
      for (const job of selected) {
        if (n >= max) break;
        if (this.requeueJob(job, now)) {
          n++;
          queues.add(job.queue);
        }
      }
      for (const q of queues) this.wake(q);
      return n;
    });
  }

  /** See {@link Store.addDeliveries}. */
  addDeliveries(recordId: string, deliveries: readonly DeliveryInput[]): Promise<JobId[]> {
    return this.guard(() => {
      deliveries.forEach((d, i) => validateDelivery(d, i));
      const entry = this.records.get(recordId);
      if (!entry) throw new StoreError(`Record ${recordId} not found`);
      const ids = this.appendJobs(entry, deliveries, this.clock.now());
      if (ids.length > 0) this.wake(entry.record.queue);
      return ids;
    });
  }

  /** See {@link Store.stats}. */
  stats(): Promise<QueueStats> {
    return this.guard(() => {
      const stats = emptyStats();
      for (const job of this.jobs.values()) {
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
      const size = Math.max(1, Math.floor(bucketMs));
      const counts = new Map<string, ReceivedBucket>();
      for (const { record } of this.recordOrder) {
        if (record.queue !== queue || record.receivedAt < sinceMs) continue;
        const bucketStart = sinceMs + Math.floor((record.receivedAt - sinceMs) / size) * size;
        const key = `${bucketStart}\u0000${record.topic}`;
        const bucket = counts.get(key);
        if (bucket) bucket.count++;
        else counts.set(key, { bucketStart, topic: record.topic, count: 1 });
      }
      return [...counts.values()].sort(
        (a, b) => a.bucketStart - b.bucketStart || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0),
      );
    });
  }

  /** See {@link Store.limiter}. In memory the budget is shared by the processors of this store only. */
  limiter(name: string): SharedLimiter {
    const get = (): { windowStart: number; used: number; pausedUntil: number | null; pauseReason: string | null } => {
      let state = this.limiters.get(name);
      if (!state) this.limiters.set(name, (state = { windowStart: 0, used: 0, pausedUntil: null, pauseReason: null }));
      return state;
    };
    return {
      acquire: (max, windowMs, originMs = 0) =>
        this.guard(() => {
          const state = get();
          const now = this.clock.now();
          if (state.pausedUntil !== null && state.pausedUntil > now) return state.pausedUntil - now;
          const windowStart = now - ((((now - originMs) % windowMs) + windowMs) % windowMs);
          if (state.windowStart !== windowStart) {
            state.windowStart = windowStart;
            state.used = 0;
          }
          if (state.used < max) {
            state.used++;
            return 0;
          }
          return Math.max(1, windowStart + windowMs - now);
        }),
      pauseUntil: (untilMs, reason) =>
        this.guard(() => {
          const state = get();
          if (state.pausedUntil === null || untilMs > state.pausedUntil) {
            state.pausedUntil = untilMs;
            state.pauseReason = reason;
          }
        }),
      resume: () =>
        this.guard(() => {
          const state = get();
          state.pausedUntil = null;
          state.pauseReason = null;
        }),
      state: () =>
        this.guard(() => {
          const state = get();
          const now = this.clock.now();
          const isPaused = state.pausedUntil !== null && state.pausedUntil > now;
          return {
            windowStart: state.windowStart,
            used: state.used,
            pausedUntil: isPaused ? state.pausedUntil : null,
            pauseReason: isPaused ? state.pauseReason : null,
          };
        }),
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

  private guard<T>(fn: () => T): Promise<T> {
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
