/**
 * The Redis store's write path: one notification or event in, deduplicated, stored with its deliveries as BullMQ
 * jobs, durable when the promise resolves (BullMQ's `queue.ts` counterpart). Dedupe is one claim key per notification
 * (`SET NX` with a per-attempt token), written with the record and its indices in one script, then `addBulk` with
 * deterministic job ids, then the done-mark. Enqueues of one event-loop turn share their round trips (group commit).
 * While Redis is unreachable, enqueues go to the local spool, which a drain moves into Redis in receive order. Must
 * not import the processor, reader or admin parts.
 */
import { randomUUID } from "node:crypto";
import type { Queue } from "bullmq";
import { StoreError, describeError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { QueueName } from "../../delivery/types.js";
import { createRecordIdGenerator, jobIdOf, validateEnqueueInput } from "../job-helpers.js";
import type { EnqueueInput, EnqueueResult } from "../store.js";
import { withTimeout, type RedisConnection } from "./connection.js";
import type { RedisKeys } from "./keys.js";
import { bullJob, recordIndices, sleep, toStoreError, type BullJobSpec, type RedisJobData } from "./model.js";
import type { ResolvedRedisStoreOptions } from "./options.js";
import type { StoreScripts } from "./scripts.js";
import { openSpool, type Spool, type SpoolEntry } from "./spool.js";

/** Thrown inside enqueue when another writer holds the dedupe claim for too long. */
class ClaimBusyError extends StoreError {}

const PENDING_TTL_MS = 60_000;

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

/** The write path of one store: group-committed enqueues into Redis, and the spool while Redis is away. */
export class RedisEnqueuer {
  private readonly nextRecordId = createRecordIdGenerator();
  private readonly batch: Array<{
    w: PreparedWrite;
    resolve: (r: EnqueueResult) => void;
    reject: (e: unknown) => void;
  }> = [];
  readonly spool: Spool | null;
  /** True while this process knows of spooled rows: new enqueues then go to the spool too, to keep receive order. */
  private spooling = false;
  /** True while writes fail (nothing could take them): one error line per episode, one info line when it ends. */
  private isFailing = false;
  private drainTimer: NodeJS.Timeout | null = null;
  private drainPromise: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly queues: Record<QueueName, Queue<RedisJobData>>,
    private readonly opts: ResolvedRedisStoreOptions,
    private readonly log: Logger,
  ) {
    this.spool = opts.spoolPath ? openSpool(opts.spoolPath) : null;
    if (this.spool) {
      this.spooling = this.spool.count() > 0;
      this.scheduleDrain(0);
    }
  }

  /** Rows waiting in the local spool (0 without a spool). */
  spooled(): number {
    return this.spool?.count() ?? 0;
  }

  /** Whether the last write that needed the spool failed (so the instance cannot accept durably now). */
  get isSpoolFailing(): boolean {
    return this.isFailing;
  }

  /** See {@link Store.enqueue}. Spools locally while Redis is unreachable when a `spoolPath` is configured. */
  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    this.conn.assertOpen();
    validateEnqueueInput(input);
    const receivedAt = Date.now();
    const recordId = this.nextRecordId(receivedAt);
    const token = randomUUID();
    try {
      let result: EnqueueResult;
      if (this.spool && this.spooling) result = this.toSpool(input, recordId, token, receivedAt);
      else result = await this.toRedisOrSpool(input, recordId, token, receivedAt);
      this.writeSucceeded();
      return result;
    } catch (error) {
      this.writeFailed(error);
      throw error;
    }
  }

  private async toRedisOrSpool(
    input: EnqueueInput,
    recordId: string,
    token: string,
    receivedAt: number,
  ): Promise<EnqueueResult> {
    try {
      await this.conn.ready();
      return await withTimeout(
        this.enqueueInRedis(input, recordId, token, receivedAt),
        this.opts.commandTimeoutMs,
        "enqueue",
      );
    } catch (error) {
      if (error instanceof ClaimBusyError) throw error;
      if (!this.spool) throw error instanceof StoreError ? error : toStoreError(error, "enqueue");
      this.log.debug({ err: describeError(error), recordId }, "redis not usable: spooling the enqueue locally");
      return this.toSpool(input, recordId, token, receivedAt);
    }
  }

  private writeFailed(error: unknown): void {
    if (error instanceof ClaimBusyError || this.isFailing) return;
    this.isFailing = true;
    this.log.error(
      { err: describeError(error) },
      "notifications cannot be stored: answering 503 until Redis or the spool accepts writes again",
    );
  }

  private writeSucceeded(): void {
    if (!this.isFailing) return;
    this.isFailing = false;
    this.log.info({}, "notifications are being stored again");
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
   * Claim `SET NX PX 60s` with a per-attempt token, write the record and indices (one script), add the jobs (BullMQ
   * `addBulk`, deterministic ids so a repeat is a no-op), then mark the key done for `dedupeTtlMs`. A claim holding
   * our own token (a spooled retry of an attempt that failed half-way) is taken over.
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

  private async flushBatch(): Promise<void> {
    const batch = this.batch.splice(0);
    let claims: Array<[Error | null, unknown]>;
    try {
      const pipe = this.conn.cmd.pipeline() as unknown as StoreScripts & {
        exec(): Promise<Array<[Error | null, unknown]>>;
      };
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
      const result = await this.conn.cmd.ibClaimAndWrite(w.keys.length, ...w.keys, ...w.args);
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
    const cmd = this.conn.cmd;
    try {
      const jobs = ws.flatMap((w) => w.jobs);
      for (const q of ["inbound", "outbox"] as const) {
        const ofQueue = jobs.filter((j) => j.data.queue === q);
        if (ofQueue.length > 0) await this.queues[q].addBulk(ofQueue);
      }
      const marks = cmd.pipeline();
      for (const w of ws) marks.set(w.dk, `d:${w.recordId}`, "PX", Math.max(1, Math.floor(w.dedupeTtlMs)));
      const replies = await marks.exec();
      const failed = replies?.find(([e]) => e !== null);
      if (failed?.[0]) throw failed[0];
    } catch (error) {
      // Leave our claims when a spool will retry with the same token; otherwise free the keys for Intercom's retry.
      if (!this.spool) await Promise.all(ws.map((w) => cmd.ibDedupeAbort(w.dk, w.claim).catch(() => 0)));
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
    // The exact bytes of a body that is not valid UTF-8 (the hash is read back as UTF-8 text).
    if (record.bodyBase64 !== undefined) fields.push("b64", record.bodyBase64);
    const indices = recordIndices(k, queue, record.topic, record.appId, record.itemId, record.notificationId);
    const minute = Math.floor(receivedAt / 60_000) * 60_000;
    const keys = [dk, k.record(recordId), ...indices, k.topics(queue), k.minute(queue, minute)];
    const args: (string | number)[] = [claim, PENDING_TTL_MS, recordId, fields.length / 2, ...fields];
    args.push(indices.length, record.topic, Math.max(input.dedupeTtlMs, 86_400_000), input.deliveries.length);
    const jobs = input.deliveries.map((d, index) => {
      const jobId = jobIdOf(recordId, index);
      const meta = k.meta(jobId);
      keys.push(k.targetIndex(d.target), meta, d.orderingKey !== null ? k.orderLine(queue, d.orderingKey) : meta);
      args.push(jobId, receivedAt, d.orderingKey !== null ? record.createdAt : "");
      return bullJob(recordId, index, queue, record.createdAt, d);
    });
    return { recordId, dk, claim, keys, args, jobs, dedupeTtlMs: input.dedupeTtlMs };
  }

  // ---------------------------------------------------------------- spool drain

  private scheduleDrain(delayMs: number): void {
    if (!this.spool || this.stopped || this.drainTimer || this.drainPromise) return;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = null;
      this.drainPromise = this.drainSpool()
        .catch((error: unknown) => this.log.debug({ err: describeError(error) }, "spool drain failed; will retry"))
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
    if (!spool || this.stopped) return;
    await this.conn.ready();
    let moved = 0;
    for (;;) {
      const rows: SpoolEntry[] = spool.take(100);
      if (rows.length === 0) {
        this.spooling = false;
        if (moved > 0) this.log.info({ drained: moved }, "moved every spooled enqueue into redis; the spool is empty");
        return;
      }
      for (const row of rows) {
        if (this.stopped) return;
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
        moved++;
      }
    }
  }

  /** Stops the drain (waiting at most `waitMs` for a round in progress) and closes the spool. */
  async stop(waitMs: number): Promise<void> {
    this.stopped = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    const drain = this.drainPromise?.catch(() => undefined);
    if (drain) await withTimeout(drain, waitMs, "the spool drain").catch(() => undefined);
    this.spool?.close();
  }
}
