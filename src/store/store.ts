/**
 * The store contract, split by who uses it: {@link DeliveryStore} (the engine), {@link StoreReader} (operators read),
 * {@link StoreAdmin} (operators write) and {@link StoreCoordination} (the outbox). Types only: imports nothing but
 * the delivery vocabulary, so any layer may depend on it.
 */
import type {
  JobDetail,
  JobFilter,
  JobId,
  JobRunner,
  JobSummary,
  Page,
  ProcessOptions,
  Processor,
  QueueName,
  QueueStats,
  ReceivedBucket,
  RecordDetail,
  RecordSummary,
  RetryPolicy,
  StoredRecord,
} from "../delivery/types.js";

export type { ProcessOptions, Processor, ProcessorEvents } from "../delivery/types.js";

/** One delivery to create with a record. */
export interface DeliveryInput {
  /** Stable handler or forward-target name. */
  target: string;
  retry: RetryPolicy;
  /**
   * Deliveries sharing an ordering key run one at a time, in (`record.createdAt`, receive) order.
   * Null: no ordering constraint.
   */
  orderingKey: string | null;
}

/** Input of {@link Store.enqueue}. */
export interface EnqueueInput {
  /** Decides duplicates: a second enqueue with the same key within `dedupeTtlMs` stores nothing. Scoped per queue. */
  dedupeKey: string;
  /** How long the dedupe key is remembered, ms. */
  dedupeTtlMs: number;
  record: StoredRecord;
  /** One job per entry. Empty: the record is kept (for operators) with no delivery. */
  deliveries: readonly DeliveryInput[];
}

/** Result of {@link Store.enqueue}. */
export type EnqueueResult =
  { status: "enqueued"; recordId: string; jobIds: JobId[] } | { status: "duplicate"; recordId: string | null };

/** A fixed-window rate budget shared by every process using the same store. */
export interface SharedLimiter {
  /**
   * Takes one unit of `max` per `windowMs` window. Windows start at `originMs + k·windowMs` (k any integer; by
   * default multiples of `windowMs` since the epoch), so every backend and instance given the same arguments agrees on
   * where a window ends; the outbox passes the window clock Intercom announces. A call naming another window (another
   * start) starts its count afresh. Returns 0 when granted, otherwise the ms to wait before trying again (end of window
   * or of a pause).
   * @param originMs - any window edge, epoch ms. @defaultValue 0
   */
  acquire(max: number, windowMs: number, originMs?: number): Promise<number>;
  /** Nothing is granted before `untilMs` (epoch ms); a later pause extends, an earlier one does not shorten. */
  pauseUntil(untilMs: number, reason: string): Promise<void>;
  /** Lifts a pause now. */
  resume(): Promise<void>;
  /** Current usage and pause, for metrics and the dashboard. */
  state(): Promise<{ windowStart: number; used: number; pausedUntil: number | null; pauseReason: string | null }>;
}

/** Result of {@link Store.requeue}. */
export type RequeueResult = "requeued" | "not-found" | "conflict";

/** What every part of the contract carries: which backend it is. */
export interface StoreKind {
  /** A short name for logs and the dashboard (`memory`, `sqlite`, `redis`). */
  readonly kind: string;
}

/**
 * What the delivery engine needs from a store: durable, deduplicated enqueue, a processor over due deliveries
 * (the lease loop or the BullMQ worker, both applying `delivery/outcome.ts`), readiness and shutdown. The receiver
 * and the outbox depend on this part.
 */
export interface DeliveryStore extends StoreKind {
  /**
   * Atomically: remember `dedupeKey`, store the record and one job per delivery. All or nothing; durable when the
   * promise resolves. A second call with a remembered key stores nothing and answers `duplicate`.
   * @throws {StoreError} when the store is unreachable.
   */
  enqueue(input: EnqueueInput): Promise<EnqueueResult>;
  /** Runs `run` over due jobs of `queue` until the processor is closed. */
  process(queue: QueueName, run: JobRunner, opts: ProcessOptions): Processor;
  /** Resolves when the store answers; rejects with {@link StoreError} otherwise. */
  ping(): Promise<void>;
  /** Stops processors (waiting for running jobs), then releases connections. Idempotent. */
  close(): Promise<void>;
}

