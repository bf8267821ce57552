import { randomUUID } from "node:crypto";
import {
  DelayedError,
  Queue,
  UnrecoverableError as BullUnrecoverableError,
  WaitingError,
  Worker,
  type ConnectionOptions as BullConnectionOptions,
  type Job as BullJob,
} from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import { createLogger, type Logger } from "../../core/logger.js";
import {
  ConfigError,
  RateLimitedError,
  RetryLaterError,
  StoreError,
  UnrecoverableError,
  describeError,
} from "../../core/errors.js";
import { computeBackoff } from "../../queue/backoff.js";
import type {
  AttemptRecord,
  Job,
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
} from "../../queue/types.js";
import {
  QUEUE_NAMES,
  createRecordIdGenerator,
  createWorkerId,
  decodeCursor,
  emptyStats,
  encodeCursor,
  filterStates,
  jobIdOf,
  pageLimit,
  parseJobId,
  requeueLimit,
  topicMatches,
  validateDelivery,
  validateEnqueueInput,
  withoutCursor,
} from "../job-helpers.js";
import { LEASE_EXPIRED_ERROR } from "../lease-loop.js";
import type {
  DeliveryInput,
  EnqueueInput,
  EnqueueResult,
  ProcessOptions,
  Processor,
  ProcessorEvents,
  RequeueResult,
  SharedLimiter,
  Store,
} from "../store.js";
import { RedisKeys } from "./keys.js";
import { defineScripts, type StoreScripts } from "./scripts.js";
import { openSpool, type Spool, type SpoolEntry } from "./spool.js";

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** `redis://[user:pass@]host:port/db` or `rediss://…`. Ignored when `connection` has a host. @defaultValue `redis://127.0.0.1:6379` */
  url?: string;
  /** ioredis options, merged over the parsed `url` (TLS, password, db, …). */
  connection?: RedisOptions;
  /** Key prefix, so several deployments can share one Redis. No `:` at the end. @defaultValue `"intercom-bridge"` */
  prefix?: string;
  /**
   * Local SQLite file that keeps acknowledged enqueues while Redis is unreachable; drained into Redis, deduplicated,
   * once it is back. Several processes on one machine may share it. `null`: no spool (enqueue fails with
   * {@link StoreError} while Redis is down). @defaultValue null
   */
  spoolPath?: string | null;
  /** How long one enqueue waits for Redis before spooling (or failing), ms. @defaultValue 1_000 */
  commandTimeoutMs?: number;
  /**
   * How long an enqueue waits when another instance is writing the same dedupe key at that moment, ms; after that
   * it fails with {@link StoreError} (503, Intercom retries). @defaultValue 1_500
   */
  pendingWaitMs?: number;
  /** First delay of a delivery waiting for its ordering key, ms (doubles per wait). @defaultValue 50 */
  orderingRetryMs?: number;
  /** Longest delay of a delivery waiting for its ordering key, ms. @defaultValue 2_000 */
  orderingMaxRetryMs?: number;
  /**
   * How many times a delivery may lose its lease (worker died) before it is dead-lettered (BullMQ
   * `maxStalledCount`). @defaultValue 3
   */
  maxStalledCount?: number;
  /** How often the spool drain looks for rows while Redis is reachable, ms. @defaultValue 500 */
  drainIntervalMs?: number;
  /** Logger for connection problems and spool activity. @defaultValue no-op */
  log?: Partial<Logger>;
}

interface ResolvedOptions {
  prefix: string;
  connection: RedisOptions;
  url: string | undefined;
  spoolPath: string | null;
  commandTimeoutMs: number;
  pendingWaitMs: number;
  orderingRetryMs: number;
  orderingMaxRetryMs: number;
  maxStalledCount: number;
  drainIntervalMs: number;
}

/** What a BullMQ job carries. Data, not functions: the retry policy travels with the job (STYLE §5). */
interface RedisJobData {
  recordId: string;
  index: number;
  target: string;
  queue: QueueName;
  orderingKey: string | null;
  /** Record `created_at`: the job's score in its ordering line. */
  orderScore: number;
  retry: RetryPolicy;
}

type BJob = BullJob<RedisJobData, unknown, string>;

/** What `addBulk` takes for one delivery. */
/** One enqueue's claim-and-write script call and BullMQ jobs, ready to send. */
interface PreparedWrite {
  recordId: string;
  /** Dedupe key (Redis key) and our claim value on it. */
  dk: string;
  claim: string;
  keys: string[];
  args: (string | number)[];
  jobs: BullJobSpec[];
  dedupeTtlMs: number;
}

interface BullJobSpec {
  name: string;
  data: RedisJobData;
  opts: { jobId: string; attempts: number; backoff: { type: string }; removeOnComplete: false; removeOnFail: false };
}

/** Thrown inside enqueue when another writer holds the dedupe claim for too long. */
class ClaimBusyError extends StoreError {}

const MINUTE_MS = 60_000;
const PENDING_TTL_MS = 60_000;
const BATCH = 200;
/** BullMQ encodes delayed scores as `timestamp * 0x1000 + counter` (commands/includes/getDelayedScore.lua). */
const DELAYED_SCORE_FACTOR = 0x1000;
/** BullMQ ignores a manual `rateLimit()` unless the worker has a limiter; this one never limits by itself. */
const NEVER_LIMITING = { max: 1_000_000_000, duration: 1_000 };

const SUMMARY_RECORD_FIELDS = ["q", "topic", "app", "nid", "item", "ca", "ra", "jc"] as const;
const JOB_FIELDS = ["data", "atm", "timestamp", "processedOn", "finishedOn", "failedReason"] as const;
const META_FIELDS = ["dueAt", "updatedAt", "lastError"] as const;

function positiveInt(value: number | undefined, fallback: number, name: string, min = 0): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) throw new ConfigError(`${name} must be a number >= ${min}`);
  return Math.floor(v);
}

function resolveOptions(options: RedisStoreOptions): ResolvedOptions {
  const prefix = options.prefix ?? "intercom-bridge";
  if (prefix.length === 0 || prefix.endsWith(":"))
    throw new ConfigError("prefix must be non-empty and must not end with ':'");
  return {
    prefix,
    connection: options.connection ?? {},
    url: options.url,
    spoolPath: options.spoolPath ?? null,
    commandTimeoutMs: positiveInt(options.commandTimeoutMs, 1_000, "commandTimeoutMs", 1),
    pendingWaitMs: positiveInt(options.pendingWaitMs, 1_500, "pendingWaitMs"),
    orderingRetryMs: positiveInt(options.orderingRetryMs, 50, "orderingRetryMs", 1),
    orderingMaxRetryMs: positiveInt(options.orderingMaxRetryMs, 2_000, "orderingMaxRetryMs", 1),
    maxStalledCount: positiveInt(options.maxStalledCount, 3, "maxStalledCount", 1),
    drainIntervalMs: positiveInt(options.drainIntervalMs, 500, "drainIntervalMs", 10),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreError(`Redis did not answer ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function toStoreError(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  return new StoreError(`Redis ${what} failed: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}

function num(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

function groupOf(topic: string): string | null {
  const dot = topic.indexOf(".");
  return dot > 0 ? topic.slice(0, dot) : null;
}

/** Lexicographic lower bound of ids received at or after `ms` (record ids start with 9 base-36 time characters). */
function timeBound(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString(36).padStart(9, "0");
}

interface JobRow {
  id: JobId;
  recordId: string;
  index: number;
  data: RedisJobData;
  state: JobState;
  attempts: number;
  runAt: number | null;
  updatedAt: number;
  lastError: JobError | null;
}

interface RecordRow {
  id: string;
  queue: QueueName;
  topic: string;
  appId: string | null;
  notificationId: string | null;
  itemId: string | null;
  createdAt: number;
  receivedAt: number;
  jobCount: number;
}

/** A group of candidate deliveries of one record, in listing order (`indices` undefined: all of them). */
interface Candidate {
  recordId: string;
  indices?: number[];
}

interface RunningJob {
  controller: AbortController;
  release: () => void;
  released: boolean;
}

/** A BullMQ worker presented as a {@link Processor}. */
class RedisProcessor implements Processor {
  readonly runningJobs = new Map<string, RunningJob>();
  private closePromise: Promise<void> | null = null;
  worker!: Worker<RedisJobData, unknown, string>;

  constructor(
    readonly queue: QueueName,
    readonly opts: ProcessOptions,
    readonly workerId: string,
    private readonly onClosed: (p: RedisProcessor) => void,
  ) {}

  get running(): number {
    return this.runningJobs.size;
  }

  /** See {@link Processor.close}. Waits up to `timeoutMs` (default: `leaseMs`), then releases what still runs. */
  close(timeoutMs: number = this.opts.leaseMs): Promise<void> {
    this.closePromise ??= (async () => {
      const closing = this.worker.close();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        closing.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), Math.max(0, timeoutMs));
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) for (const r of this.runningJobs.values()) r.release();
      try {
        await closing;
      } finally {
        this.onClosed(this);
      }
    })();
    return this.closePromise;
  }

  /**
   * Simulates this worker dying (tests, chaos drills): stops fetching and renewing locks at once and drops the
   * outcome of running jobs, which BullMQ's stalled-job check then hands to another worker after the lease.
   */
  async kill(): Promise<void> {
    for (const r of this.runningJobs.values()) r.released = true;
    this.closePromise ??= this.worker.close(true).finally(() => this.onClosed(this));
    await this.closePromise;
  }
}

