/**
 * Queue vocabulary shared by every store: deliveries (jobs), retry policies and outcomes. No I/O here.
 */

/** The two queues: webhook notifications in, Data Events out. */
export type QueueName = "inbound" | "outbox";

/**
 * The state of one delivery.
 * - `pending`: waiting for its first run (or requeued), possibly not due yet.
 * - `running`: claimed by a worker under a lease.
 * - `failed`: at least one attempt failed; waiting for its next retry.
 * - `done`: delivered.
 * - `dead`: gave up (attempts exhausted, unrecoverable error, or handler missing). Only `requeue` revives it.
 */
export type JobState = "pending" | "running" | "failed" | "done" | "dead";

/** All job states, in lifecycle order. */
export const JOB_STATES: readonly JobState[] = ["pending", "running", "failed", "done", "dead"];

/** Backoff between failed attempts. Data, not a function: it is stored with the job. */
export interface BackoffSpec {
  /** `exponential` doubles `delayMs` per attempt; `fixed` keeps it. */
  type: "fixed" | "exponential";
  /** Delay after the first failed attempt, in ms. */
  delayMs: number;
  /** Random fraction (0–1) of the delay to add or remove. @defaultValue 0.2 */
  jitter?: number;
  /** Upper bound of one delay, in ms. @defaultValue 3_600_000 (1 h) */
  maxDelayMs?: number;
}

/** How often a delivery is attempted and how long to wait between attempts. */
export interface RetryPolicy {
  /** Total attempts including the first. @defaultValue 8 */
  maxAttempts: number;
  backoff: BackoffSpec;
}

/** What a store keeps about one received notification or one outbound event. */
export interface StoredRecord {
  /** Which queue the record belongs to. */
  queue: QueueName;
  /** Notification topic (inbound) or `event_name` (outbox). */
  topic: string;
  /** The raw body as received (inbound) or the event JSON (outbox), as text (decoded as UTF-8). */
  body: string;
  /**
   * Present only when the received body is not valid UTF-8: its exact bytes, base64 (`body` then holds them decoded,
   * invalid sequences as U+FFFD, for display). Stores keep it as given; forwards and replays send these bytes.
   */
  bodyBase64?: string;
  /** Workspace `app_id` (inbound), or null. */
  appId: string | null;
  /** Intercom's notification id (`notif_…`), or null (`ping`, outbound events). */
  notificationId: string | null;
  /** `data.item.id` (inbound) or the contact identifier (outbox), or null. */
  itemId: string | null;
  /** The record's own `created_at`, unix seconds: orders deliveries of one item. */
  createdAt: number;
  /** Request headers worth keeping for operators (never the signature). */
  headers?: Record<string, string>;
}

/** A stored record with the id and receive time the store gave it. */
export interface RecordWithId extends StoredRecord {
  /** Store-assigned id: URL-safe, no `:`, sorts by receive time. */
  id: string;
  /** When it was stored, epoch ms. */
  receivedAt: number;
}

/** Opaque delivery id: URL-safe, no `:`. */
export type JobId = string;

/** One delivery as the runner sees it. */
export interface Job {
  id: JobId;
  queue: QueueName;
  /** The stable name of the handler or forward target (STYLE §5). */
  target: string;
  /** 1-based number of this attempt. */
  attempt: number;
  maxAttempts: number;
  record: RecordWithId;
}

/** Runs one delivery. Resolve = delivered; throw to fail (see the control-flow errors in core/errors.ts). */
export type JobRunner = (job: Job, signal: AbortSignal) => Promise<void>;

/** A recorded error. */
export interface JobError {
  name: string;
  code?: string;
  message: string;
  /** Where it was thrown: up to 10 `at …` frames, truncated (none for waits such as `RetryLaterError`). */
  stack?: string;
}

/** One finished run of a delivery. */
export interface AttemptRecord {
  /** The attempt number the run used (runs that used no attempt repeat the previous number). */
  attempt: number;
  startedAt: number;
  finishedAt: number;
  outcome: "completed" | "failed" | "dead" | "retry-later" | "rate-limited" | "lease-expired" | "released";
  error?: JobError;
  /** Who ran it (worker id), for operators. */
  worker?: string;
}

