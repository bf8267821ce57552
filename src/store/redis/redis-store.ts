/**
 * The {@link Store} on Redis, for several `intercom-bridge serve` instances behind a load balancer: the facade that
 * opens the connections and hands each contract member to its part — `enqueue.ts` (write path and outage spool),
 * `processor.ts` (BullMQ workers and the shared outcome table), `reader.ts` / `stats.ts` (operator read model),
 * `admin.ts` (requeue, replay, purge), `coordination.ts` (limiter, sets) — with `connection.ts` guarding every call
 * (reachability, persistence). See `src/store/redis/README.md` for the data model. Holds no rules of its own.
 */
import { Queue, type ConnectionOptions as BullConnectionOptions } from "bullmq";
import type { RedisOptions } from "ioredis";
import { ConfigError, describeError } from "../../core/errors.js";
import { createLogger, type Logger } from "../../core/logger.js";
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
} from "../../delivery/types.js";
import { createWorkerId } from "../job-helpers.js";
import type { DeliveryInput, EnqueueInput, EnqueueResult, RequeueResult, SharedLimiter, Store } from "../store.js";
import { RedisAdmin } from "./admin.js";
import { RedisConnection, settlesWithin } from "./connection.js";
import { addToSet, redisLimiter, setMembers } from "./coordination.js";
import { RedisEnqueuer } from "./enqueue.js";
import { RedisKeys } from "./keys.js";
import type { RedisJobData } from "./model.js";
import { parseRedisUrl, resolveOptions, type RedisStoreOptions, type ResolvedRedisStoreOptions } from "./options.js";
import { RedisRunner, type RedisProcessor } from "./processor.js";
import { RedisReader } from "./reader.js";
import { readHistogram, readStats } from "./stats.js";

/** How long `close` waits for a BullMQ queue connection to quit before dropping it (Redis may be unreachable). */
const QUEUE_CLOSE_MS = 2_000;
/** How long `close` waits for a dropped queue connection to report its end (it may never, during an outage). */
const QUEUE_DISCONNECT_MS = 1_000;

/** What {@link RedisStore.health} reports: for `/readyz`, metrics and operators. */
export interface RedisStoreHealth {
  /** Redis answers on the command connection. */
  reachable: boolean;
  /**
   * Redis keeps what it acknowledges (append-only file on, fsync not `no`, `maxmemory-policy noeviction`); false
   * when it does not (allowed with `allowVolatile`, refused otherwise); null until Redis has been reached once.
   */
  durable: boolean | null;
  /** What the persistence check asks to change (empty when durable or not yet known). */
  problems: string[];
  /** Notifications waiting in the local spool for Redis. */
  spooled: number;
  /** The instance can store a notification durably now: in Redis, or else in the spool. */
  accepting: boolean;
}

