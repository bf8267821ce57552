/**
 * The poll / claim / lease / heartbeat loop of the stores that keep their own queue (memory, SQLite, PostgreSQL). A
 * backend only stores state through {@link LeaseBackend}; what each run outcome means comes from `outcome.ts`, the
 * rules the BullMQ worker applies too. Must not import a store implementation or a driver.
 *
 * Internal: stores use it; it is not exported from the package root.
 */
import { systemClock, type Clock } from "../core/clock.js";
import { StoreError } from "../core/errors.js";
import { decideOutcome, decideRelease, waitingState, type RunOutcome, type RunResult } from "./outcome.js";
import { checkProcessOptions } from "./process-options.js";
import type {
  AttemptRecord,
  Job,
  JobError,
  JobRunner,
  ProcessOptions,
  Processor,
  ProcessorEvents,
  QueueName,
  RetryPolicy,
} from "./types.js";

export { LEASE_EXPIRED_ERROR } from "./outcome.js";
export type { RunOutcome } from "./outcome.js";

/** A job a backend claimed for this processor under a lease. */
export interface ClaimedJob {
  /** The job as the runner sees it; `attempt` is the attempt this run uses. */
  job: Job;
  /** Lease token the backend stored; renewals and settlements must present it. */
  token: string;
  retry: RetryPolicy;
}

/** The state a finished (or released) run leaves a job in. */
export interface Settlement {
  jobId: string;
  token: string;
  state: "pending" | "failed" | "done" | "dead";
  /** Attempts used after this run. */
  attempts: number;
  /** When due next (pending/failed), epoch ms. */
  runAt: number | null;
  /** New last error; absent keeps the previous one. */
  lastError?: JobError;
  /** The history entry to append. */
  run: AttemptRecord;
}

/** One round trip to the backend: apply settlements, then claim. One transaction where the backend has them. */
export interface ExchangeRequest {
  queue: QueueName;
  settlements: readonly Settlement[];
  /** How many due jobs to claim (0: settle only). */
  claim: number;
  /** Worker id written into leases and history. */
  owner: string;
  leaseMs: number;
  now: number;
  /** Honour ordering keys. */
  ordered: boolean;
}

/** What {@link LeaseBackend.exchange} returns. */
export interface ExchangeResult {
  claimed: ClaimedJob[];
  /** Earliest `runAt` among waiting jobs of the queue (may be in the past when they are blocked), or null. */
  nextRunAt: number | null;
}

/**
 * What a store provides to the loop. Claims must also reclaim jobs whose lease expired, appending a `lease-expired`
 * run to their history (the attempt the dead run used stays used; dead when it was the last one).
 */
export interface LeaseBackend {
  exchange(req: ExchangeRequest): Promise<ExchangeResult>;
  /** Extends the leases still held; returns the job ids whose lease was lost. */
  renew(queue: QueueName, leases: readonly { jobId: string; token: string }[], leaseUntil: number): Promise<string[]>;
  /** Calls `listener` when this process makes jobs of `queue` due (enqueue, requeue); returns an unsubscribe. */
  onWake(queue: QueueName, listener: () => void): () => void;
}

/** Per-process pause of whole queues after a {@link RateLimitedError}: queue → epoch ms. */
export type QueuePauses = Map<QueueName, number>;

/** Environment of a loop, supplied by its store. */
export interface LeaseLoopEnv {
  backend: LeaseBackend;
  pauses: QueuePauses;
  workerId: string;
  clock?: Clock;
  /** Called once when the processor has fully stopped. */
  onStopped?: (p: LeaseProcessor) => void;
  /** Random source for backoff jitter. */
  random?: () => number;
}

const DEFAULT_POLL_MS = 200;

/**
 * The settlement of one finished run under the outcome rules ({@link decideOutcome}), the event outcome, and the queue
 * pause to apply (for a rate-limited run).
 */
export function settleRun(
  claimed: ClaimedJob,
  result: RunResult,
  times: { startedAt: number; now: number; worker: string },
  random: () => number = Math.random,
): { settlement: Settlement; outcome: RunOutcome; pauseUntil?: number } {
  const { job } = claimed;
  const decision = decideOutcome({
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    retry: claimed.retry,
    result,
    now: times.now,
    random,
  });
  const run: AttemptRecord = {
    attempt: job.attempt,
    startedAt: times.startedAt,
    finishedAt: times.now,
    outcome: decision.outcome,
    worker: times.worker,
  };
  const settlement: Settlement = {
    jobId: job.id,
    token: claimed.token,
    state: "done",
    attempts: decision.attempts,
    runAt: null,
    run,
  };
  if (decision.kind === "done") return { settlement, outcome: decision.outcome };
  run.error = decision.error;
  settlement.lastError = decision.error;
  if (decision.kind === "dead") return { settlement: { ...settlement, state: "dead" }, outcome: decision.outcome };
  settlement.runAt = decision.runAt;
  if (decision.kind === "retry") return { settlement: { ...settlement, state: "failed" }, outcome: decision.outcome };
  settlement.state = waitingState(decision.attempts);
  if (decision.kind === "pause") return { settlement, outcome: decision.outcome, pauseUntil: decision.runAt };
  return { settlement, outcome: decision.outcome };
}

