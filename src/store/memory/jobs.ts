/**
 * The delivery storage of the memory store: its jobs and the claim structures that make a claim cost
 * O(claimed · log n) whatever the backlog, as a {@link LeaseBackend} the shared lease loop drives (exchange, renew,
 * wake-ups). Records, dedupe keys and the operator side live in `memory-store.ts`. Must not import a driver or
 * anything outside `core/`, `delivery/` and the store helpers.
 */
import { StoreError } from "../../core/errors.js";
import type {
  ClaimedJob,
  ExchangeRequest,
  ExchangeResult,
  LeaseBackend,
  Settlement,
} from "../../delivery/lease-loop.js";
import { decideLeaseExpired } from "../../delivery/outcome.js";
import type {
  AttemptRecord,
  JobError,
  JobId,
  JobState,
  QueueName,
  RecordWithId,
  RetryPolicy,
} from "../../delivery/types.js";
import { jobIdOf } from "../job-helpers.js";
import type { DeliveryInput } from "../store.js";
import { Heap } from "./heap.js";

export interface MemJob {
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

export interface MemRecord {
  record: RecordWithId;
  jobs: MemJob[];
}

export const NON_TERMINAL: ReadonlySet<JobState> = new Set(["pending", "failed", "running"]);
export const REQUEUEABLE: ReadonlySet<JobState> = new Set(["dead", "failed", "done"]);

export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** The jobs of a memory store and their claim structures; see the file comment. */
export class MemoryJobs implements LeaseBackend {
  /** Every job by id. */
  readonly jobs = new Map<JobId, MemJob>();
  /** Claim structures per queue. */
  private readonly queues = new Map<QueueName, QueueIndex>();
  private readonly wakeListeners = new Map<QueueName, Set<() => void>>();
  private jobSeq = 0;
  private tokenSeq = 0;

  constructor(
    private readonly records: ReadonlyMap<string, MemRecord>,
    private readonly isClosed: () => boolean,
  ) {}

  /** See {@link LeaseBackend.onWake}. */
  onWake(queue: QueueName, listener: () => void): () => void {
    let set = this.wakeListeners.get(queue);
    if (!set) this.wakeListeners.set(queue, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Tells this queue's processors that jobs became due. */
  wake(queue: QueueName): void {
    for (const listener of this.wakeListeners.get(queue) ?? []) listener();
  }

  /** Creates one job per delivery for a stored record, due now. */
  appendJobs(entry: MemRecord, deliveries: readonly DeliveryInput[], now: number): JobId[] {
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

  /** Makes a finished or failed job due now with its attempts reset; false when it is not in such a state. */
  requeueJob(job: MemJob, now: number): boolean {
    if (!REQUEUEABLE.has(job.state)) return false;
    job.state = "pending";
    job.attempts = 0;
    job.runAt = now;
    job.updatedAt = now;
    job.lastError = null;
    this.changed(job);
    return true;
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

  /** See {@link LeaseBackend.exchange}. */
  exchange(req: ExchangeRequest): Promise<ExchangeResult> {
    return Promise.resolve(this.exchangeNow(req));
  }

  private exchangeNow(req: ExchangeRequest): ExchangeResult {
    if (this.isClosed()) throw new StoreError("Store is closed");
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
    const expired = decideLeaseExpired({ attempts: job.attempts, maxAttempts: job.retry.maxAttempts, now });
    job.history.push({
      attempt: job.attempts,
      startedAt: lease.startedAt,
      finishedAt: now,
      outcome: "lease-expired",
      error: { ...expired.error },
      worker: lease.owner,
    });
    job.lease = null;
    job.state = expired.state;
    job.runAt = expired.runAt;
    job.lastError = expired.error;
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

  /** See {@link LeaseBackend.renew}. */
  renew(_queue: QueueName, leases: readonly { jobId: string; token: string }[], until: number): Promise<string[]> {
    return Promise.resolve(this.renewNow(leases, until));
  }

  private renewNow(leases: readonly { jobId: string; token: string }[], until: number): string[] {
    if (this.isClosed()) throw new StoreError("Store is closed");
    const lost: string[] = [];
    for (const { jobId, token } of leases) {
      const job = this.jobs.get(jobId);
      if (job && job.state === "running" && job.lease?.token === token) job.lease.until = until;
      else lost.push(jobId);
    }
    return lost;
  }
}
