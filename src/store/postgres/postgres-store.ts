/**
 * The PostgreSQL {@link Store}: several `serve` instances on one database, with the durability of the database a team
 * already runs. It wires together the parts of this folder: `migrate.ts` (versioned schema under an advisory lock),
 * `enqueue.ts` (group commit), `lease-backend.ts` (claims with `FOR UPDATE SKIP LOCKED` for the shared lease loop),
 * `wake.ts` (LISTEN/NOTIFY between instances), `reads.ts` (operator read model) and `admin.ts` (operator writes,
 * limiters, sets). See README.md beside it for the data model and what is atomic.
 *
 * Loaded only through `intercom-bridge/postgres` or a `postgres://` store URL: the package root never imports `pg`.
 */
import pg from "pg";
import type { Pool } from "pg";
import { systemClock, type Clock } from "../../core/clock.js";
import { ConfigError, StoreError } from "../../core/errors.js";
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
import { createWorkerId, validateEnqueueInput } from "../job-helpers.js";
import { LeaseProcessor, type QueuePauses } from "../../delivery/lease-loop.js";
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
import { PgAdmin } from "./admin.js";
import { EnqueueBatcher } from "./enqueue.js";
import { PgLeaseBackend } from "./lease-backend.js";
import { migrate } from "./migrate.js";
import { PgReader } from "./reads.js";
import { checkSchemaName, DEFAULT_SCHEMA, query, quoteIdent } from "./sql.js";
import { Waker } from "./wake.js";

/** Where the store connects: a connection string (the store owns its pool), or a `pg` pool you own. */
export type PostgresConnection =
  | {
      /** `postgres://user:password@host:5432/database` (any form `pg` accepts). */
      connectionString: string;
      /**
       * Connections in the store's pool: one listens for wake-ups, up to `maxBatchesInFlight` commit enqueues, the
       * rest serve processors and reads. @defaultValue 16
       */
      poolSize?: number;
      /** How long to wait for a connection before an operation fails, ms. @defaultValue 5000 */
      connectTimeoutMs?: number;
    }
  | {
      /**
       * A `pg` Pool you created and close yourself. The store checks one connection out for as long as it is open
       * (LISTEN), and never changes the pool's settings. Give it a `connectionTimeoutMillis`, so an unreachable
       * database fails operations instead of making them wait.
       */
      pool: Pool;
    };

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * Schema holding the store's tables (created, and migrated, at start). Several deployments can share a database
   * with different schemas. Letters, digits and `_`.
   * @defaultValue "intercom_bridge"
   */
  schema?: string;
  /** Group commit: most enqueues in one statement. @defaultValue 256 */
  maxBatchSize?: number;
  /**
   * Group commit: enqueue batches committing at once, each on its own connection. PostgreSQL flushes the WAL of
   * concurrent commits together, so more batches in flight means more enqueues per flush (measured with
   * `bench/postgres-driver.ts`: 8 gave more enqueues/s and a lower p99 than 4 at 50 in flight). @defaultValue 8
   */
  maxBatchesInFlight?: number;
  /**
   * `synchronous_commit` of the processors' claims, settlements and renewals. Off (the default) skips their WAL flush:
   * after a database crash the last outcomes may be lost and those deliveries run again (at-least-once, as after a
   * worker crash). Every enqueue commits with `synchronous_commit` on whatever this says.
   * @defaultValue false
   */
  processingSynchronousCommit?: boolean;
  /** How often expired dedupe keys are deleted, ms (0 disables). @defaultValue 60000 */
  purgeIntervalMs?: number;
  /** How long `ping` waits for an answer, ms. @defaultValue 5000 */
  pingTimeoutMs?: number;
  /** Time source (receive times, due times, dedupe expiry). @defaultValue the system clock */
  clock?: Clock;
}

/**
 * A {@link Store} on PostgreSQL. Create it with {@link createPostgresStore}, which migrates the schema first.
 */
export class PostgresStore implements Store {
  /** Always `postgres`. */
  readonly kind = "postgres";
  /** The schema holding the tables. */
  readonly schema: string;
  private readonly clock: Clock;
  private readonly batcher: EnqueueBatcher;
  private readonly backend: PgLeaseBackend;
  private readonly reader: PgReader;
  private readonly admin: PgAdmin;
  private readonly waker: Waker;
  private readonly pauses: QueuePauses = new Map();
  private readonly processors = new Set<LeaseProcessor>();
  private readonly workerPrefix = createWorkerId(process.pid);
  private workerCount = 0;
  private purgeTimer: NodeJS.Timeout | null = null;
  private readonly pingTimeoutMs: number;
  private closing = false;
  private closePromise: Promise<void> | null = null;