/**
 * The {@link Store} on Redis, for several `intercom-bridge serve` instances behind a load balancer. Queueing,
 * retries with backoff, leases (stalled-job recovery) and the queue-wide rate limit are BullMQ's; dedupe is one
 * `SET NX` per notification; records, histories and indices are plain Redis hashes, lists and sorted sets under
 * `<prefix>:x:`. See `src/store/redis/README.md` for the data model and where BullMQ's semantics differ.
 *
 * @example
 * ```ts
 * import { createRedisStore } from "intercom-bridge/redis";
 * const store = createRedisStore({ url: "redis://127.0.0.1:6379/0", prefix: "intercom-bridge" });
 * ```
 */
export class RedisStore implements Store {
  /** Always `redis`. */
  readonly kind = "redis";
  /** The key prefix in use. */
  readonly prefix: string;
  private readonly opts: ResolvedOptions;
  private readonly keys: RedisKeys;
  private readonly log: Logger;
  private readonly cmd: Redis & StoreScripts;
  private readonly queues: Record<QueueName, Queue<RedisJobData>>;
  private readonly processors = new Set<RedisProcessor>();
  private readonly plannedDelays = new Map<string, number>();
  private readonly nextRecordId = createRecordIdGenerator();
  private readonly workerPrefix = createWorkerId(process.pid);
  private readonly spool: Spool | null;
  private workerCount = 0;
  private closed = false;
  private closePromise: Promise<void> | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private drainPromise: Promise<void> | null = null;
  /** True while this process knows of spooled rows: new enqueues then go to the spool too, to keep receive order. */
  private spooling = false;
  private readyWait: Promise<void> | null = null;

  constructor(options: RedisStoreOptions = {}) {
    this.opts = resolveOptions(options);
    this.prefix = this.opts.prefix;
    this.keys = new RedisKeys(this.prefix);
    this.log = createLogger(options.log);
    const base: RedisOptions = {
      // Reconnect quickly so the spool drains soon after an outage; BullMQ's default waits at least 1 s.
      retryStrategy: (times: number) => Math.min(50 * times, 1_000),
      ...this.opts.connection,
    };
    this.connectionOptions = this.opts.url ? { ...parseRedisUrl(this.opts.url), ...base } : base;
    // Our command connection fails fast while Redis is down (no offline queue), so enqueue can spool at once.
    this.cmd = defineScripts(
      // `as never`: ioredis 6's constructor types reject its own RedisOptions under exactOptionalPropertyTypes.
      new Redis({
        ...this.connectionOptions,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        lazyConnect: false,
      } as never),
    );
    this.cmd.on("error", (err: Error) => this.log.warn({ err: describeError(err) }, "redis connection error"));
    const queueOpts = { connection: { ...this.connectionOptions } as BullConnectionOptions, prefix: this.prefix };
    this.queues = {
      inbound: new Queue<RedisJobData>("inbound", queueOpts),
      outbox: new Queue<RedisJobData>("outbox", queueOpts),
    };
    for (const q of Object.values(this.queues)) {
      q.on("error", (err: Error) => this.log.warn({ err: describeError(err) }, "bullmq queue error"));
    }
    this.spool = this.opts.spoolPath ? openSpool(this.opts.spoolPath) : null;
    if (this.spool) {
      this.spooling = this.spool.count() > 0;
      this.scheduleDrain(0);
    }
  }

  /** ioredis options every connection of this store starts from. */
  readonly connectionOptions: RedisOptions;

  private assertOpen(): void {
    if (this.closed) throw new StoreError("Store is closed");
  }

  /** Resolves when the command connection is ready; rejects at once when it is known to be down. */
  private ready(): Promise<void> {
    const status = this.cmd.status;
    if (status === "ready") return Promise.resolve();
    if (status === "reconnecting" || status === "end" || status === "close") {
      return Promise.reject(new StoreError(`Redis is unreachable (${status})`));
    }
    // One shared wait while connecting, however many callers arrive meanwhile.
    this.readyWait ??= withTimeout(
      new Promise<void>((resolve, reject) => {
        const onReady = (): void => {
          this.cmd.off("end", onEnd);
          resolve();
        };
        const onEnd = (): void => {
          this.cmd.off("ready", onReady);
          reject(new StoreError("Redis connection ended"));
        };
        this.cmd.once("ready", onReady);
        this.cmd.once("end", onEnd);
      }),
      this.opts.commandTimeoutMs,
      "connect",
    ).finally(() => {
      this.readyWait = null;
    });
    return this.readyWait;
  }

  // ---------------------------------------------------------------- enqueue

