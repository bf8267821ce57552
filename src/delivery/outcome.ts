/**
 * The delivery outcome rules, written once: what one finished run of a delivery means for that delivery (done, dead,
 * retry after a backoff, try again later without using an attempt, or pause the whole queue). A pure function of
 * plain data, so the lease loop (memory, SQLite, PostgreSQL) and the BullMQ worker (Redis) both call it and every
 * backend applies the same table. It also holds the rules for a run whose lease expired and for a run given back at
 * shutdown. Must not import a store, a driver, `node:*` I/O or anything with side effects: only the error classes
 * and the backoff formula.
 */
import { describeError, RateLimitedError, RetryLaterError, UnrecoverableError } from "../core/errors.js";
import { computeBackoff } from "./backoff.js";
import type { JobError, RetryPolicy } from "./types.js";

/** How a run ended: resolved, or threw `error`. */
export type RunResult = { ok: true } | { ok: false; error: unknown };

/** The outcome names a run is reported (and recorded in history) under. */
export type RunOutcome = "completed" | "failed" | "dead" | "retry-later" | "rate-limited";

/** Everything {@link decideOutcome} needs: facts every engine has when a run ends. */
export interface OutcomeInput {
  /** 1-based number of the attempt this run used. */
  attempt: number;
  /** Total attempts allowed, including the first. */
  maxAttempts: number;
  /** The delivery's stored retry policy (its backoff is used; `maxAttempts` above wins when they differ). */
  retry: RetryPolicy;
  result: RunResult;
  /** Epoch ms when the run ended. */
  now: number;
  /** Random source in [0, 1) for backoff jitter. @defaultValue Math.random */
  random?: () => number;
}

/**
 * What to do with the delivery, store-neutral. `attempts` is how many attempts are used after this run (the run's
 * own attempt, or one less when it did not count).
 * - `done`: delivered.
 * - `dead`: give up now (unrecoverable error, or the last attempt failed).
 * - `retry`: a failed attempt; run again at `runAt` (after `delayMs` of backoff). The attempt is spent.
 * - `later`: the handler asked to be retried at `runAt`; the attempt is not spent.
 * - `pause`: the target is rate limited; the whole queue pauses until `runAt`; the attempt is not spent.
 */
export type Decision =
  | { kind: "done"; outcome: "completed"; attempts: number }
  | { kind: "dead"; outcome: "dead"; attempts: number; error: JobError; reason: "unrecoverable" | "exhausted" }
  | { kind: "retry"; outcome: "failed"; attempts: number; runAt: number; delayMs: number; error: JobError }
  | { kind: "later"; outcome: "retry-later"; attempts: number; runAt: number; delayMs: number; error: JobError }
  | { kind: "pause"; outcome: "rate-limited"; attempts: number; runAt: number; delayMs: number; error: JobError };

/** True when `error` carries the stable error `code` (also for errors from another copy of this package). */
export function hasCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

/**
 * The delay a control-flow error asks for: `field` of an instance of `type`, or of a look-alike carrying the same
 * `code` (an error from another copy of this package); undefined for any other error.
 */
function requestedDelay(
  error: unknown,
  type: typeof RetryLaterError | typeof RateLimitedError,
  code: string,
  field: "delayMs" | "retryAfterMs",
): number | undefined {
  if (!(error instanceof type) && !hasCode(error, code)) return undefined;
  const ms = (error as Record<string, unknown>)[field];
  return typeof ms === "number" ? ms : undefined;
}

/** A non-negative whole number of ms (NaN counts as 0). */
function wholeMs(ms: number): number {
  return Number.isNaN(ms) ? 0 : Math.max(0, Math.ceil(ms));
}

/**
 * The outcome table: maps one finished run to a {@link Decision}.
 *
 * | run | decision |
 * |---|---|
 * | resolves | `done` |
 * | throws `UnrecoverableError` (any code, e.g. `IB_ERR_HANDLER_MISSING`) | `dead` now |
 * | throws `RetryLaterError(delayMs)` | `later` at now + delayMs, attempt not spent |
 * | throws `RateLimitedError(retryAfterMs)` | `pause` the queue until now + retryAfterMs, attempt not spent |
 * | throws anything else, attempts left | `retry` after `computeBackoff` (jitter, cap), attempt spent |
 * | throws anything else, last attempt | `dead` |
 */
export function decideOutcome(input: OutcomeInput): Decision {
  const { attempt, maxAttempts, result, now } = input;
  if (result.ok) return { kind: "done", outcome: "completed", attempts: attempt };
  const { error } = result;
  const described = describeError(error);
  const unspent = Math.max(0, attempt - 1);
  if (error instanceof UnrecoverableError || hasCode(error, "IB_ERR_UNRECOVERABLE")) {
    return { kind: "dead", outcome: "dead", attempts: attempt, error: described, reason: "unrecoverable" };
  }
  const laterMs = requestedDelay(error, RetryLaterError, "IB_ERR_RETRY_LATER", "delayMs");
  if (laterMs !== undefined) {
    const delayMs = wholeMs(laterMs);
    return {
      kind: "later",
      outcome: "retry-later",
      attempts: unspent,
      runAt: now + delayMs,
      delayMs,
      error: described,
    };
  }
  const pauseMs = requestedDelay(error, RateLimitedError, "IB_ERR_RATE_LIMITED", "retryAfterMs");
  if (pauseMs !== undefined) {
    const delayMs = wholeMs(pauseMs);
    return {
      kind: "pause",
      outcome: "rate-limited",
      attempts: unspent,
      runAt: now + delayMs,
      delayMs,
      error: described,
    };
  }
  if (attempt >= maxAttempts) {
    return { kind: "dead", outcome: "dead", attempts: attempt, error: described, reason: "exhausted" };
  }
  const delayMs = computeBackoff(input.retry.backoff, attempt, input.random ?? Math.random);
  return { kind: "retry", outcome: "failed", attempts: attempt, runAt: now + delayMs, delayMs, error: described };
}

/** The error recorded for a run whose lease expired (its worker died or stalled). */
export const LEASE_EXPIRED_ERROR: JobError = {
  name: "LeaseExpiredError",
  message: "The worker running this delivery stopped renewing its lease (crashed or stalled)",
};

/**
 * A run whose lease expired (the worker died mid-run): the attempt it used stays used; the delivery is due again now,
 * or dead when that was its last attempt.
 */
export function decideLeaseExpired(input: { attempts: number; maxAttempts: number; now: number }): {
  state: "failed" | "dead";
  runAt: number | null;
  error: JobError;
} {
  const isLast = input.attempts >= input.maxAttempts;
  return { state: isLast ? "dead" : "failed", runAt: isLast ? null : input.now, error: { ...LEASE_EXPIRED_ERROR } };
}

/**
 * A run given back at shutdown (its processor closed before it finished): due again now, the attempt not spent.
 * The waiting state is `failed` when earlier attempts failed, else `pending`.
 */
export function decideRelease(input: { attempt: number; now: number }): {
  state: "pending" | "failed";
  attempts: number;
  runAt: number;
} {
  const attempts = Math.max(0, input.attempt - 1);
  return { state: waitingState(attempts), attempts, runAt: input.now };
}

/** The waiting state of a delivery that has used `attempts` attempts and will run again. */
export function waitingState(attempts: number): "pending" | "failed" {
  return attempts > 0 ? "failed" : "pending";
}
