import { describe, expect, it } from "vitest";
import {
  HandlerMissingError,
  HandlerTimeoutError,
  RateLimitedError,
  RetryLaterError,
  UnrecoverableError,
} from "../../../src/core/errors.js";
import {
  decideLeaseExpired,
  decideOutcome,
  decideRelease,
  LEASE_EXPIRED_ERROR,
  type Decision,
  type RunResult,
} from "../../../src/delivery/outcome.js";
import type { RetryPolicy } from "../../../src/delivery/types.js";

const NOW = 1_700_000_000_000;
const retry: RetryPolicy = { maxAttempts: 3, backoff: { type: "exponential", delayMs: 1000, jitter: 0.2 } };
const fail = (error: unknown): RunResult => ({ ok: false, error });
/** Jitter factor 1: the backoff is exactly delayMs * 2^(attempt-1). */
const mid = (): number => 0.5;

/** A look-alike of an error thrown by another copy of the package: same code, not the same class. */
const foreign = (code: string, extra: object = {}): Error => Object.assign(new Error("foreign"), { code, ...extra });

/** [what, attempt, run result, expected decision (the fields that matter)] */
const table: [string, number, RunResult, Partial<Decision>][] = [
  ["resolves → done, attempt spent", 1, { ok: true }, { kind: "done", outcome: "completed", attempts: 1 }],
  ["resolves on the last attempt → done", 3, { ok: true }, { kind: "done", attempts: 3 }],
  [
    "plain error with attempts left → retry after exponential backoff",
    1,
    fail(new Error("boom")),
    { kind: "retry", outcome: "failed", attempts: 1, runAt: NOW + 1000, delayMs: 1000 },
  ],
  ["second failure doubles the delay", 2, fail(new Error("boom")), { kind: "retry", attempts: 2, delayMs: 2000 }],
  [
    "handler timeout is an ordinary failure",
    1,
    fail(new HandlerTimeoutError("h", 5)),
    { kind: "retry", attempts: 1, delayMs: 1000 },
  ],
  [
    "failure on the last attempt → dead (exhausted)",
    3,
    fail(new Error("boom")),
    { kind: "dead", outcome: "dead", attempts: 3, reason: "exhausted" },
  ],
  [
    "UnrecoverableError on the first attempt → dead now",
    1,
    fail(new UnrecoverableError("no")),
    { kind: "dead", attempts: 1, reason: "unrecoverable" },
  ],
  [
    "HandlerMissingError (an UnrecoverableError) → dead now",
    1,
    fail(new HandlerMissingError("gone")),
    { kind: "dead", attempts: 1, reason: "unrecoverable" },
  ],
  [
    "IB_ERR_UNRECOVERABLE from another copy → dead now",
    1,
    fail(foreign("IB_ERR_UNRECOVERABLE")),
    { kind: "dead", reason: "unrecoverable" },
  ],
  [
    "RetryLaterError → later at now + delay, attempt not spent",
    2,
    fail(new RetryLaterError(5000)),
    { kind: "later", outcome: "retry-later", attempts: 1, runAt: NOW + 5000, delayMs: 5000 },
  ],
  [
    "RetryLaterError on the last attempt → still later, not dead",
    3,
    fail(new RetryLaterError(10)),
    { kind: "later", attempts: 2, runAt: NOW + 10 },
  ],
  [
    "IB_ERR_RETRY_LATER look-alike with delayMs → later",
    1,
    fail(foreign("IB_ERR_RETRY_LATER", { delayMs: 250 })),
    { kind: "later", attempts: 0, runAt: NOW + 250 },
  ],
  [
    "IB_ERR_RETRY_LATER without a delay is an ordinary failure",
    1,
    fail(foreign("IB_ERR_RETRY_LATER")),
    { kind: "retry", attempts: 1 },
  ],
  [
    "RateLimitedError → pause the queue until now + retryAfter, attempt not spent",
    1,
    fail(new RateLimitedError(30_000)),
    { kind: "pause", outcome: "rate-limited", attempts: 0, runAt: NOW + 30_000, delayMs: 30_000 },
  ],
  [
    "RateLimitedError on the last attempt → still a pause",
    3,
    fail(new RateLimitedError(1)),
    { kind: "pause", attempts: 2, runAt: NOW + 1 },
  ],
  [
    "IB_ERR_RATE_LIMITED look-alike with retryAfterMs → pause",
    1,
    fail(foreign("IB_ERR_RATE_LIMITED", { retryAfterMs: 99.2 })),
    { kind: "pause", runAt: NOW + 100, delayMs: 100 },
  ],
  [
    "a negative retry-later delay counts as now",
    1,
    fail(foreign("IB_ERR_RETRY_LATER", { delayMs: -5 })),
    { kind: "later", runAt: NOW, delayMs: 0 },
  ],
  ["a thrown non-Error is an ordinary failure", 1, fail("text"), { kind: "retry", attempts: 1 }],
];