/** What operators see of one delivery. */
export interface JobSummary {
  id: JobId;
  queue: QueueName;
  recordId: string;
  target: string;
  state: JobState;
  /** Attempts used so far. */
  attempts: number;
  maxAttempts: number;
  topic: string;
  appId: string | null;
  notificationId: string | null;
  itemId: string | null;
  /** Record `created_at`, unix seconds. */
  createdAt: number;
  /** When the record was stored, epoch ms. */
  receivedAt: number;
  /** When it is due next (pending/failed), epoch ms; null otherwise. */
  runAt: number | null;
  /** Last change, epoch ms. */
  updatedAt: number;
  lastError: JobError | null;
}

/** A delivery with its record and its attempt history. */
export interface JobDetail extends JobSummary {
  record: RecordWithId;
  history: AttemptRecord[];
}

/** A record and all its deliveries. */
export interface RecordDetail {
  record: RecordWithId;
  jobs: JobDetail[];
}

/** A record with its deliveries' summaries (dashboard table). */
export interface RecordSummary {
  record: Omit<RecordWithId, "body" | "headers">;
  jobs: JobSummary[];
}

/** Filters for listing deliveries or records. Every field narrows; absent fields do not. */
export interface JobFilter {
  queue?: QueueName;
  state?: JobState | readonly JobState[];
  /** Exact topic, `group.*` or `*`. */
  topic?: string;
  target?: string;
  appId?: string;
  notificationId?: string;
  itemId?: string;
  recordId?: string;
  /** Records received at or after, epoch ms. */
  since?: number;
  /** Records received before, epoch ms. */
  until?: number;
  /** Page size. @defaultValue 50, at most 500 */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. Pages go from newest to oldest. */
  cursor?: string;
}

/** One page of results; `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Counts per state for one queue. */
export type StateCounts = Record<JobState, number>;

/** Queue statistics for metrics, readiness and the dashboard. */
export interface QueueStats {
  counts: Record<QueueName, StateCounts>;
  /** `runAt` of the oldest due pending/failed delivery per queue, epoch ms, or null. */
  oldestDueAt: Record<QueueName, number | null>;
}

/** Records received per time bucket and topic. */
export interface ReceivedBucket {
  /** Bucket start, epoch ms. */
  bucketStart: number;
  topic: string;
  count: number;
}

/** Events a processor reports, past tense (BullMQ `WorkerListener` style). */
export interface ProcessorEvents {
  /** A run started. */
  started: (e: { jobId: JobId; target: string; attempt: number; queue: QueueName }) => void;
  /** A run finished, whatever its outcome; `durationMs` is wall time. */
  finished: (e: {
    jobId: JobId;
    target: string;
    attempt: number;
    queue: QueueName;
    durationMs: number;
    outcome: "completed" | "failed" | "dead" | "retry-later" | "rate-limited";
    error?: unknown;
    /** The record's topic (inbound) or event name (outbox), for logs. */
    topic?: string;
    /** Intercom's notification id, or null (`ping`, outbound events). */
    notificationId?: string | null;
    /** After a failure: when the delivery runs again (epoch ms), or null when it will not (dead). */
    nextRunAt?: number | null;
  }) => void;
}

/** Options of {@link Store.process}. */
export interface ProcessOptions {
  /** Runs at once in this process. @defaultValue 8 */
  concurrency: number;
  /** How long a claim lasts without renewal before another worker may take the job, ms. @defaultValue 30_000 */
  leaseMs: number;
  /** How often to look for due work when idle, ms (stores with push notification may ignore it). @defaultValue 200 */
  pollMs?: number;
  /** Honour `orderingKey` (one running delivery per key, in order). @defaultValue true */
  ordered?: boolean;
  /** Reports runs, for logs and metrics. */
  on?: Partial<ProcessorEvents>;
}

/** A running processor. */
export interface Processor {
  /**
   * Stops claiming, waits up to `timeoutMs` for running jobs, then aborts the rest and releases them
   * (they become due again at once, without using an attempt).
   */
  close(timeoutMs?: number): Promise<void>;
  /** Jobs running in this processor now. */
  readonly running: number;
  /**
   * Optional test hook (added for the conformance suite's lease-expiry test): simulates this worker dying. It stops
   * claiming and renewing leases at once and ignores the outcome of running jobs, without aborting or releasing them,
   * so their leases expire and another processor reclaims them. BullMQ equivalent: `worker.close(true)`.
   * Backends without it skip that test.
   */
  kill?(): Promise<void>;
}