  /** @internal Use {@link createPostgresStore}, which also migrates the schema. */
  constructor(
    private readonly pool: Pool,
    private readonly ownsPool: boolean,
    options: PostgresStoreOptions = {},
  ) {
    this.schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
    const s = quoteIdent(this.schema);
    this.clock = options.clock ?? systemClock;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 5_000;
    this.waker = new Waker(pool, this.schema);
    this.batcher = new EnqueueBatcher({
      pool,
      schema: s,
      clock: this.clock,
      maxBatchSize: Math.max(1, Math.floor(options.maxBatchSize ?? 256)),
      maxInFlight: Math.max(1, Math.floor(options.maxBatchesInFlight ?? 8)),
      onEnqueued: (queues) => this.waker.wake(queues),
    });
    this.backend = new PgLeaseBackend({
      pool,
      schema: s,
      clock: this.clock,
      waker: this.waker,
      synchronousCommit: options.processingSynchronousCommit ?? false,
    });
    this.reader = new PgReader(pool, s);
    this.admin = new PgAdmin(pool, s, this.clock, this.reader, (queues) => this.waker.wake(queues));
    const purgeMs = options.purgeIntervalMs ?? 60_000;
    if (purgeMs > 0) {
      this.purgeTimer = setInterval(() => void this.purgeExpiredDedupeKeys().catch(() => undefined), purgeMs);
      this.purgeTimer.unref();
    }
  }

  /** @internal Starts listening for other instances' wake-ups. */
  start(): Promise<void> {
    return this.waker.start();
  }

  private open<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new StoreError("Store is closed"));
    return fn();
  }

  /**
   * See {@link Store.enqueue}. Calls made in the same event-loop turn share one statement and one commit
   * (`synchronous_commit` on); each resolves only after that commit, and one failing item fails alone.
   */
  enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    if (this.closing) return Promise.reject(new StoreError("Store is closed"));
    try {
      validateEnqueueInput(input);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.batcher.enqueue(input);
  }

  /** See {@link Store.process}. Runs the shared lease loop over this schema. */
  process(queue: QueueName, run: JobRunner, opts: ProcessOptions): Processor {
    if (this.closing) throw new StoreError("Store is closed");
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

  /** See {@link Store.listJobs}. */
  listJobs(filter: JobFilter): Promise<Page<JobSummary>> {
    return this.open(() => this.reader.listJobs(filter));
  }

  /** See {@link Store.listRecords}. */
  listRecords(filter: JobFilter): Promise<Page<RecordSummary>> {
    return this.open(() => this.reader.listRecords(filter));
  }

  /** See {@link Store.countJobs}. */
  countJobs(filter: JobFilter): Promise<number> {
    return this.open(() => this.reader.countJobs(filter));
  }

  /** See {@link Store.getJob}. */
  getJob(id: JobId): Promise<JobDetail | undefined> {
    return this.open(() => this.reader.getJob(id));
  }

  /** See {@link Store.getRecord}. */
  getRecord(recordId: string): Promise<RecordDetail | undefined> {
    return this.open(() => this.reader.getRecord(recordId));
  }

  /** See {@link Store.requeue}. */
  requeue(id: JobId): Promise<RequeueResult> {
    return this.open(() => this.admin.requeue(id));
  }

  /** See {@link Store.requeueMany}. */
  requeueMany(filter: JobFilter): Promise<number> {
    return this.open(() => this.admin.requeueMany(filter));
  }

  /** See {@link Store.addDeliveries}. */
  addDeliveries(recordId: string, deliveries: readonly DeliveryInput[]): Promise<JobId[]> {
    return this.open(() => this.admin.addDeliveries(recordId, deliveries));
  }

  /** See {@link Store.purgeRecords}. */
  purgeRecords(beforeMs: number, limit: number): Promise<number> {
    return this.open(() => this.admin.purgeRecords(beforeMs, limit));
  }

  /** See {@link Store.stats}. */
  stats(): Promise<QueueStats> {
    return this.open(() => this.reader.stats());
  }

  /** See {@link Store.receivedHistogram}. */
  receivedHistogram(queue: QueueName, sinceMs: number, bucketMs: number): Promise<ReceivedBucket[]> {
    return this.open(() => this.reader.receivedHistogram(queue, sinceMs, bucketMs));
  }

  /** See {@link Store.limiter}: one row per name, shared by every instance on this schema. */
  limiter(name: string): SharedLimiter {
    const limiter = this.admin.limiter(name);
    return {
      acquire: (max, windowMs, originMs) => this.open(() => limiter.acquire(max, windowMs, originMs)),
      pauseUntil: (untilMs, reason) => this.open(() => limiter.pauseUntil(untilMs, reason)),
      resume: () => this.open(() => limiter.resume()),
      state: () => this.open(() => limiter.state()),
    };
  }

  /** See {@link Store.addToSet}. */
  addToSet(name: string, members: readonly string[]): Promise<number> {
    return this.open(() => this.admin.addToSet(name, members));
  }

  /** See {@link Store.setMembers}. */
  setMembers(name: string): Promise<string[]> {
    return this.open(() => this.admin.setMembers(name));
  }
  /** See {@link Store.compareAndSet}. */
  compareAndSet(name: string, expected: string | null, next: string): Promise<string | null> {
    return this.open(() => this.admin.compareAndSet(name, expected, next));
  }

  /**
   * Deletes expired dedupe keys (chunks of 10,000). Runs every `purgeIntervalMs` on every instance (rows another
   * instance is deleting are skipped); callable directly. Returns how many keys were deleted.
   */
  purgeExpiredDedupeKeys(): Promise<number> {
    return this.open(() => this.admin.purgeExpiredDedupeKeys());
  }

  /** See {@link Store.ping}: `SELECT 1` within `pingTimeoutMs`; rejects with {@link StoreError} otherwise. */
  ping(): Promise<void> {
    return this.open(async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new StoreError(`PostgreSQL did not answer within ${this.pingTimeoutMs} ms`)),
          this.pingTimeoutMs,
        );
      });
      try {
        await Promise.race([query(this.pool, "ping", "SELECT 1"), timeout]);
      } finally {
        clearTimeout(timer);
      }
    });
  }

  /**
   * See {@link Store.close}: refuses new enqueues, commits what is batched, closes processors (waiting for running
   * jobs), stops listening, then ends the pool if the store created it. Idempotent.
   */
  close(): Promise<void> {
    this.closePromise ??= (async () => {
      this.closing = true;
      await this.batcher.drain();
      await Promise.all([...this.processors].map((p) => p.close()));
      if (this.purgeTimer) clearInterval(this.purgeTimer);
      await this.waker.close();
      if (this.ownsPool) await this.pool.end();
    })();
    return this.closePromise;
  }
}