describe("decideOutcome (the outcome table)", () => {
  it.each(table)("%s", (_what, attempt, result, expected) => {
    const decision = decideOutcome({ attempt, maxAttempts: retry.maxAttempts, retry, result, now: NOW, random: mid });
    expect(decision).toMatchObject(expected);
  });

  it("records the error as name, code and message", () => {
    const d = decideOutcome({ attempt: 1, maxAttempts: 3, retry, result: fail(new RetryLaterError(5)), now: NOW });
    expect(d.kind !== "done" && d.error).toEqual({
      name: "RetryLaterError",
      code: "IB_ERR_RETRY_LATER",
      message: "Retry requested in 5 ms",
    });
  });

  it("applies jitter and the cap of the stored backoff", () => {
    const capped: RetryPolicy = { maxAttempts: 10, backoff: { type: "exponential", delayMs: 1000, maxDelayMs: 3000 } };
    const at = (attempt: number, random: () => number): Decision =>
      decideOutcome({ attempt, maxAttempts: 10, retry: capped, result: fail(new Error("x")), now: NOW, random });
    expect(at(1, () => 0)).toMatchObject({ kind: "retry", delayMs: 800 }); // default jitter 0.2, lowest end
    expect(at(1, () => 0.999999)).toMatchObject({ kind: "retry", delayMs: 1200 });
    expect(at(5, mid)).toMatchObject({ kind: "retry", delayMs: 3000, runAt: NOW + 3000 });
  });

  it("uses the maxAttempts given, not the policy's, when they differ", () => {
    const d = decideOutcome({ attempt: 3, maxAttempts: 5, retry, result: fail(new Error("x")), now: NOW, random: mid });
    expect(d).toMatchObject({ kind: "retry", attempts: 3, delayMs: 4000 });
  });
});

describe("decideLeaseExpired", () => {
  it("keeps the attempt used and makes the delivery due now", () => {
    expect(decideLeaseExpired({ attempts: 1, maxAttempts: 3, now: NOW })).toEqual({
      state: "failed",
      runAt: NOW,
      error: LEASE_EXPIRED_ERROR,
    });
  });

  it("dead-letters when the expired run was the last attempt", () => {
    expect(decideLeaseExpired({ attempts: 3, maxAttempts: 3, now: NOW })).toMatchObject({ state: "dead", runAt: null });
  });
});

describe("decideRelease (shutdown gives a run back)", () => {
  it("makes a first run pending again, due now, with no attempt used", () => {
    expect(decideRelease({ attempt: 1, now: NOW })).toEqual({ state: "pending", attempts: 0, runAt: NOW });
  });

  it("keeps a retried delivery failed with its earlier attempts", () => {
    expect(decideRelease({ attempt: 3, now: NOW })).toEqual({ state: "failed", attempts: 2, runAt: NOW });
  });
});