  /** See {@link Store.enqueue}. Spools locally while Redis is unreachable when a `spoolPath` is configured. */
  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    this.assertOpen();
    validateEnqueueInput(input);
    const receivedAt = Date.now();
    const recordId = this.nextRecordId(receivedAt);
    const token = randomUUID();
    if (this.spool && this.spooling) return this.toSpool(input, recordId, token, receivedAt);
    try {
      await this.ready();
      return await withTimeout(
        this.enqueueInRedis(input, recordId, token, receivedAt),
        this.opts.commandTimeoutMs,
        "enqueue",
      );
    } catch (error) {
      if (error instanceof ClaimBusyError || !this.spool) throw toStoreError(error, "enqueue");
      this.log.warn({ err: describeError(error), recordId }, "redis unreachable: spooling the enqueue locally");
      return this.toSpool(input, recordId, token, receivedAt);
    }
  }

  private toSpool(input: EnqueueInput, recordId: string, token: string, receivedAt: number): EnqueueResult {
    const spool = this.spool;
    if (!spool) throw new StoreError("Redis is unreachable and no spool is configured");
    let result: ReturnType<Spool["put"]>;
    try {
      result = spool.put({ recordId, token, receivedAt, input });
    } catch (error) {
      throw new StoreError("Redis is unreachable and the local spool cannot be written", { cause: error });
    }
    this.spooling = true;
    this.scheduleDrain(this.opts.drainIntervalMs);
    if (result.status === "duplicate") return { status: "duplicate", recordId: result.recordId };
    return { status: "enqueued", recordId, jobIds: input.deliveries.map((_, i) => jobIdOf(recordId, i)) };
  }

  /**
   * STYLE §5 dedupe: claim `SET NX PX 60s` with a per-attempt token, write the record and indices (MULTI), add the
   * jobs (BullMQ `addBulk`, deterministic ids so a repeat is a no-op), then mark the key done for `dedupeTtlMs`.
   * A claim holding our own token (a spooled retry of an attempt that failed half-way) is taken over.
   *
   * Enqueues of one event-loop turn share their round trips (group commit): one pipeline of claims, one `addBulk`
   * for every claimed enqueue's jobs, one pipeline of done-marks. Each still resolves only once its own writes are
   * done, and one whose claim does not succeed at once (duplicate, or another instance is writing it) continues
   * alone.
   */
  private enqueueInRedis(
    input: EnqueueInput,
    recordId: string,
    token: string,
    receivedAt: number,
  ): Promise<EnqueueResult> {
    return new Promise((resolve, reject) => {
      this.batch.push({ w: this.prepareWrite(input, recordId, token, receivedAt), resolve, reject });
      if (this.batch.length === 1) setImmediate(() => void this.flushBatch());
    });
  }

  private readonly batch: Array<{
    w: PreparedWrite;
    resolve: (r: EnqueueResult) => void;
    reject: (e: unknown) => void;
  }> = [];

  private async flushBatch(): Promise<void> {
    const batch = this.batch.splice(0);
    let claims: Array<[Error | null, unknown]>;
    try {
      const pipe = this.cmd.pipeline() as unknown as StoreScripts & { exec(): Promise<Array<[Error | null, unknown]>> };
      for (const { w } of batch) void pipe.ibClaimAndWrite(w.keys.length, ...w.keys, ...w.args);
      claims = await pipe.exec();
    } catch (error) {
      for (const b of batch) b.reject(error);
      return;
    }
    const claimed: typeof batch = [];
    batch.forEach((b, i) => {
      const [error, result] = claims[i] ?? [new Error("no reply"), null];
      if (error) b.reject(error);
      else if (result === 1) claimed.push(b);
      // Duplicate, or claimed elsewhere: the one-at-a-time path re-reads the claim and waits if it must.
      else this.claimAlone(b.w).then(b.resolve, b.reject);
    });
    if (claimed.length === 0) return;
    try {
      await this.finishWrites(claimed.map((b) => b.w));
      for (const b of claimed) b.resolve(this.enqueued(b.w));
    } catch (error) {
      for (const b of claimed) b.reject(error);
    }
  }

  /** Claims one enqueue's dedupe key (waiting while another instance holds it), then finishes it alone. */
  private async claimAlone(w: PreparedWrite): Promise<EnqueueResult> {
    const deadline = Date.now() + this.opts.pendingWaitMs;
    for (;;) {
      const result = await this.cmd.ibClaimAndWrite(w.keys.length, ...w.keys, ...w.args);
      if (result === 1) break;
      const current = String(result);
      if (current === "") continue;
      if (current.startsWith("d:")) return { status: "duplicate", recordId: current.slice(2) || null };
      // Another instance is writing the same notification right now: wait for it rather than answer "duplicate"
      // for a write that may still fail (Intercom would not retry).
      if (Date.now() >= deadline) throw new ClaimBusyError("Another instance is still storing this notification");
      await sleep(10);
    }
    await this.finishWrites([w]);
    return this.enqueued(w);
  }

  /** Adds the jobs of claimed writes and marks their keys done; on failure frees the claims (unless spooling). */
  private async finishWrites(ws: readonly PreparedWrite[]): Promise<void> {
    try {
      const jobs = ws.flatMap((w) => w.jobs);
      for (const q of ["inbound", "outbox"] as const) {
        const ofQueue = jobs.filter((j) => j.data.queue === q);
        if (ofQueue.length > 0) await this.queues[q].addBulk(ofQueue);
      }
      const marks = this.cmd.pipeline();
      for (const w of ws) marks.set(w.dk, `d:${w.recordId}`, "PX", Math.max(1, Math.floor(w.dedupeTtlMs)));
      const replies = await marks.exec();
      const failed = replies?.find(([e]) => e !== null);
      if (failed?.[0]) throw failed[0];
    } catch (error) {
      // Leave our claims when a spool will retry with the same token; otherwise free the keys for Intercom's retry.
      if (!this.spool) await Promise.all(ws.map((w) => this.cmd.ibDedupeAbort(w.dk, w.claim).catch(() => 0)));
      throw error;
    }
  }

  private enqueued(w: PreparedWrite): EnqueueResult {
    return { status: "enqueued", recordId: w.recordId, jobIds: w.jobs.map((j) => j.opts.jobId) };
  }

  /** The keys and arguments of one enqueue's claim-and-write script, and its BullMQ jobs. */
  private prepareWrite(input: EnqueueInput, recordId: string, token: string, receivedAt: number): PreparedWrite {
    const { record } = input;
    const k = this.keys;
    const queue = record.queue;
    const dk = k.dedupe(queue, input.dedupeKey);
    const claim = `p:${token}`;
    const fields: (string | number)[] = [
      "q",
      queue,
      "topic",
      record.topic,
      "body",
      record.body,
      "ca",
      record.createdAt,
      "ra",
      receivedAt,
    ];
    fields.push("dk", input.dedupeKey, "jc", input.deliveries.length);
    if (record.appId !== null) fields.push("app", record.appId);
    if (record.notificationId !== null) fields.push("nid", record.notificationId);
    if (record.itemId !== null) fields.push("item", record.itemId);
    if (record.headers) fields.push("hdr", JSON.stringify(record.headers));
    const indices = this.recordIndices(queue, record.topic, record.appId, record.itemId, record.notificationId);
    const minute = Math.floor(receivedAt / 60_000) * 60_000;
    const keys = [dk, k.record(recordId), ...indices, k.topics(queue), k.minute(queue, minute)];
    const args: (string | number)[] = [claim, PENDING_TTL_MS, recordId, fields.length / 2, ...fields];
    args.push(indices.length, record.topic, Math.max(input.dedupeTtlMs, 86_400_000), input.deliveries.length);
    const jobs = input.deliveries.map((d, index) => {
      const jobId = jobIdOf(recordId, index);
      const meta = k.meta(jobId);
      keys.push(k.targetIndex(d.target), meta, d.orderingKey !== null ? k.orderLine(queue, d.orderingKey) : meta);
      args.push(jobId, receivedAt, d.orderingKey !== null ? record.createdAt : "");
      return this.bullJob(recordId, index, queue, record.createdAt, d);
    });
    return { recordId, dk, claim, keys, args, jobs, dedupeTtlMs: input.dedupeTtlMs };
  }

  /** The index sorted sets a record's id is in. */
  private recordIndices(
    queue: QueueName,
    topic: string,
    appId: string | null,
    itemId: string | null,
    notificationId: string | null,
  ): string[] {
    const k = this.keys;
    const indices = [k.recordIndex("all"), k.recordIndex("q", queue), k.recordIndex("t", topic)];
    const group = groupOf(topic);
    if (group !== null) indices.push(k.recordIndex("g", group));
    if (appId !== null) indices.push(k.recordIndex("a", appId));
    if (itemId !== null) indices.push(k.recordIndex("i", itemId));
    if (notificationId !== null) indices.push(k.recordIndex("n", notificationId));
    return indices;
  }

  /** The BullMQ job of delivery `index` of a record: deterministic id, attempts and our custom backoff. */
  private bullJob(recordId: string, index: number, queue: QueueName, createdAt: number, d: DeliveryInput): BullJobSpec {
    return {
      name: d.target,
      data: {
        recordId,
        index,
        target: d.target,
        queue,
        orderingKey: d.orderingKey,
        orderScore: createdAt,
        retry: d.retry,
      },
      opts: {
        jobId: jobIdOf(recordId, index),
        attempts: d.retry.maxAttempts,
        backoff: { type: "intercom-bridge" },
        removeOnComplete: false,
        removeOnFail: false,
      },
    };
  }

  /** Adds index and metadata writes for new deliveries to `multi`; returns the BullMQ jobs to add. */
  private stageJobs(
    multi: ReturnType<Redis["multi"]>,
    recordId: string,
    queue: QueueName,
    createdAt: number,
    deliveries: readonly DeliveryInput[],
    firstIndex: number,
    now: number,
  ): BullJobSpec[] {
    return deliveries.map((d, i) => {
      const job = this.bullJob(recordId, firstIndex + i, queue, createdAt, d);
      const jobId = job.opts.jobId;
      multi.zadd(this.keys.targetIndex(d.target), 0, jobId);
      multi.hset(this.keys.meta(jobId), { dueAt: now, updatedAt: now });
      if (d.orderingKey !== null) multi.zadd(this.keys.orderLine(queue, d.orderingKey), createdAt, jobId);
      return job;
    });
  }

  // ---------------------------------------------------------------- spool drain

  private scheduleDrain(delayMs: number): void {
    if (!this.spool || this.closed || this.drainTimer || this.drainPromise) return;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = null;
      this.drainPromise = this.drainSpool()
        .catch((error: unknown) => this.log.warn({ err: describeError(error) }, "spool drain failed; will retry"))
        .finally(() => {
          this.drainPromise = null;
          if (this.spooling) this.scheduleDrain(this.opts.drainIntervalMs);
        });
    }, delayMs);
    this.drainTimer.unref();
  }

  /** Moves spooled enqueues into Redis in receive order, deduplicated, deleting each once stored. */
  private async drainSpool(): Promise<void> {
    const spool = this.spool;
    if (!spool || this.closed) return;
    await this.ready();
    for (;;) {
      const rows: SpoolEntry[] = spool.take(100);
      if (rows.length === 0) {
        this.spooling = false;
        return;
      }
      for (const row of rows) {
        if (this.closed) return;
        try {
          await withTimeout(
            this.enqueueInRedis(row.input, row.recordId, row.token, row.receivedAt),
            this.opts.commandTimeoutMs * 5,
            "drain",
          );
        } catch (error) {
          if (error instanceof ClaimBusyError) continue; // another writer holds it; try again next round
          throw error;
        }
        spool.remove(row.id);
      }
      this.log.info({ drained: rows.length }, "moved spooled enqueues into redis");
    }
  }

  /** Rows waiting in the local spool (0 without a spool). For readiness details and tests. */
  spooled(): number {
    return this.spool?.count() ?? 0;
  }

  // ---------------------------------------------------------------- processing

  /** See {@link Store.process}. One BullMQ worker; `leaseMs` is its `lockDuration`. `pollMs` is not used (push). */
  process(queue: QueueName, run: JobRunner, opts: ProcessOptions): Processor {
    this.assertOpen();
    if (!Number.isSafeInteger(opts.concurrency) || opts.concurrency < 1)
      throw new ConfigError("concurrency must be an integer >= 1");
    if (!Number.isFinite(opts.leaseMs) || opts.leaseMs < 10) throw new ConfigError("leaseMs must be a number >= 10");
    const workerId = `${this.workerPrefix}.${++this.workerCount}`;
    const processor = new RedisProcessor(queue, opts, workerId, (p) => this.processors.delete(p));
    const leaseMs = Math.floor(opts.leaseMs);
    const worker = new Worker<RedisJobData, unknown, string>(
      queue,
      (job, token) => this.runJob(processor, run, job, token),
      {
        connection: { ...this.connectionOptions } as BullConnectionOptions,
        prefix: this.prefix,
        concurrency: opts.concurrency,
        lockDuration: leaseMs,
        // Renew three times per lease (like the lease loop's heartbeat), so one slow event-loop turn does not lose it.
        lockRenewTime: Math.max(5, Math.floor(leaseMs / 3)),
        // A dead worker's job is taken over between one and two intervals after its lock expired.
        stalledInterval: Math.max(50, Math.min(30_000, Math.floor(leaseMs / 2))),
        maxStalledCount: this.opts.maxStalledCount,
        limiter: NEVER_LIMITING,
        settings: {
          backoffStrategy: (
            attemptsMade: number,
            _type?: string,
            _err?: Error,
            job?: { id?: string; data?: unknown },
          ) => {
            const planned = job?.id !== undefined ? this.plannedDelays.get(job.id) : undefined;
            if (job?.id !== undefined) this.plannedDelays.delete(job.id);
            if (planned !== undefined) return planned;
            const data = job?.data as RedisJobData | undefined;
            return data ? computeBackoff(data.retry.backoff, attemptsMade) : 1_000;
          },
        },
      },
    );
    worker.on("error", (err: Error) => this.log.warn({ err: describeError(err), queue }, "bullmq worker error"));
    worker.on("stalled", (jobId: string) =>
      this.log.warn({ jobId, queue }, "delivery lease expired (worker died or stalled); requeued"),
    );
    processor.worker = worker;
    this.processors.add(processor);
    return processor;
  }

  /** The BullMQ processor function: ordering gate, run, then STYLE §5's outcome table. */
  private async runJob(p: RedisProcessor, run: JobRunner, bjob: BJob, token: string | undefined): Promise<void> {
    const data = bjob.data;
    const id = bjob.id ?? jobIdOf(data.recordId, data.index);
    const tk = token ?? "";
    const k = this.keys;
    const ordered = p.opts.ordered !== false && data.orderingKey !== null;
    const leaseMs = Math.floor(p.opts.leaseMs);
    const line = data.orderingKey !== null ? k.orderLine(data.queue, data.orderingKey) : "";
    const lock = data.orderingKey !== null ? k.orderLock(data.queue, data.orderingKey) : "";
    if (ordered) {
      const got = await this.cmd.ibOrderAcquire(line, lock, id, leaseMs, data.orderScore);
      if (got !== 1) {
        // Not this delivery's turn: wait without using an attempt. The delivery that leaves the line promotes the new
        // head, so one behind others parks for the longest delay (a fallback if a wake-up is missed); the head that
        // only waits for the lock retries soon, doubling.
        const waits = await this.cmd.hincrby(k.meta(id), "waits", 1);
        const delay =
          got === 0
            ? this.opts.orderingMaxRetryMs
            : Math.min(this.opts.orderingMaxRetryMs, this.opts.orderingRetryMs * 2 ** Math.min(waits - 1, 16));
        const dueAt = Date.now() + delay;
        await this.cmd.hset(k.meta(id), { blocked: 1, dueAt });
        await bjob.moveToDelayed(dueAt, tk);
        throw new DelayedError();
      }
    }
    const attempt = bjob.attemptsMade + 1;
    const startedAt = Date.now();
    const [flat, prevStartedAt, prevWorker, prevAttempt] = await this.cmd.ibRunStart(
      k.record(data.recordId),
      k.meta(id),
      k.retrying(data.queue),
      startedAt,
      p.workerId,
      attempt,
      id,
      bjob.attemptsMade > 0 ? "1" : "0",
    );
    const recordHash: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) recordHash[flat[i]!] = flat[i + 1]!;
    const record = toRecord(data.recordId, recordHash);
    if (prevStartedAt) {
      // The previous run never settled: its worker died and BullMQ's stalled check handed the job to us.
      const expired: AttemptRecord = {
        attempt: num(prevAttempt) ?? attempt,
        startedAt: num(prevStartedAt) ?? startedAt,
        finishedAt: startedAt,
        outcome: "lease-expired",
        error: { ...LEASE_EXPIRED_ERROR },
      };
      if (prevWorker) expired.worker = prevWorker;
      await this.cmd.rpush(k.history(id), JSON.stringify(expired));
    }
    const events = p.opts.on ?? {};
    const emitFinished = (
      outcome: Parameters<ProcessorEvents["finished"]>[0]["outcome"],
      error?: unknown,
      nextRunAt: number | null = null,
    ): void => {
      const e: Parameters<ProcessorEvents["finished"]>[0] = {
        jobId: id,
        target: data.target,
        attempt,
        queue: data.queue,
        durationMs: Date.now() - startedAt,
        outcome,
      };
      if (record) {
        e.topic = record.topic;
        e.notificationId = record.notificationId;
      }
      if (error !== undefined) {
        e.error = error;
        e.nextRunAt = nextRunAt;
      }
      try {
        events.finished?.(e);
      } catch {
        // a listener's bug must not lose the outcome
      }
    };
    const history = (outcome: AttemptRecord["outcome"], error?: JobError): string => {
      const r: AttemptRecord = { attempt, startedAt, finishedAt: Date.now(), outcome, worker: p.workerId };
      if (error) r.error = error;
      return JSON.stringify(r);
    };
    const settle = (
      outcome: AttemptRecord["outcome"],
      opts: { error?: JobError; dueAt: number | ""; retrying: "add" | "rem" | "" },
    ): Promise<number> =>
      this.cmd.ibRunSettle(
        k.history(id),
        k.meta(id),
        k.retrying(data.queue),
        history(outcome, opts.error),
        Date.now(),
        opts.dueAt,
        opts.error ? JSON.stringify(opts.error) : "",
        opts.retrying,
        id,
      );
    const release = async (leave: boolean): Promise<void> => {
      if (data.orderingKey === null) return;
      const head = await this.cmd.ibOrderRelease(line, lock, id, leave ? "1" : "0");
      if (leave && head) await this.wakeIfBlocked(data.queue, head);
    };
    if (!record) {
      const error: JobError = {
        name: "StoreError",
        code: "IB_ERR_STORE_UNAVAILABLE",
        message: `Record ${data.recordId} is missing`,
      };
      await this.cmd
        .multi()
        .rpush(k.history(id), history("dead", error))
        .hset(k.meta(id), { lastError: JSON.stringify(error), updatedAt: Date.now() })
        .exec();
      await release(true);
      throw new BullUnrecoverableError(error.message);
    }
    try {
      events.started?.({ jobId: id, target: data.target, attempt, queue: data.queue });
    } catch {
      // ignore listener errors
    }
    const controller = new AbortController();
    let releaseNow: () => void = () => undefined;
    const releasedPromise = new Promise<"released">((resolve) => {
      releaseNow = () => resolve("released");
    });
    const running: RunningJob = {
      controller,
      released: false,
      release: () => {
        running.released = true;
        controller.abort(new StoreError("Processor closed: delivery released"));
        releaseNow();
      },
    };
    p.runningJobs.set(id, running);
    const extend = ordered
      ? setInterval(
          () => void this.cmd.ibOrderExtend(lock, id, leaseMs).catch(() => 0),
          Math.max(5, Math.floor(leaseMs / 3)),
        )
      : null;
    const job: Job = {
      id,
      queue: data.queue,
      target: data.target,
      attempt,
      maxAttempts: data.retry.maxAttempts,
      record,
    };
    let outcome: { ok: true } | { ok: false; error: unknown } | "released";
    try {
      const r = await Promise.race([run(job, controller.signal).then(() => ({ ok: true }) as const), releasedPromise]);
      outcome = r;
    } catch (error) {
      outcome = running.released ? "released" : { ok: false, error };
    } finally {
      if (extend) clearInterval(extend);
      p.runningJobs.delete(id);
    }
    if (running.released && outcome !== "released") outcome = "released";
    const now = Date.now();
    if (outcome === "released") {
      await settle("released", { dueAt: now, retrying: bjob.attemptsMade > 0 ? "add" : "" });
      await release(false);
      await bjob.moveToWait(tk).catch(() => 0);
      throw new WaitingError();
    }
    if (outcome.ok) {
      await settle("completed", { dueAt: "", retrying: "" });
      await release(true);
      emitFinished("completed");
      return;
    }
    const { error } = outcome;
    const described = describeError(error);
    if (
      error instanceof RetryLaterError ||
      (hasCode(error, "IB_ERR_RETRY_LATER") && typeof (error as RetryLaterError).delayMs === "number")
    ) {
      const dueAt = now + Math.max(0, (error as RetryLaterError).delayMs);
      await settle("retry-later", { error: described, dueAt, retrying: bjob.attemptsMade > 0 ? "add" : "" });
      await release(false);
      await bjob.moveToDelayed(dueAt, tk);
      emitFinished("retry-later", error, dueAt);
      throw new DelayedError();
    }
    if (
      error instanceof RateLimitedError ||
      (hasCode(error, "IB_ERR_RATE_LIMITED") && typeof (error as RateLimitedError).retryAfterMs === "number")
    ) {
      const ms = Math.max(1, Math.ceil((error as RateLimitedError).retryAfterMs));
      await settle("rate-limited", { error: described, dueAt: now + ms, retrying: bjob.attemptsMade > 0 ? "add" : "" });
      await release(false);
      await p.worker.rateLimit(ms);
      emitFinished("rate-limited", error, now + ms);
      throw Worker.RateLimitError();
    }
    const isDead =
      error instanceof UnrecoverableError ||
      hasCode(error, "IB_ERR_UNRECOVERABLE") ||
      attempt >= data.retry.maxAttempts;
    if (isDead) {
      await settle("dead", { error: described, dueAt: "", retrying: "rem" });
      await release(true);
      emitFinished("dead", error);
      throw new BullUnrecoverableError(described.message);
    }
    const delay = computeBackoff(data.retry.backoff, attempt);
    this.plannedDelays.set(id, delay);
    await settle("failed", { error: described, dueAt: now + delay, retrying: "add" });
    await release(false);
    emitFinished("failed", error, now + delay);
    throw error instanceof Error ? error : new Error(described.message);
  }

  /** Promotes the new head of an ordering line if it is only waiting for its turn (not for its own backoff). */
  private async wakeIfBlocked(queue: QueueName, jobId: string): Promise<void> {
    const blocked = await this.cmd.hget(this.keys.meta(jobId), "blocked");
    if (blocked !== "1") return;
    const job = await this.queues[queue].getJob(jobId);
    if (!job) return;
    await job.promote().catch(() => undefined);
    // Promotion appends to the far end of the wait list; move the head to the near end so it runs next instead of
    // after every waiting delivery (BullMQ `changePriority({ lifo: true })`).
    await job.changePriority({ lifo: true }).catch(() => undefined);
  }

  // ---------------------------------------------------------------- reading

  private async readRecords(ids: readonly string[], withBody: boolean): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    if (ids.length === 0) return out;
    const pipe = this.cmd.pipeline();
    for (const id of ids) {
      if (withBody) pipe.hgetall(this.keys.record(id));
      else pipe.hmget(this.keys.record(id), ...SUMMARY_RECORD_FIELDS);
    }
    const res = (await pipe.exec()) ?? [];
    ids.forEach((id, i) => {
      const [err, value] = res[i] ?? [null, null];
      if (err) throw toStoreError(err, "read");
      if (withBody) {
        const h = value as Record<string, string>;
        if (h && Object.keys(h).length > 0) out.set(id, h);
      } else {
        const arr = value as (string | null)[];
        if (arr && arr[0] !== null) {
          const h: Record<string, string> = {};
          SUMMARY_RECORD_FIELDS.forEach((f, j) => {
            const v = arr[j];
            if (v !== null && v !== undefined) h[f] = v;
          });
          out.set(id, h);
        }
      }
    });
    return out;
  }

  /** Reads deliveries with their BullMQ state, pipelined. Missing ids are left out. */
  private async readJobs(ids: readonly { id: string; queue: QueueName }[]): Promise<Map<string, JobRow>> {
    const out = new Map<string, JobRow>();
    if (ids.length === 0) return out;
    const pipe = this.cmd.pipeline();
    for (const { id, queue } of ids) {
      const q = this.queues[queue];
      pipe.hmget(q.toKey(id), ...JOB_FIELDS);
      pipe.zscore(q.toKey("completed"), id);
      pipe.zscore(q.toKey("failed"), id);
      pipe.zscore(q.toKey("delayed"), id);
      pipe.lpos(q.toKey("active"), id);
      pipe.hmget(this.keys.meta(id), ...META_FIELDS);
    }
    const res = (await pipe.exec()) ?? [];
    const now = Date.now();
    ids.forEach(({ id }, i) => {
      const at = (j: number): unknown => {
        const entry = res[i * 6 + j];
        if (entry?.[0]) throw toStoreError(entry[0], "read");
        return entry?.[1];
      };
      const fields = at(0) as (string | null)[];
      if (!fields || fields[0] === null) return;
      const [dataJson, atm, timestamp, processedOn, finishedOn, failedReason] = fields;
      const completed = at(1) as string | null;
      const failed = at(2) as string | null;
      const delayed = at(3) as string | null;
      const active = at(4) as number | null;
      const [dueAt, updatedAt, lastErrorJson] = at(5) as (string | null)[];
      const data = JSON.parse(dataJson ?? "{}") as RedisJobData;
      const made = num(atm) ?? 0;
      let state: JobState;
      if (completed !== null) state = "done";
      else if (failed !== null) state = "dead";
      else if (active !== null) state = "running";
      else state = made > 0 ? "failed" : "pending";
      let runAt: number | null = null;
      if (state === "pending" || state === "failed") {
        runAt =
          delayed !== null ? Math.floor(Number(delayed) / DELAYED_SCORE_FACTOR) : (num(dueAt) ?? num(timestamp) ?? now);
      }
      let lastError: JobError | null = null;
      if (lastErrorJson) lastError = JSON.parse(lastErrorJson) as JobError;
      else if (failedReason) lastError = { name: "Error", message: failedReason };
      out.set(id, {
        id,
        recordId: data.recordId,
        index: data.index,
        data,
        state,
        attempts: state === "running" ? made + 1 : made,
        runAt,
        updatedAt: num(updatedAt) ?? num(finishedOn) ?? num(processedOn) ?? num(timestamp) ?? now,
        lastError,
      });
    });
    return out;
  }

  private summaryOf(job: JobRow, rec: RecordRow): JobSummary {
    return {
      id: job.id,
      queue: rec.queue,
      recordId: rec.id,
      target: job.data.target,
      state: job.state,
      attempts: job.attempts,
      maxAttempts: job.data.retry.maxAttempts,
      topic: rec.topic,
      appId: rec.appId,
      notificationId: rec.notificationId,
      itemId: rec.itemId,
      createdAt: rec.createdAt,
      receivedAt: rec.receivedAt,
      runAt: job.runAt,
      updatedAt: job.updatedAt,
      lastError: job.lastError,
    };
  }

  private async histories(ids: readonly string[]): Promise<Map<string, AttemptRecord[]>> {
    const out = new Map<string, AttemptRecord[]>();
    if (ids.length === 0) return out;
    const pipe = this.cmd.pipeline();
    for (const id of ids) pipe.lrange(this.keys.history(id), 0, -1);
    const res = (await pipe.exec()) ?? [];
    ids.forEach((id, i) =>
      out.set(
        id,
        ((res[i]?.[1] as string[] | undefined) ?? []).map((s) => JSON.parse(s) as AttemptRecord),
      ),
    );
    return out;
  }

  /** See {@link Store.getJob}. */
  async getJob(id: JobId): Promise<JobDetail | undefined> {
    return this.guard("getJob", async () => {
      const parsed = parseJobId(id);
      if (!parsed) return undefined;
      const detail = await this.getRecordDetail(parsed.recordId, [parsed.index]);
      return detail?.jobs[0];
    });
  }

  /** See {@link Store.getRecord}. */
  async getRecord(recordId: string): Promise<RecordDetail | undefined> {
    return this.guard("getRecord", () => this.getRecordDetail(recordId));
  }

  private async getRecordDetail(recordId: string, only?: number[]): Promise<RecordDetail | undefined> {
    const hash = (await this.readRecords([recordId], true)).get(recordId);
    if (!hash) return undefined;
    const record = toRecord(recordId, hash);
    if (!record) return undefined;
    const jc = num(hash.jc) ?? 0;
    const indices = only ?? Array.from({ length: jc }, (_, i) => i);
    const ids = indices.filter((i) => i >= 0 && i < jc).map((i) => jobIdOf(recordId, i));
    const rows = await this.readJobs(ids.map((id) => ({ id, queue: record.queue })));
    const hist = await this.histories(ids);
    const rec = rowOf(recordId, hash);
    if (!rec) return undefined;
    const jobs: JobDetail[] = [];
    for (const id of ids) {
      const row = rows.get(id);
      if (!row) continue;
      jobs.push({ ...this.summaryOf(row, rec), record, history: hist.get(id) ?? [] });
    }
    return { record, jobs };
  }

  /**
   * Candidate records (newest first) with the deliveries to consider, from the most selective index for the filter.
   * Each page reads {@link BATCH} index entries at a time.
   */
  private async *candidates(
    filter: JobFilter,
    after?: { recordId: string; index: number | null },
  ): AsyncGenerator<Candidate[]> {
    const states = filterStates(filter);
    const liveOnly = states !== undefined && !states.includes("done");
    if (filter.recordId !== undefined) {
      if (after && after.recordId <= filter.recordId && after.index === null) return;
      yield [
        after && after.recordId === filter.recordId && after.index !== null
          ? { recordId: filter.recordId, indices: range(after.index) }
          : { recordId: filter.recordId },
      ];
      return;
    }
    if (liveOnly) {
      yield* this.liveCandidates(filter, states, after);
      return;
    }
    const min = filter.since !== undefined ? `[${timeBound(filter.since)}` : "-";
    let max = filter.until !== undefined ? `(${timeBound(filter.until)}` : "+";
    if (filter.target !== undefined && filter.notificationId === undefined && filter.itemId === undefined) {
      const key = this.keys.targetIndex(filter.target);
      if (after) {
        if (after.index !== null) {
          const same = await this.cmd.zrangebylex(key, `[${after.recordId}-`, `[${after.recordId}-\xff`);
          const indices = same
            .map((m) => parseJobId(m)?.index ?? -1)
            .filter((i) => i >= 0 && i < (after.index ?? 0))
            .sort((a, b) => b - a);
          if (indices.length > 0) yield [{ recordId: after.recordId, indices }];
        }
        max = minLex(max, `(${after.recordId}-`);
      }
      for (;;) {
        const members = await this.cmd.zrevrangebylex(key, max, min, "LIMIT", 0, BATCH);
        if (members.length === 0) return;
        const groups: Candidate[] = [];
        for (const m of members) {
          const parsed = parseJobId(m);
          if (!parsed) continue;
          const last = groups.at(-1);
          if (last && last.recordId === parsed.recordId) last.indices?.push(parsed.index);
          else groups.push({ recordId: parsed.recordId, indices: [parsed.index] });
        }
        for (const g of groups) g.indices?.sort((a, b) => b - a);
        yield groups;
        if (members.length < BATCH) return;
        max = `(${members.at(-1) ?? ""}`;
      }
    }
    let key: string;
    if (filter.notificationId !== undefined) key = this.keys.recordIndex("n", filter.notificationId);
    else if (filter.itemId !== undefined) key = this.keys.recordIndex("i", filter.itemId);
    else if (filter.appId !== undefined) key = this.keys.recordIndex("a", filter.appId);
    else if (filter.topic !== undefined && filter.topic !== "*" && !filter.topic.endsWith(".*"))
      key = this.keys.recordIndex("t", filter.topic);
    else if (filter.topic !== undefined && filter.topic.endsWith(".*"))
      key = this.keys.recordIndex("g", filter.topic.slice(0, -2));
    else if (filter.queue !== undefined) key = this.keys.recordIndex("q", filter.queue);
    else key = this.keys.recordIndex("all");
    if (after) {
      if (after.index !== null) {
        if (after.index > 0) yield [{ recordId: after.recordId, indices: range(after.index) }];
      }
      max = minLex(max, `(${after.recordId}`);
    }
    for (;;) {
      const members = await this.cmd.zrevrangebylex(key, max, min, "LIMIT", 0, BATCH);
      if (members.length === 0) return;
      yield members.map((recordId) => ({ recordId }));
      if (members.length < BATCH) return;
      max = `(${members.at(-1) ?? ""}`;
    }
  }

  /** Candidates for a state filter without `done`: only BullMQ's non-completed sets, usually small. */
  private async *liveCandidates(
    filter: JobFilter,
    states: readonly JobState[],
    after?: { recordId: string; index: number | null },
  ): AsyncGenerator<Candidate[]> {
    const types = new Set<"wait" | "prioritized" | "delayed" | "active" | "failed">();
    for (const s of states) {
      if (s === "pending" || s === "failed") for (const t of ["wait", "prioritized", "delayed"] as const) types.add(t);
      if (s === "running") types.add("active");
      if (s === "dead") types.add("failed");
    }
    const queues = filter.queue ? [filter.queue] : QUEUE_NAMES;
    const ids = new Set<string>();
    for (const q of queues) {
      if (types.size === 0) break;
      for (const id of await this.queues[q].getRanges([...types], 0, -1, true)) ids.add(id);
    }
    const parsed = [...ids]
      .map((id) => parseJobId(id))
      .filter((x): x is { recordId: string; index: number } => x !== undefined)
      .filter((x) => {
        if (filter.since !== undefined && x.recordId < timeBound(filter.since)) return false;
        if (filter.until !== undefined && x.recordId >= timeBound(filter.until)) return false;
        if (!after) return true;
        if (x.recordId > after.recordId) return false;
        if (x.recordId === after.recordId) return after.index !== null && x.index < after.index;
        return true;
      })
      .sort((a, b) => (a.recordId < b.recordId ? 1 : a.recordId > b.recordId ? -1 : b.index - a.index));
    const groups: Candidate[] = [];
    for (const x of parsed) {
      const last = groups.at(-1);
      if (last && last.recordId === x.recordId) last.indices?.push(x.index);
      else groups.push({ recordId: x.recordId, indices: [x.index] });
    }
    for (let i = 0; i < groups.length; i += BATCH) yield groups.slice(i, i + BATCH);
  }

  private recordMatches(rec: RecordRow, filter: JobFilter): boolean {
    if (filter.queue !== undefined && rec.queue !== filter.queue) return false;
    if (filter.topic !== undefined && !topicMatches(filter.topic, rec.topic)) return false;
    if (filter.appId !== undefined && rec.appId !== filter.appId) return false;
    if (filter.notificationId !== undefined && rec.notificationId !== filter.notificationId) return false;
    if (filter.itemId !== undefined && rec.itemId !== filter.itemId) return false;
    if (filter.recordId !== undefined && rec.id !== filter.recordId) return false;
    if (filter.since !== undefined && rec.receivedAt < filter.since) return false;
    if (filter.until !== undefined && rec.receivedAt >= filter.until) return false;
    return true;
  }

  private jobMatches(job: JobRow, filter: JobFilter): boolean {
    const states = filterStates(filter);
    if (states && !states.includes(job.state)) return false;
    if (filter.target !== undefined && job.data.target !== filter.target) return false;
    return true;
  }

  /** Resolves candidate groups to matching records with all their deliveries read. */
  private async resolve(
    groups: Candidate[],
    filter: JobFilter,
  ): Promise<{ rec: RecordRow; jobs: JobRow[]; considered: number[] }[]> {
    const recs = await this.readRecords(
      groups.map((g) => g.recordId),
      false,
    );
    const wanted: { id: string; queue: QueueName }[] = [];
    const rows: { rec: RecordRow; considered: number[] }[] = [];
    for (const g of groups) {
      const hash = recs.get(g.recordId);
      const rec = hash ? rowOf(g.recordId, hash) : undefined;
      if (!rec || !this.recordMatches(rec, filter)) continue;
      const considered = g.indices ?? range(rec.jobCount);
      rows.push({ rec, considered });
      for (let i = 0; i < rec.jobCount; i++) wanted.push({ id: jobIdOf(rec.id, i), queue: rec.queue });
    }
    const jobs = await this.readJobs(wanted);
    return rows.map(({ rec, considered }) => ({
      rec,
      considered,
      jobs: range(rec.jobCount)
        .map((i) => jobs.get(jobIdOf(rec.id, i)))
        .filter((j): j is JobRow => j !== undefined),
    }));
  }

  /** See {@link Store.listJobs}. */
  async listJobs(filter: JobFilter): Promise<Page<JobSummary>> {
    return this.guard("listJobs", async () => {
      const limit = pageLimit(filter);
      let after: { recordId: string; index: number } | undefined;
      if (filter.cursor !== undefined) {
        const [recordId, index] = decodeCursor(filter.cursor);
        after = { recordId: String(recordId), index: Number(index) };
      }
      const items: JobSummary[] = [];
      let last: JobRow | undefined;
      for await (const groups of this.candidates(filter, after)) {
        for (const { rec, jobs, considered } of await this.resolve(groups, filter)) {
          const allowed = new Set(considered);
          for (const job of jobs) {
            if (!allowed.has(job.index) || !this.jobMatches(job, filter)) continue;
            if (items.length === limit)
              return { items, nextCursor: last ? encodeCursor([last.recordId, last.index]) : null };
            items.push(this.summaryOf(job, rec));
            last = job;
          }
        }
      }
      return { items, nextCursor: null };
    });
  }

  /** See {@link Store.listRecords}. */
  async listRecords(filter: JobFilter): Promise<Page<RecordSummary>> {
    return this.guard("listRecords", async () => {
      const limit = pageLimit(filter);
      let after: { recordId: string; index: null } | undefined;
      if (filter.cursor !== undefined) {
        const [recordId] = decodeCursor(filter.cursor);
        after = { recordId: String(recordId), index: null };
      }
      const hasJobFilter = filter.state !== undefined || filter.target !== undefined;
      const items: RecordSummary[] = [];
      for await (const groups of this.candidates(filter, after)) {
        // A record appears once even if several of its deliveries were candidates.
        for (const { rec, jobs } of await this.resolve(
          groups.map((g) => ({ recordId: g.recordId })),
          filter,
        )) {
          if (hasJobFilter && !jobs.some((j) => this.jobMatches(j, filter))) continue;
          if (items.length === limit) {
            const lastItem = items.at(-1);
            return { items, nextCursor: lastItem ? encodeCursor([lastItem.record.id]) : null };
          }
          const { id, queue, topic, appId, notificationId, itemId, createdAt, receivedAt } = rec;
          items.push({
            record: { id, queue, topic, appId, notificationId, itemId, createdAt, receivedAt },
            jobs: [...jobs].sort((a, b) => a.index - b.index).map((j) => this.summaryOf(j, rec)),
          });
        }
      }
      return { items, nextCursor: null };
    });
  }

  /** See {@link Store.countJobs}. Walks the same index as {@link listJobs}, so it costs O(matching index size). */
  async countJobs(filter: JobFilter): Promise<number> {
    return this.guard("countJobs", async () => {
      let n = 0;
      for await (const groups of this.candidates(withoutCursor(filter))) {
        for (const { jobs, considered } of await this.resolve(groups, filter)) {
          const allowed = new Set(considered);
          for (const job of jobs) if (allowed.has(job.index) && this.jobMatches(job, filter)) n++;
        }
      }
      return n;
    });
  }

  // ---------------------------------------------------------------- requeue, replay

  private async requeueOne(row: JobRow, rec: RecordRow): Promise<RequeueResult> {
    if (row.state === "pending" || row.state === "running") return "conflict";
    const queue = this.queues[rec.queue];
    const job = await queue.getJob(row.id);
    if (!job) return "not-found";
    const now = Date.now();
    try {
      if (row.state === "dead" || row.state === "done") {
        await job.retry(row.state === "dead" ? "failed" : "completed", {
          resetAttemptsMade: true,
          resetAttemptsStarted: true,
        });
      } else {
        // `failed`: waiting for a retry. BullMQ cannot reset attempts of a delayed job, so re-create it (same id).
        await job.remove();
        await queue.add(row.data.target, row.data, {
          jobId: row.id,
          attempts: row.data.retry.maxAttempts,
          backoff: { type: "intercom-bridge" },
          removeOnComplete: false,
          removeOnFail: false,
        });
      }
    } catch {
      return "conflict"; // it started running (locked) or changed state meanwhile
    }
    const m = this.cmd
      .multi()
      .hset(this.keys.meta(row.id), { dueAt: now, updatedAt: now, blocked: 0 })
      .hdel(this.keys.meta(row.id), "lastError", "waits")
      .srem(this.keys.retrying(rec.queue), row.id);
    if (row.data.orderingKey !== null)
      m.zadd(this.keys.orderLine(rec.queue, row.data.orderingKey), row.data.orderScore, row.id);
    await m.exec();
    return "requeued";
  }

  /** See {@link Store.requeue}. Dead/done use BullMQ `job.retry(…, { resetAttemptsMade })`. */
  async requeue(id: JobId): Promise<RequeueResult> {
    return this.guard("requeue", async () => {
      const parsed = parseJobId(id);
      if (!parsed) return "not-found";
      const [resolved] = await this.resolve([{ recordId: parsed.recordId, indices: [parsed.index] }], {});
      const row = resolved?.jobs.find((j) => j.index === parsed.index);
      if (!resolved || !row) return "not-found";
      return this.requeueOne(row, resolved.rec);
    });
  }

  /** See {@link Store.requeueMany}. */
  async requeueMany(filter: JobFilter): Promise<number> {
    return this.guard("requeueMany", async () => {
      const max = requeueLimit(filter);
      const selected: { row: JobRow; rec: RecordRow }[] = [];
      for await (const groups of this.candidates(withoutCursor(filter))) {
        for (const { rec, jobs, considered } of await this.resolve(groups, filter)) {
          const allowed = new Set(considered);
          for (const job of jobs)
            if (allowed.has(job.index) && this.jobMatches(job, filter)) selected.push({ row: job, rec });
        }
      }
      let n = 0;
      // Oldest first (candidates come newest first): with a cap, what matched after a caller counted is left out.
      for (const { row, rec } of selected.reverse()) {
        if (n >= max) break;
        if ((await this.requeueOne(row, rec)) === "requeued") n++;
      }
      return n;
    });
  }

  /** See {@link Store.addDeliveries}. Job ids continue the record's numbering (`<recordId>-<n>`). */
  async addDeliveries(recordId: string, deliveries: readonly DeliveryInput[]): Promise<JobId[]> {
    return this.guard("addDeliveries", async () => {
      deliveries.forEach((d, i) => validateDelivery(d, i));
      const hash = (await this.readRecords([recordId], false)).get(recordId);
      const rec = hash ? rowOf(recordId, hash) : undefined;
      if (!rec) throw new StoreError(`Record ${recordId} not found`);
      if (deliveries.length === 0) return [];
      const end = await this.cmd.hincrby(this.keys.record(recordId), "jc", deliveries.length);
      const first = end - deliveries.length;
      const multi = this.cmd.multi();
      const jobs = this.stageJobs(multi, recordId, rec.queue, rec.createdAt, deliveries, first, Date.now());
      await multi.exec();
      await this.queues[rec.queue].addBulk(jobs);
      return jobs.map((j) => j.opts.jobId);
    });
  }

  // ---------------------------------------------------------------- stats

  /** See {@link Store.stats}. BullMQ `getJobCounts` plus our `retrying` set to split pending from failed. */
  async stats(): Promise<QueueStats> {
    return this.guard("stats", async () => {
      const stats = emptyStats();
      for (const q of QUEUE_NAMES) {
        const queue = this.queues[q];
        const c = await queue.getJobCounts("wait", "prioritized", "delayed", "active", "completed", "failed");
        const retrying = await this.cmd.scard(this.keys.retrying(q));
        const waiting = (c.wait ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0);
        const failed = Math.min(retrying, waiting);
        stats.counts[q] = {
          pending: waiting - failed,
          running: c.active ?? 0,
          failed,
          done: c.completed ?? 0,
          dead: c.failed ?? 0,
        };
        const [oldestWaiting] = await this.cmd.lrange(queue.toKey("wait"), -1, -1);
        const delayed = await this.cmd.zrange(queue.toKey("delayed"), "0", "0", "WITHSCORES");
        let oldest: number | null = null;
        if (oldestWaiting !== undefined) {
          const [due, ts] = await this.cmd.hmget(this.keys.meta(oldestWaiting), "dueAt", "updatedAt");
          oldest = num(due) ?? num(ts);
        }
        if (delayed[1] !== undefined) {
          const at = Math.floor(Number(delayed[1]) / DELAYED_SCORE_FACTOR);
          if (oldest === null || at < oldest) oldest = at;
        }
        stats.oldestDueAt[q] = oldest;
      }
      return stats;
    });
  }

  /** See {@link Store.receivedHistogram}. Walks the queue's record index from `sinceMs` (ids encode receive time). */
  async receivedHistogram(queue: QueueName, sinceMs: number, bucketMs: number): Promise<ReceivedBucket[]> {
    return this.guard("receivedHistogram", async () => {
      const size = Math.max(1, Math.floor(bucketMs));
      if (sinceMs % MINUTE_MS === 0 && size % MINUTE_MS === 0) return this.histogramFromCounters(queue, sinceMs, size);
      const counts = new Map<string, ReceivedBucket>();
      const key = this.keys.recordIndex("q", queue);
      let min = `[${timeBound(sinceMs)}`;
      for (;;) {
        const ids = await this.cmd.zrangebylex(key, min, "+", "LIMIT", 0, 1_000);
        if (ids.length === 0) break;
        const pipe = this.cmd.pipeline();
        for (const id of ids) pipe.hmget(this.keys.record(id), "topic", "ra");
        const res = (await pipe.exec()) ?? [];
        res.forEach(([, value]) => {
          const [topic, ra] = (value as (string | null)[]) ?? [];
          const receivedAt = num(ra);
          if (topic === null || topic === undefined || receivedAt === null || receivedAt < sinceMs) return;
          const bucketStart = sinceMs + Math.floor((receivedAt - sinceMs) / size) * size;
          const k = `${bucketStart}\u0000${topic}`;
          const bucket = counts.get(k);
          if (bucket) bucket.count++;
          else counts.set(k, { bucketStart, topic, count: 1 });
        });
        if (ids.length < 1_000) break;
        min = `(${ids.at(-1) ?? ""}`;
      }
      return [...counts.values()].sort(
        (a, b) => a.bucketStart - b.bucketStart || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0),
      );
    });
  }

  /**
   * See {@link Store.purgeRecords}. Walks `x:ri:all` from the oldest id up to the time bound, reads each record's
   * deliveries, and deletes a finished record with one script that re-checks, atomically, that every delivery is in
   * BullMQ's `completed` or `failed` set.
   */
  async purgeRecords(beforeMs: number, limit: number): Promise<number> {
    return this.guard("purgeRecords", async () => {
      const max = Math.max(0, Math.floor(limit));
      const page = 500;
      const bound = `(${timeBound(beforeMs)}`;
      let min = "-";
      let purged = 0;
      while (purged < max) {
        const ids = await this.cmd.zrangebylex(this.keys.recordIndex("all"), min, bound, "LIMIT", 0, page);
        if (ids.length === 0) break;
        const records = await this.readRecords(ids, false);
        const refs: { id: string; queue: QueueName }[] = [];
        for (const [id, h] of records) {
          const queue = h.q as QueueName;
          if (!(queue in this.queues)) continue;
          for (let i = 0; i < (num(h.jc) ?? 0); i++) refs.push({ id: jobIdOf(id, i), queue });
        }
        const jobs = await this.readJobs(refs);
        for (const id of ids) {
          if (purged >= max) break;
          const h = records.get(id);
          const queue = h?.q as QueueName | undefined;
          if (!h || !queue || !(queue in this.queues)) continue;
          const jobIds = Array.from({ length: num(h.jc) ?? 0 }, (_, i) => jobIdOf(id, i));
          const rows = jobIds.map((j) => jobs.get(j));
          // A missing delivery (an enqueue that stopped before addBulk) or an unfinished one keeps the record.
          if (rows.some((r) => !r || (r.state !== "done" && r.state !== "dead"))) continue;
          const q = this.queues[queue];
          const indices = this.recordIndices(queue, h.topic ?? "", h.app ?? null, h.item ?? null, h.nid ?? null);
          const keys = [this.keys.record(id), q.toKey("completed"), q.toKey("failed"), ...indices];
          rows.forEach((r) => {
            const jid = r!.id;
            keys.push(
              q.toKey(jid),
              q.toKey(`${jid}:logs`),
              this.keys.meta(jid),
              this.keys.history(jid),
              this.keys.targetIndex(r!.data.target),
            );
          });
          const deleted = await this.cmd.ibPurgeRecord(
            keys.length,
            ...keys,
            id,
            indices.length,
            jobIds.length,
            ...jobIds,
          );
          if (deleted === 1) purged++;
        }
        if (ids.length < page) break;
        min = `(${ids.at(-1)!}`;
      }
      return purged;
    });
  }

  /**
   * The histogram from the per-minute counters the enqueue script keeps (`x:rh:<queue>:<minute>`, topic → count):
   * one HGETALL per minute instead of one read per record, for minute-aligned `sinceMs` and buckets (what the
   * dashboard asks). Counters live `max(dedupeTtlMs, 1 day)`.
   */
  private async histogramFromCounters(queue: QueueName, sinceMs: number, size: number): Promise<ReceivedBucket[]> {
    const counts = new Map<string, ReceivedBucket>();
    const minutes: number[] = [];
    for (let m = sinceMs; m <= Date.now(); m += MINUTE_MS) minutes.push(m);
    for (let i = 0; i < minutes.length; i += 1_000) {
      const chunk = minutes.slice(i, i + 1_000);
      const pipe = this.cmd.pipeline();
      for (const m of chunk) pipe.hgetall(this.keys.minute(queue, m));
      const replies = (await pipe.exec()) ?? [];
      replies.forEach(([error, value], j) => {
        if (error) throw error;
        const bucketStart = sinceMs + Math.floor((chunk[j]! - sinceMs) / size) * size;
        for (const [topic, n] of Object.entries((value as Record<string, string> | null) ?? {})) {
          const k = `${bucketStart}\u0000${topic}`;
          const bucket = counts.get(k);
          if (bucket) bucket.count += Number(n);
          else counts.set(k, { bucketStart, topic, count: Number(n) });
        }
      });
    }
    return [...counts.values()].sort(
      (a, b) => a.bucketStart - b.bucketStart || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0),
    );
  }

  // ---------------------------------------------------------------- limiter, sets, lifecycle

  /** See {@link Store.limiter}. A fixed window on the Redis clock, shared by every instance on this prefix. */
  limiter(name: string): SharedLimiter {
    const key = this.keys.limiter(name);
    return {
      acquire: (max, windowMs, originMs = 0) =>
        this.guard("limiter", () =>
          this.cmd.ibLimiterAcquire(key, Math.floor(max), Math.max(1, Math.floor(windowMs)), Math.floor(originMs)),
        ),
      pauseUntil: (untilMs, reason) =>
        this.guard("limiter", async () => void (await this.cmd.ibLimiterPause(key, Math.floor(untilMs), reason))),
      resume: () => this.guard("limiter", async () => void (await this.cmd.hdel(key, "pu", "pr"))),
      state: () =>
        this.guard("limiter", async () => {
          const [nowS, ws, used, wm, pu, pr] = await this.cmd.ibLimiterState(key);
          const now = num(nowS) ?? Date.now();
          const windowMs = num(wm);
          const windowStart = num(ws) ?? 0;
          const isCurrent = windowMs !== null && now < windowStart + windowMs;
          const pausedUntil = num(pu);
          const isPaused = pausedUntil !== null && pausedUntil > now;
          return {
            windowStart,
            used: isCurrent ? (num(used) ?? 0) : 0,
            pausedUntil: isPaused ? pausedUntil : null,
            pauseReason: isPaused ? (pr ?? null) : null,
          };
        }),
    };
  }

  /** See {@link Store.addToSet}. `SADD` + `SCARD` in one MULTI. */
  async addToSet(name: string, members: readonly string[]): Promise<number> {
    return this.guard("addToSet", async () => {
      const m = this.cmd.multi();
      if (members.length > 0) m.sadd(this.keys.set(name), ...members);
      m.scard(this.keys.set(name));
      const res = (await m.exec()) ?? [];
      return Number(res.at(-1)?.[1] ?? 0);
    });
  }

  /** See {@link Store.setMembers}. */
  async setMembers(name: string): Promise<string[]> {
    return this.guard("setMembers", async () => (await this.cmd.smembers(this.keys.set(name))).sort());
  }

  /** See {@link Store.ping}. Rejects with {@link StoreError} while Redis is unreachable, even when a spool accepts writes. */
  async ping(): Promise<void> {
    this.assertOpen();
    try {
      await this.ready();
      await withTimeout(this.cmd.ping(), this.opts.commandTimeoutMs, "PING");
    } catch (error) {
      throw toStoreError(error, "PING");
    }
  }

  /** See {@link Store.close}. Closes processors (waiting for running jobs), queues and connections. Idempotent. */
  close(): Promise<void> {
    this.closePromise ??= (async () => {
      await Promise.allSettled([...this.processors].map((p) => p.close()));
      if (this.drainTimer) clearTimeout(this.drainTimer);
      this.drainTimer = null;
      this.closed = true;
      await this.drainPromise?.catch(() => undefined);
      await Promise.allSettled(Object.values(this.queues).map((q) => q.close()));
      this.cmd.disconnect();
      this.spool?.close();
    })();
    return this.closePromise;
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      await this.ready();
      return await fn();
    } catch (error) {
      if (error instanceof ConfigError || error instanceof StoreError) throw error;
      throw toStoreError(error, what);
    }
  }
}

