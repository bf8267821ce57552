/**
 * The library's defaults (frozen; units in the names) and the checks options go through: durations, integers in range,
 * retry policies. Pure like `core/`: imports only the error classes and the delivery types; never `process.env` (that
 * is `env.ts`, for the service and CLI), a framework or a driver.
 */
import { ConfigError } from "../core/errors.js";
import type { RetryPolicy } from "../delivery/types.js";

/** Frozen defaults (STYLE §8). Units are in the names. */
export const DEFAULTS = Object.freeze({
  /** Largest webhook body accepted: 1 MiB. A 413 loses the notification after Intercom's single retry. */
  maxBodyBytes: 1_048_576,
  /** Longest a store write may take before the request answers 503 (Intercom's deadline is 5 s). */
  storeTimeoutMs: 2_000,
  /** How long dedupe keys are kept, and the age past which a notification is refused as stale: 7 days. */
  dedupeTtlMs: 7 * 24 * 3_600_000,
  /** `serve --retention`: finished records are deleted this long after they were received. */
  retentionMs: 30 * 24 * 3_600_000,
  /** Handler retry policy: 8 attempts, exponential from 1 s, doubling, ±20 % jitter, capped at 1 h. */
  retry: Object.freeze({
    maxAttempts: 8,
    backoff: Object.freeze({ type: "exponential", delayMs: 1_000, jitter: 0.2, maxDelayMs: 3_600_000 }),
  }),
  /** Per-run handler timeout. */
  handlerTimeoutMs: 30_000,
  /** Deliveries running at once per process. */
  concurrency: 8,
  /** Lease of a running delivery before another worker may take it over. */
  leaseMs: 30_000,
  /** Grace period for in-flight work at shutdown. */
  shutdownTimeoutMs: 10_000,
});

/** Parses a duration: integer milliseconds or a number with a unit (`500ms`, `30s`, `15m`, `2h`, `7d`). */
export function parseDuration(value: string | number, name: string): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return Math.floor(value);
    throw new ConfigError(`${name} must be a duration >= 0`);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!m)
    throw new ConfigError(
      `${name} must be integer milliseconds or a number with a unit (500ms, 30s, 15m, 2h, 7d); got "${value}"`,
    );
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? "ms") as "ms"];
  return Math.floor(Number(m[1]) * unit);
}

/** Throws a {@link ConfigError} naming `name` unless `value` is an integer in [min, max]. */
export function requireInt(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `${name} must be an integer >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ""}; got ${String(value)}`,
    );
  }
  return value;
}

/** Merges a partial retry policy over a base and validates it. */
export function resolveRetry(
  base: RetryPolicy,
  partial: Partial<RetryPolicy> | undefined,
  name = "retry",
): RetryPolicy {
  const merged: RetryPolicy = {
    maxAttempts: partial?.maxAttempts ?? base.maxAttempts,
    backoff: { ...base.backoff, ...partial?.backoff },
  };
  requireInt(merged.maxAttempts, `${name}.maxAttempts`, 1, 1000);
  requireInt(merged.backoff.delayMs, `${name}.backoff.delayMs`, 0);
  if (merged.backoff.type !== "fixed" && merged.backoff.type !== "exponential") {
    throw new ConfigError(`${name}.backoff.type must be "fixed" or "exponential"`);
  }
  return merged;
}