/** The settlement of a run given back at shutdown: due now, attempt not used, history `released`. */
export function releaseRun(claimed: ClaimedJob, times: { startedAt: number; now: number; worker: string }): Settlement {
  const release = decideRelease({ attempt: claimed.job.attempt, now: times.now });
  return {
    jobId: claimed.job.id,
    token: claimed.token,
    ...release,
    run: {
      attempt: claimed.job.attempt,
      startedAt: times.startedAt,
      finishedAt: times.now,
      outcome: "released",
      worker: times.worker,
    },
  };
}

interface RunState {
  claimed: ClaimedJob;
  controller: AbortController;
  startedAt: number;
  /** Set when the outcome must be ignored (released, lease lost, killed). */
  detached: boolean;
}

/**
 * A running processor over a {@link LeaseBackend}. Claims up to `concurrency` due jobs, renews their leases every
 * `leaseMs / 3`, settles outcomes in batches (one backend round trip per event-loop turn), and wakes at once when
 * this process enqueues work, otherwise every `pollMs` or at the next due time, whichever is sooner.
 */
export class LeaseProcessor implements Processor {
  private readonly active = new Map<string, RunState>();
  private settlements: Settlement[] = [];
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly pollMs: number;
  private readonly ordered: boolean;
  private readonly events: Partial<ProcessorEvents>;
  private pumpPromise: Promise<void> | null = null;
  private pumpAgain = false;
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private closing = false;
  private stopped = false;
  private closePromise: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  private readonly unsubscribe: () => void;

  constructor(
    private readonly queue: QueueName,
    private readonly runner: JobRunner,
    private readonly opts: ProcessOptions,
    private readonly env: LeaseLoopEnv,
  ) {
    checkProcessOptions(opts);
    this.clock = env.clock ?? systemClock;
    this.random = env.random ?? Math.random;
    this.pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
    this.ordered = opts.ordered !== false;
    this.events = opts.on ?? {};
    this.unsubscribe = env.backend.onWake(queue, () => this.schedule());
    this.schedule();
  }

  /** Jobs running in this processor now. */
  get running(): number {
    return this.active.size;
  }

  /**
   * Stops claiming, waits up to `timeoutMs` (default: `leaseMs`) for running jobs, then aborts the rest and releases
   * them (due now, attempt not used, history `released`). Idempotent.
   */
  close(timeoutMs: number = this.opts.leaseMs): Promise<void> {
    this.closePromise ??= this.doClose(timeoutMs);
    return this.closePromise;
  }

  /**
   * Simulates this worker dying: stops claiming, renewing and settling at once, without aborting or releasing its
   * running jobs. Their leases then expire and another processor reclaims them. For tests and chaos drills.
   */
  kill(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.closing = true;
    for (const state of this.active.values()) state.detached = true;
    this.active.clear();
    this.settlements = [];
    this.stop();
    this.resolveIdle();
    this.closePromise ??= Promise.resolve();
    return Promise.resolve();
  }

  private async doClose(timeoutMs: number): Promise<void> {
    this.closing = true;
    this.clearTimer();
    if (this.active.size > 0) await this.waitIdle(timeoutMs);
    if (this.stopped) return;
    const now = this.clock.now();
    for (const state of this.active.values()) {
      state.detached = true;
      state.controller.abort(new StoreError("Processor closed: delivery released"));
      this.settlements.push(releaseRun(state.claimed, { startedAt: state.startedAt, now, worker: this.env.workerId }));
    }
    this.active.clear();
    // Flush what is left; give up after a few failed rounds (the leases then expire on their own).
    for (let round = 0; round < 3 && (this.settlements.length > 0 || this.pumpPromise); round++) {
      if (this.pumpPromise) await this.pumpPromise;
      else await this.pump();
    }
    this.stop();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimer();
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.unsubscribe();
    this.env.onStopped?.(this);
  }