function range(n: number): number[] {
  return Array.from({ length: Math.max(0, n) }, (_, i) => n - 1 - i);
}

/** The smaller of two exclusive/inclusive lex upper bounds. */
function minLex(a: string, b: string): string {
  if (a === "+") return b;
  if (b === "+") return a;
  return a.slice(1) <= b.slice(1) ? a : b;
}

function rowOf(id: string, h: Record<string, string>): RecordRow | undefined {
  if (h.q !== "inbound" && h.q !== "outbox") return undefined;
  return {
    id,
    queue: h.q,
    topic: h.topic ?? "",
    appId: h.app ?? null,
    notificationId: h.nid ?? null,
    itemId: h.item ?? null,
    createdAt: num(h.ca) ?? 0,
    receivedAt: num(h.ra) ?? 0,
    jobCount: num(h.jc) ?? 0,
  };
}

function toRecord(id: string, h: Record<string, string>): RecordWithId | undefined {
  const row = rowOf(id, h);
  if (!row || h.body === undefined) return undefined;
  const record: RecordWithId = {
    id,
    queue: row.queue,
    topic: row.topic,
    body: h.body,
    appId: row.appId,
    notificationId: row.notificationId,
    itemId: row.itemId,
    createdAt: row.createdAt,
    receivedAt: row.receivedAt,
  };
  if (h.hdr) record.headers = JSON.parse(h.hdr) as Record<string, string>;
  return record;
}

/** Parses `redis://` / `rediss://` URLs into ioredis options (host, port, db, credentials, TLS). */
export function parseRedisUrl(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`Redis URL is not a URL: ${url}`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    throw new ConfigError(`Redis URL must start with redis:// or rediss://; got ${url}`);
  const opts: RedisOptions = { host: u.hostname || "127.0.0.1", port: u.port ? Number(u.port) : 6379 };
  const db = u.pathname.replace(/^\//, "");
  if (db !== "") {
    const n = Number(db);
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`Redis URL database must be an integer; got "${db}"`);
    opts.db = n;
  }
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  if (u.protocol === "rediss:") opts.tls = {};
  return opts;
}

/**
 * Creates a {@link RedisStore}. Connects lazily in the background; `ping()` tells when Redis answers.
 * @example
 * ```ts
 * import { createRedisStore } from "intercom-bridge/redis";
 * const store = createRedisStore({ url: process.env.REDIS_URL, prefix: "intercom-bridge", spoolPath: "./data/spool.db" });
 * ```
 */
export function createRedisStore(options: RedisStoreOptions = {}): RedisStore {
  return new RedisStore(options);
}
