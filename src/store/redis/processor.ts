/**
 * The Redis store's delivery engine adapter: one BullMQ `Worker` per `process()` call (BullMQ's worker, lock renewal
 * and stalled-job recovery stay the engine), and the processor function that wraps each run. It applies the ordering
 * gate, records the run's start and end, and maps the run's result to BullMQ through the shared outcome table
 * (`decideOutcome` in `src/delivery/outcome.ts`), so Redis retries, dead-letters and pauses exactly like the lease
 * loop. It must not hold outcome rules of its own, and must not import the reader or admin parts.
 */
import {
  DelayedError,
  UnrecoverableError as BullUnrecoverableError,
  WaitingError,
  Worker,
  type ConnectionOptions as BullConnectionOptions,
  type Queue,
} from "bullmq";
import type { RedisOptions } from "ioredis";
import { StoreError, describeError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { computeBackoff } from "../../delivery/backoff.js";
import { LEASE_EXPIRED_ERROR, decideOutcome, decideRelease, type RunResult } from "../../delivery/outcome.js";
import { checkProcessOptions } from "../../delivery/process-options.js";
import type {
  AttemptRecord,
  Job,
  JobError,
  JobRunner,
  ProcessOptions,
  Processor,
  ProcessorEvents,
  QueueName,
} from "../../delivery/types.js";
import { jobIdOf } from "../job-helpers.js";
import { settlesWithin, type RedisConnection } from "./connection.js";
import type { RedisKeys } from "./keys.js";
import { num, toRecord, type BJob, type RedisJobData } from "./model.js";
import type { ResolvedRedisStoreOptions } from "./options.js";

/** BullMQ ignores a manual `rateLimit()` unless the worker has a limiter; this one never limits by itself. */
const NEVER_LIMITING = { max: 1_000_000_000, duration: 1_000 };
/**
 * How long `close` waits, after the grace period, for released runs to be given back to a reachable Redis before it
 * drops the worker's connections (BullMQ's connections queue commands while Redis is away, so its own close would
 * wait for Redis forever), and how long it waits for BullMQ after that.
 */
const FORCE_CLOSE_AFTER_MS = 2_000;
const AFTER_DISCONNECT_MS = 1_000;

interface RunningJob {
  controller: AbortController;
  release: () => void;
  released: boolean;
}

/** A BullMQ worker presented as a {@link Processor}. */
export class RedisProcessor implements Processor {
  readonly runningJobs = new Map<string, RunningJob>();
  private closePromise: Promise<void> | null = null;
  worker!: Worker<RedisJobData, unknown, string>;

  constructor(
    readonly queue: QueueName,
    readonly opts: ProcessOptions,
    readonly workerId: string,
    private readonly log: Logger,
    private readonly isRedisUsable: () => boolean,
    private readonly onClosed: (p: RedisProcessor) => void,
  ) {}

  get running(): number {
    return this.runningJobs.size;
  }

  /**
   * See {@link Processor.close}. Waits up to `timeoutMs` (default: `leaseMs`), then releases what still runs. Ends
   * within `timeoutMs` plus a few seconds whatever Redis' state: when Redis cannot be reached to give the released
   * runs back, their locks expire and BullMQ's stalled-job check makes them due again (not lost).
   */
  close(timeoutMs: number = this.opts.leaseMs): Promise<void> {
    this.closePromise ??= (async () => {
      const closing = this.worker.close();
      try {
        if (await settlesWithin(closing, timeoutMs)) return;
        const released = this.runningJobs.size;
        for (const r of this.runningJobs.values()) r.release();
        if (this.isRedisUsable() && (await settlesWithin(closing, FORCE_CLOSE_AFTER_MS))) return;
        this.log.warn(
          { queue: this.queue, released },
          "redis is not answering: closing the worker without it; unfinished runs become due again after their lease",
        );
        await settlesWithin(Promise.all([this.worker.disconnect(), closing]), AFTER_DISCONNECT_MS);
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

/** Starts BullMQ workers and runs deliveries for one store. */
export class RedisRunner {
  private readonly plannedDelays = new Map<string, number>();
  private workerCount = 0;

  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly queues: Record<QueueName, Queue<RedisJobData>>,
    private readonly opts: ResolvedRedisStoreOptions,
    private readonly connectionOptions: RedisOptions,
    private readonly workerPrefix: string,
    private readonly log: Logger,
  ) {}

  /** See {@link Store.process}. One BullMQ worker; `leaseMs` is its `lockDuration`. `pollMs` is not used (push). */
  process(
    queue: QueueName,
    run: JobRunner,
    opts: ProcessOptions,
    onClosed: (p: RedisProcessor) => void,
  ): RedisProcessor {
    checkProcessOptions(opts);
    const workerId = `${this.workerPrefix}.${++this.workerCount}`;
    const processor = new RedisProcessor(queue, opts, workerId, this.log, () => this.conn.isUsable(), onClosed);
    const leaseMs = Math.floor(opts.leaseMs);
    const worker = new Worker<RedisJobData, unknown, string>(
      queue,
      (job, token) => this.runJob(processor, run, job, token),
      {
        connection: { ...this.connectionOptions } as BullConnectionOptions,
        prefix: this.opts.prefix,
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
            // The delay the outcome table chose for this failure; BullMQ asks for it right after the run threw.
            const planned = job?.id !== undefined ? this.plannedDelays.get(job.id) : undefined;
            if (job?.id !== undefined) this.plannedDelays.delete(job.id);
            if (planned !== undefined) return planned;
            const data = job?.data as RedisJobData | undefined;
            return data ? computeBackoff(data.retry.backoff, attemptsMade) : 1_000;
          },
        },
      },
    );
    // During an outage every reconnect attempt fails: the connection logs the outage once, these only at debug.
    worker.on("error", (err: Error) => {
      if (this.conn.isUsable()) this.log.warn({ err: describeError(err), queue }, "bullmq worker error");
      else this.log.debug({ err: describeError(err), queue }, "bullmq worker error");
    });
    worker.on("stalled", (jobId: string) =>
      this.log.warn({ jobId, queue }, "delivery lease expired (worker died or stalled); requeued"),
    );
    processor.worker = worker;
    return processor;
  }

  /** Waits for this delivery's turn in its ordering line; false when it was parked (the caller throws DelayedError). */
  private async takeTurn(bjob: BJob, id: string, token: string, leaseMs: number): Promise<boolean> {
    const { cmd } = this.conn;
    const k = this.keys;
    const data = bjob.data;
    const line = k.orderLine(data.queue, data.orderingKey ?? "");
    const lock = k.orderLock(data.queue, data.orderingKey ?? "");
    const got = await cmd.ibOrderAcquire(line, lock, id, leaseMs, data.orderScore);
    if (got === 1) return true;
    // Not this delivery's turn: wait without using an attempt. The delivery that leaves the line promotes the new
    // head, so one behind others parks for the longest delay (a fallback if a wake-up is missed); the head that
    // only waits for the lock retries soon, doubling.
    const waits = await cmd.hincrby(k.meta(id), "waits", 1);
    const delay =
      got === 0
        ? this.opts.orderingMaxRetryMs
        : Math.min(this.opts.orderingMaxRetryMs, this.opts.orderingRetryMs * 2 ** Math.min(waits - 1, 16));
    const dueAt = Date.now() + delay;
    await cmd.hset(k.meta(id), { blocked: 1, dueAt });
    await bjob.moveToDelayed(dueAt, token);
    return false;
  }

  /** The BullMQ processor function: ordering gate, run, then the shared outcome table. */
  private async runJob(p: RedisProcessor, run: JobRunner, bjob: BJob, token: string | undefined): Promise<void> {
    const { cmd } = this.conn;
    const data = bjob.data;
    const id = bjob.id ?? jobIdOf(data.recordId, data.index);
    const tk = token ?? "";
    const k = this.keys;
    const ordered = p.opts.ordered !== false && data.orderingKey !== null;
    const leaseMs = Math.floor(p.opts.leaseMs);
    if (ordered && !(await this.takeTurn(bjob, id, tk, leaseMs))) throw new DelayedError();
    const line = data.orderingKey !== null ? k.orderLine(data.queue, data.orderingKey) : "";
    const lock = data.orderingKey !== null ? k.orderLock(data.queue, data.orderingKey) : "";
    const attempt = bjob.attemptsMade + 1;
    const startedAt = Date.now();
    const [flat, prevStartedAt, prevWorker, prevAttempt] = await cmd.ibRunStart(
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
      await cmd.rpush(k.history(id), JSON.stringify(expired));
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
      cmd.ibRunSettle(
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
      const head = await cmd.ibOrderRelease(line, lock, id, leave ? "1" : "0");
      if (leave && head) await this.wakeIfBlocked(data.queue, head);
    };
    if (!record) {
      const error: JobError = {
        name: "StoreError",
        code: "IB_ERR_STORE_UNAVAILABLE",
        message: `Record ${data.recordId} is missing`,
      };
      await cmd
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
          () => void cmd.ibOrderExtend(lock, id, leaseMs).catch(() => 0),
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
    let result: RunResult | "released";
    try {
      result = await Promise.race([run(job, controller.signal).then((): RunResult => ({ ok: true })), releasedPromise]);
    } catch (error) {
      result = running.released ? "released" : { ok: false, error };
    } finally {
      if (extend) clearInterval(extend);
      p.runningJobs.delete(id);
    }
    if (running.released) result = "released";
    const now = Date.now();
    if (result === "released") {
      const given = decideRelease({ attempt, now });
      await settle("released", { dueAt: given.runAt, retrying: given.state === "failed" ? "add" : "" });
      await release(false);
      await bjob.moveToWait(tk).catch(() => 0);
      throw new WaitingError();
    }
    const decision = decideOutcome({ attempt, maxAttempts: data.retry.maxAttempts, retry: data.retry, result, now });
    const error = result.ok ? undefined : result.error;
    // `retrying` marks a waiting delivery that has used attempts (state `failed`, not `pending`).
    const waitingMark = bjob.attemptsMade > 0 ? "add" : "";
    switch (decision.kind) {
      case "done":
        await settle("completed", { dueAt: "", retrying: "" });
        await release(true);
        emitFinished("completed");
        return;
      case "later":
        await settle("retry-later", { error: decision.error, dueAt: decision.runAt, retrying: waitingMark });
        await release(false);
        await bjob.moveToDelayed(decision.runAt, tk);
        emitFinished("retry-later", error, decision.runAt);
        throw new DelayedError();
      case "pause": {
        const ms = Math.max(1, decision.delayMs);
        await settle("rate-limited", { error: decision.error, dueAt: now + ms, retrying: waitingMark });
        await release(false);
        await p.worker.rateLimit(ms);
        emitFinished("rate-limited", error, now + ms);
        throw Worker.RateLimitError();
      }
      case "dead":
        await settle("dead", { error: decision.error, dueAt: "", retrying: "rem" });
        await release(true);
        emitFinished("dead", error);
        throw new BullUnrecoverableError(decision.error.message);
      case "retry":
        // BullMQ spends the attempt and asks `backoffStrategy` for the delay: hand it the one decided here.
        this.plannedDelays.set(id, decision.delayMs);
        await settle("failed", { error: decision.error, dueAt: decision.runAt, retrying: "add" });
        await release(false);
        emitFinished("failed", error, decision.runAt);
        throw error instanceof Error ? error : new Error(decision.error.message);
    }
  }

  /** Promotes the new head of an ordering line if it is only waiting for its turn (not for its own backoff). */
  private async wakeIfBlocked(queue: QueueName, jobId: string): Promise<void> {
    const blocked = await this.conn.cmd.hget(this.keys.meta(jobId), "blocked");
    if (blocked !== "1") return;
    const job = await this.queues[queue].getJob(jobId);
    if (!job) return;
    await job.promote().catch(() => undefined);
    // Promotion appends to the far end of the wait list; move the head to the near end so it runs next instead of
    // after every waiting delivery (BullMQ `changePriority({ lifo: true })`).
    await job.changePriority({ lifo: true }).catch(() => undefined);
  }
}