/**
 * Opens a PostgreSQL store: creates the schema if needed and applies its migrations (under an advisory lock, so
 * instances starting together migrate once), then starts listening for other instances' wake-ups.
 * @throws {ConfigError} when the schema name or the connection options are invalid.
 * @throws {StoreError} when the database cannot be reached or a migration fails (the message names it).
 * @example
 * ```ts
 * import { createPostgresStore } from "intercom-bridge/postgres";
 * const store = await createPostgresStore({ connectionString: process.env.DATABASE_URL! }, { schema: "intercom_bridge" });
 * ```
 */
export async function createPostgresStore(
  connection: PostgresConnection,
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  let pool: Pool;
  let ownsPool: boolean;
  if ("pool" in connection && connection.pool !== undefined) {
    pool = connection.pool;
    ownsPool = false;
  } else if ("connectionString" in connection && typeof connection.connectionString === "string") {
    const poolSize = connection.poolSize ?? 16;
    if (!Number.isSafeInteger(poolSize) || poolSize < 2)
      throw new ConfigError("poolSize must be an integer >= 2 (one connection listens for wake-ups)");
    pool = new pg.Pool({
      connectionString: connection.connectionString,
      max: poolSize,
      connectionTimeoutMillis: connection.connectTimeoutMs ?? 5_000,
      application_name: "intercom-bridge",
      keepAlive: true,
    });
    // An idle connection that breaks (database restart) is reported here; the next query reconnects.
    pool.on("error", () => undefined);
    ownsPool = true;
  } else {
    throw new ConfigError("createPostgresStore: give { connectionString } or { pool }");
  }
  try {
    await migrate(pool, schema);
  } catch (error) {
    if (ownsPool) await pool.end().catch(() => undefined);
    throw error;
  }
  const store = new PostgresStore(pool, ownsPool, { ...options, schema });
  await store.start();
  return store;
}