  private waitIdle(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? setTimeout(resolve, Math.max(0, timeoutMs)) : null;
      this.idleWaiters.push(() => {
        if (timer) clearTimeout(timer);
        resolve();
      });
    });
  }

  private resolveIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    this.clearTimer();
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.schedule();
      },
      Math.max(1, Math.ceil(delayMs)),
    );
  }

  /** Runs a pump soon (next event-loop turn), coalescing wake-ups. */
  private schedule(): void {
    if (this.stopped) return;
    if (this.pumpPromise) {
      this.pumpAgain = true;
      return;
    }
    this.immediate ??= setImmediate(() => {
      this.immediate = null;
      void this.pump();
    });
  }

  private pump(): Promise<void> {
    if (this.pumpPromise) {
      this.pumpAgain = true;
      return this.pumpPromise;
    }
    this.pumpPromise = this.pumpLoop().finally(() => {
      this.pumpPromise = null;
    });
    return this.pumpPromise;
  }

  private async pumpLoop(): Promise<void> {
    do {
      this.pumpAgain = false;
      if (this.stopped) return;
      const now = this.clock.now();
      const pausedUntil = this.env.pauses.get(this.queue) ?? 0;
      const isPaused = pausedUntil > now;
      const free = this.closing || isPaused ? 0 : this.opts.concurrency - this.active.size;
      if (this.settlements.length === 0 && free <= 0) {
        if (isPaused && !this.closing) this.arm(pausedUntil - now);
        return;
      }
      const settlements = this.settlements;
      this.settlements = [];
      let result: ExchangeResult;
      try {
        result = await this.env.backend.exchange({
          queue: this.queue,
          settlements,
          claim: Math.max(0, free),
          owner: this.env.workerId,
          leaseMs: this.opts.leaseMs,
          now,
          ordered: this.ordered,
        });
      } catch {
        // Store briefly unavailable (busy, closed): keep the outcomes and try again after a poll interval.
        this.settlements = settlements.concat(this.settlements);
        if (!this.closing) this.arm(this.pollMs);
        return;
      }
      if (this.stopped) return;
      for (const claimed of result.claimed) this.start(claimed);
      if (this.closing) continue;
      if (isPaused) this.arm(pausedUntil - now);
      else if (result.claimed.length < free) {
        const after = this.clock.now();
        const untilDue = result.nextRunAt !== null && result.nextRunAt > after ? result.nextRunAt - after : this.pollMs;
        this.arm(Math.min(this.pollMs, untilDue));
      } else if (free > 0) this.pumpAgain = true;
    } while (this.pumpAgain && !this.stopped);
  }

  private start(claimed: ClaimedJob): void {
    const state: RunState = {
      claimed,
      controller: new AbortController(),
      startedAt: this.clock.now(),
      detached: false,
    };
    this.active.set(claimed.job.id, state);
    const { job } = claimed;
    this.events.started?.({ jobId: job.id, target: job.target, attempt: job.attempt, queue: job.queue });
    this.ensureHeartbeat();
    const runner = this.runner;
    void (async (): Promise<RunResult> => {
      try {
        await runner(job, state.controller.signal);
        return { ok: true };
      } catch (error) {
        return { ok: false, error };
      }
    })().then((result) => this.finish(state, result));
  }

  private finish(state: RunState, result: RunResult): void {
    if (state.detached) return;
    this.active.delete(state.claimed.job.id);
    const now = this.clock.now();
    const { settlement, outcome, pauseUntil } = settleRun(
      state.claimed,
      result,
      { startedAt: state.startedAt, now, worker: this.env.workerId },
      this.random,
    );
    if (pauseUntil !== undefined && pauseUntil > (this.env.pauses.get(this.queue) ?? 0)) {
      this.env.pauses.set(this.queue, pauseUntil);
    }
    this.settlements.push(settlement);
    const { job } = state.claimed;
    const event: Parameters<ProcessorEvents["finished"]>[0] = {
      jobId: job.id,
      target: job.target,
      attempt: job.attempt,
      queue: job.queue,
      durationMs: now - state.startedAt,
      outcome,
      topic: job.record.topic,
      notificationId: job.record.notificationId,
    };
    if (!result.ok) {
      event.error = result.error;
      event.nextRunAt = settlement.state === "failed" || settlement.state === "pending" ? settlement.runAt : null;
    }
    try {
      this.events.finished?.(event);
    } catch {
      // a listener's bug must not lose the outcome
    }
    if (this.active.size === 0) {
      this.stopHeartbeat();
      this.resolveIdle();
    }
    this.schedule();
  }

  private ensureHeartbeat(): void {
    if (this.heartbeat || this.stopped) return;
    const every = Math.max(5, Math.floor(this.opts.leaseMs / 3));
    this.heartbeat = setInterval(() => void this.renew(), every);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private async renew(): Promise<void> {
    const leases = [...this.active.values()].map((s) => ({ jobId: s.claimed.job.id, token: s.claimed.token }));
    if (leases.length === 0) return;
    let lost: string[];
    try {
      lost = await this.env.backend.renew(this.queue, leases, this.clock.now() + this.opts.leaseMs);
    } catch {
      return; // try again at the next beat; the lease may still be valid
    }
    for (const id of lost) {
      const state = this.active.get(id);
      if (!state) continue;
      // Someone else owns it now (our lease expired): stop and forget this run.
      state.detached = true;
      state.controller.abort(new StoreError("Lease lost: another worker took this delivery"));
      this.active.delete(id);
    }
    if (this.active.size === 0) {
      this.stopHeartbeat();
      this.resolveIdle();
    }
    if (lost.length > 0) this.schedule();
  }
}