/** The operator read model: what the dashboard, the CLI and metrics read. Never changes anything. */
export interface StoreReader extends StoreKind {
  /** Deliveries, newest record first. */
  listJobs(filter: JobFilter): Promise<Page<JobSummary>>;
  /** Records with their deliveries, newest first; `state` keeps records with at least one delivery in that state. */
  listRecords(filter: JobFilter): Promise<Page<RecordSummary>>;
  /** Counts the deliveries a filter selects (for "replay N deliveries?" confirmations). */
  countJobs(filter: JobFilter): Promise<number>;
  /** One delivery with its record and history. */
  getJob(id: JobId): Promise<JobDetail | undefined>;
  /** One record with all its deliveries. */
  getRecord(recordId: string): Promise<RecordDetail | undefined>;
  /** Counts per queue and state, and the oldest due delivery. */
  stats(): Promise<QueueStats>;
  /** Records received since `sinceMs`, per `bucketMs` bucket and topic. */
  receivedHistogram(queue: QueueName, sinceMs: number, bucketMs: number): Promise<ReceivedBucket[]>;
}

/** Operator writes: requeue and replay deliveries, re-deliver a record to another target, retention. */
export interface StoreAdmin {
  /**
   * Makes a `dead`, `failed` or `done` delivery due now with its attempts reset. `running` and `pending` ones are a
   * `conflict`.
   */
  requeue(id: JobId): Promise<RequeueResult>;
  /**
   * Requeues every `dead`/`failed`/`done` delivery the filter selects, oldest first; returns how many. `filter.limit`,
   * when given, caps how many are requeued (any integer >= 1, not capped at a page size), so a caller that confirmed
   * "replay N" never replays more than N, and what arrived since it counted is what is left out. `filter.cursor` is
   * ignored.
   * @throws {ConfigError} when `limit` is not an integer >= 1.
   */
  requeueMany(filter: JobFilter): Promise<number>;
  /**
   * Adds deliveries to an existing record, due now (replay of a stored record to a handler under a new name, see
   * `replay --to`).
   * @throws {StoreError} when the record does not exist.
   */
  addDeliveries(recordId: string, deliveries: readonly DeliveryInput[]): Promise<JobId[]>;
  /**
   * Retention: deletes up to `limit` records received before `beforeMs` whose deliveries are all finished (`done` or
   * `dead`; a record without deliveries counts as finished), with their deliveries and attempt history, oldest first.
   * A record with a `pending`, `failed` or `running` delivery is kept whatever its age, so nothing is dropped before it
   * was processed or dead-lettered. Dedupe keys are not touched: they expire on their own.
   * @returns how many records were deleted (less than `limit` once none is left to delete)
   */
  purgeRecords(beforeMs: number, limit: number): Promise<number>;
}

/**
 * Coordination between processes sharing the store: rate budgets and named sets (the outbox uses them), and named
 * values (serve's heartbeat and the gap-recovery lease).
 */
export interface StoreCoordination {
  /** A rate budget shared by all processes on this store, by name. */
  limiter(name: string): SharedLimiter;
  /** Adds members to a named set; returns the set's size afterwards (e.g. distinct outbound event names). */
  addToSet(name: string, members: readonly string[]): Promise<number>;
  /** Members of a named set. */
  setMembers(name: string): Promise<string[]>;
  /**
   * Atomically stores `next` under `name` when the value stored there is `expected` (null: none stored). Returns the
   * value stored before the call: the swap happened exactly when it equals `expected`. To only read, pass an
   * `expected` value that is never stored (nothing changes then). Values are kept until replaced; they do not expire.
   */
  compareAndSet(name: string, expected: string | null, next: string): Promise<string | null>;
}

/**
 * The storage contract every backend (memory, SQLite, Redis) satisfies and one conformance suite checks
 * (`defineStoreConformance` in `intercom-bridge/testing`): the four parts above. It speaks in records and deliveries,
 * not SQL or Redis. Code that uses a store should ask for the parts it needs, not for all of `Store`.
 */
export interface Store extends DeliveryStore, StoreReader, StoreAdmin, StoreCoordination {}
