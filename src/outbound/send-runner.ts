/**
 * The outbox's send runner: what one outbound delivery does when the store's processor runs it. It waits for rate
 * budget at the gate, sends the stored event with the `intercom-client` SDK, tells the gate what Intercom's headers
 * said, and turns the classified answer into the job's outcome (done, retry with an attempt, later without one, or
 * dead). Pauses after 429 and 401/403 are written here for every instance. Imports no store implementation.
 */
import type { Clock } from "../core/clock.js";
import { IntercomApiError, RateLimitedError, UnrecoverableError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Job } from "../delivery/types.js";
import { classifySendResult } from "./classify.js";
import type { IntercomEventSender, SendResult } from "./intercom-api.js";
import { PAUSE_REASON_UNAUTHORIZED, type RateGate } from "./rate-limit.js";
import type { DataEvent } from "./validate-event.js";

/** What {@link createSendRunner} needs. */
export interface SendRunnerOptions {
  /** The rate gate every send passes. */
  gate: RateGate;
  /** The sender (built once, at tracker construction). */
  sender: () => IntercomEventSender;
  /** Time source. */
  clock: Clock;
  /** Where pauses and token problems are reported. */
  log: Logger;
  /** Pause after a 401/403 before the next event probes the token again, ms. */
  unauthorizedPauseMs: number;
  /** During a long pause, how often the queue re-checks whether it was lifted elsewhere, ms. */
  pauseRecheckMs: number;
}

/** The runner and the process-local sending state the tracker reports. */
export interface SendRunner {
  /** Runs one outbox job; resolves when Intercom accepted the event, throws to retry, wait or dead-letter it. */
  run(job: Job, signal: AbortSignal): Promise<void>;
  /** Requests in flight in this process. */
  readonly inFlight: number;
  /** Last 401/403 seen by this process, epoch ms, or null. */
  readonly lastUnauthorizedAt: number | null;
  /** Forgets that the token was refused (after `resume()`), so the next refusal is reported loudly again. */
  clearUnauthorized(): void;
}

/** Creates the {@link SendRunner} of one tracker. */
export function createSendRunner(options: SendRunnerOptions): SendRunner {
  const { gate, clock, log, unauthorizedPauseMs, pauseRecheckMs } = options;
  let inFlight = 0;
  let lastUnauthorizedAt: number | null = null;
  let isUnauthorized = false;
  let rateLimitLoggedUntil = 0;

  const run = async (job: Job, signal: AbortSignal): Promise<void> => {
    const event = JSON.parse(job.record.body) as DataEvent;
    await gate.acquire(signal);
    inFlight++;
    const sentAt = clock.now();
    let result: SendResult | undefined;
    try {
      result = await options.sender().send(event, signal);
    } finally {
      inFlight--;
      // Every granted unit is reported back, headers or not: the gate's first burst waits for it.
      if (result === undefined) await gate.observe(null, inFlight);
    }
    if (result.status !== null) gate.recordLatency(clock.now() - sentAt);
    await gate.observe(result.rateLimit, inFlight);
    const now = clock.now();
    const outcome = classifySendResult(result, now);
    switch (outcome.kind) {
      case "sent":
        if (isUnauthorized) {
          isUnauthorized = false;
          log.info({ jobId: job.id }, "Intercom accepted the access token again; outbound events resumed");
        }
        return;
      case "rate-limited":
        await gate.pause(outcome.resumeAtMs, "rate-limited");
        if (outcome.resumeAtMs > rateLimitLoggedUntil) {
          rateLimitLoggedUntil = outcome.resumeAtMs;
          log.warn(
            { resumeAt: new Date(outcome.resumeAtMs).toISOString() },
            "Intercom answered 429; outbound events paused until the window resets",
          );
        }
        throw new RateLimitedError(
          outcome.resumeAtMs - now,
          `Intercom 429 rate_limit_exceeded; paused until ${new Date(outcome.resumeAtMs).toISOString()}`,
        );
      case "unauthorized": {
        lastUnauthorizedAt = now;
        const until = now + unauthorizedPauseMs;
        if (!isUnauthorized) {
          isUnauthorized = true;
          // Loud once per pause, not once per event; the token itself is never logged.
          log.error(
            { status: outcome.status, pausedUntil: new Date(until).toISOString() },
            `Intercom rejected the access token (${outcome.status}); ALL outbound events are paused. Fix INTERCOM_ACCESS_TOKEN (write permission), then run "intercom-bridge events resume" or wait for the automatic re-check.`,
          );
        }
        await gate.pause(until, PAUSE_REASON_UNAUTHORIZED);
        throw new RateLimitedError(
          Math.min(unauthorizedPauseMs, pauseRecheckMs),
          `${outcome.reason}; outbound events paused (unauthorized)`,
        );
      }
      case "retry":
        throw new IntercomApiError(outcome.status ?? 0, outcome.reason, withDetails(result));
      case "failed":
        // Keeps Intercom's status, code and message in the message; the store records it as the job's last error.
        throw new UnrecoverableError(outcome.reason, {
          cause: new IntercomApiError(outcome.status, outcome.reason, withDetails(result)),
        });
    }
  };

  return {
    run,
    get inFlight() {
      return inFlight;
    },
    get lastUnauthorizedAt() {
      return lastUnauthorizedAt;
    },
    clearUnauthorized() {
      isUnauthorized = false;
    },
  };
}

function withDetails(r: { errorCode?: string; requestId?: string }): { intercomCode?: string; requestId?: string } {
  const d: { intercomCode?: string; requestId?: string } = {};
  if (r.errorCode !== undefined) d.intercomCode = r.errorCode;
  if (r.requestId !== undefined) d.requestId = r.requestId;
  return d;
}