/**
 * The {@link Store} on Redis. Queueing, retries with backoff, leases (stalled-job recovery) and the queue-wide rate
 * limit are BullMQ's; dedupe is one `SET NX` per notification; records, histories and indices are plain Redis
 * hashes, lists and sorted sets under `<prefix>:x:`. A Redis without persistence is refused unless `allowVolatile`.
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
  /** ioredis options every connection of this store starts from. */
  readonly connectionOptions: RedisOptions;
  private readonly opts: ResolvedRedisStoreOptions;
  private readonly log: Logger;
  private readonly conn: RedisConnection;
  private readonly queues: Record<QueueName, Queue<RedisJobData>>;
  private readonly processors = new Set<RedisProcessor>();
  private readonly enqueuer: RedisEnqueuer;
  private readonly runner: RedisRunner;
  private readonly reader: RedisReader;
  private readonly admin: RedisAdmin;
  private readonly keys: RedisKeys;
  private closePromise: Promise<void> | null = null;

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
    this.conn = new RedisConnection(this.opts, this.connectionOptions, this.log);
    const queueOpts = { connection: { ...this.connectionOptions } as BullConnectionOptions, prefix: this.prefix };
    this.queues = {
      inbound: new Queue<RedisJobData>("inbound", queueOpts),
      outbox: new Queue<RedisJobData>("outbox", queueOpts),
    };
    for (const q of Object.values(this.queues)) {
      q.on("error", (err: Error) => {
        if (this.conn.isUsable()) this.log.warn({ err: describeError(err) }, "bullmq queue error");
        else this.log.debug({ err: describeError(err) }, "bullmq queue error");
      });
    }
    this.enqueuer = new RedisEnqueuer(this.conn, this.keys, this.queues, this.opts, this.log);
    const workerPrefix = createWorkerId(process.pid);
    this.runner = new RedisRunner(
      this.conn,
      this.keys,
      this.queues,
      this.opts,
      this.connectionOptions,
      workerPrefix,
      this.log,
    );
    this.reader = new RedisReader(this.conn, this.keys, this.queues);
    this.admin = new RedisAdmin(this.conn, this.keys, this.queues, this.reader);
  }

  /** See {@link Store.enqueue}. Spools locally while Redis is unreachable when a `spoolPath` is configured. */
  enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    return this.enqueuer.enqueue(input);
  }

  /** Rows waiting in the local spool (0 without a spool). */
  spooled(): number {
    return this.enqueuer.spooled();
  }

  /** See {@link Store.process}. One BullMQ worker; `leaseMs` is its `lockDuration`. `pollMs` is not used (push). */
  process(queue: QueueName, run: JobRunner, opts: ProcessOptions): Processor {
    this.conn.assertOpen();
    const processor = this.runner.process(queue, run, opts, (p) => this.processors.delete(p));
    this.processors.add(processor);
    return processor;
  }

  /** See {@link Store.listJobs}. */
  listJobs(filter: JobFilter): Promise<Page<JobSummary>> {
    return this.conn.guard("listJobs", () => this.reader.listJobs(filter));
  }

  /** See {@link Store.listRecords}. */
  listRecords(filter: JobFilter): Promise<Page<RecordSummary>> {
    return this.conn.guard("listRecords", () => this.reader.listRecords(filter));
  }

  /** See {@link Store.countJobs}. */
  countJobs(filter: JobFilter): Promise<number> {
    return this.conn.guard("countJobs", () => this.reader.countJobs(filter));
  }

  /** See {@link Store.getJob}. */
  getJob(id: JobId): Promise<JobDetail | undefined> {
    return this.conn.guard("getJob", () => this.reader.getJob(id));
  }

  /** See {@link Store.getRecord}. */
  getRecord(recordId: string): Promise<RecordDetail | undefined> {
    return this.conn.guard("getRecord", () => this.reader.getRecord(recordId));
  }

  /** See {@link Store.requeue}. */
  requeue(id: JobId): Promise<RequeueResult> {
    return this.conn.guard("requeue", () => this.admin.requeue(id));
  }

  /** See {@link Store.requeueMany}. */
  requeueMany(filter: JobFilter): Promise<number> {
    return this.conn.guard("requeueMany", () => this.admin.requeueMany(filter));
  }

  /** See {@link Store.addDeliveries}. */
  addDeliveries(recordId: string, deliveries: readonly DeliveryInput[]): Promise<JobId[]> {
    return this.conn.guard("addDeliveries", () => this.admin.addDeliveries(recordId, deliveries));
  }

  /** See {@link Store.purgeRecords}. */
  purgeRecords(beforeMs: number, limit: number): Promise<number> {
    return this.conn.guard("purgeRecords", () => this.admin.purgeRecords(beforeMs, limit));
  }

  /** See {@link Store.stats}. */
  stats(): Promise<QueueStats> {
    return this.conn.guard("stats", () => readStats(this.conn, this.keys, this.queues));
  }

  /** See {@link Store.receivedHistogram}. */
  receivedHistogram(queue: QueueName, sinceMs: number, bucketMs: number): Promise<ReceivedBucket[]> {
    return this.conn.guard("receivedHistogram", () => readHistogram(this.conn, this.keys, queue, sinceMs, bucketMs));
  }

  /** See {@link Store.limiter}. */
  limiter(name: string): SharedLimiter {
    return redisLimiter(this.conn, this.keys, name);
  }

  /** See {@link Store.addToSet}. */
  addToSet(name: string, members: readonly string[]): Promise<number> {
    return this.conn.guard("addToSet", () => addToSet(this.conn, this.keys, name, members));
  }

  /** See {@link Store.setMembers}. */
  setMembers(name: string): Promise<string[]> {
    return this.conn.guard("setMembers", () => setMembers(this.conn, this.keys, name));
  }

  /**
   * See {@link Store.ping}. Rejects with {@link StoreError} while Redis is unreachable (even when a spool accepts
   * writes), and with {@link ConfigError} while a volatile Redis is refused. {@link health} says whether the instance
   * can still accept.
   */
  ping(): Promise<void> {
    return this.conn.ping();
  }

  /**
   * Whether this instance can durably accept notifications now, and why: Redis reachable and persistent, or else
   * the local spool writable. `/readyz` answers from it, so a Redis outage does not take every instance out of a
   * load balancer while the spools still accept.
   */
  async health(): Promise<RedisStoreHealth> {
    let isUsable = true;
    // Reachable means "answers": a refused (volatile) Redis answers; one that did not answer PING in time does not.
    let isReachable = true;
    try {
      await this.conn.ping();
    } catch (error) {
      isUsable = false;
      isReachable = error instanceof ConfigError;
    }
    const report = this.conn.persistence();
    const canSpool = this.enqueuer.spool !== null && !this.enqueuer.isSpoolFailing && !this.conn.isClosed;
    let spooled = 0;
    try {
      spooled = this.enqueuer.spooled();
    } catch {
      // a closed or broken spool counts nothing
    }
    return {
      reachable: isReachable,
      durable: report ? report.problems.length === 0 : null,
      problems: report?.problems ?? [],
      spooled,
      accepting: !this.conn.isClosed && (isUsable || canSpool),
    };
  }

  /**
   * See {@link Store.close}. Closes processors (waiting for running jobs up to their lease), the spool drain, queues
   * and connections. Ends within the processors' grace period plus a few seconds even while Redis is unreachable.
   * Idempotent.
   */
  close(): Promise<void> {
    this.closePromise ??= (async () => {
      await Promise.allSettled([...this.processors].map((p) => p.close()));
      this.conn.markClosed();
      await this.enqueuer.stop(QUEUE_CLOSE_MS);
      await Promise.allSettled(
        Object.values(this.queues).map(async (q) => {
          // A queue's own close waits for Redis to answer QUIT: only while Redis is usable.
          if (this.conn.isUsable() && (await settlesWithin(q.close(), QUEUE_CLOSE_MS))) return;
          await settlesWithin(q.disconnect(), QUEUE_DISCONNECT_MS);
        }),
      );
      this.conn.disconnect();
    })();
    return this.closePromise;
  }
}

/**
 * Creates a {@link RedisStore}. Connects in the background; the first operation waits for Redis and for its
 * persistence check (`ping()` tells when both passed). A Redis without the append-only file, with `appendfsync no`
 * or with an evicting `maxmemory-policy` is refused with {@link ConfigError} unless `allowVolatile` is set.
 * @example
 * ```ts
 * import { createRedisStore } from "intercom-bridge/redis";
 * const store = createRedisStore({ url: process.env.REDIS_URL, prefix: "intercom-bridge", spoolPath: "./data/spool.db" });
 * ```
 */
export function createRedisStore(options: RedisStoreOptions = {}): RedisStore {
  return new RedisStore(options);
}

export { parseRedisUrl };
export type { RedisStoreOptions };
