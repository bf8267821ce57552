/**
 * The backoff formula of the delivery engine: fixed or exponential delay, plus or minus a jitter fraction, capped
 * (BullMQ's semantics), as one pure function the outcome rules and every store use. Must not import a store, a driver
 * or anything with side effects.
 */
import type { BackoffSpec } from "./types.js";

/** Default cap of one backoff delay: 1 hour. */
export const DEFAULT_MAX_DELAY_MS = 3_600_000;

/**
 * The delay before the next attempt after attempt number `attempt` (1-based) failed.
 * `exponential`: `delayMs * 2^(attempt-1)`; `fixed`: `delayMs`; then ± `jitter` fraction, capped at `maxDelayMs`.
 * @param random - a function returning [0, 1); injectable for tests.
 */
export function computeBackoff(spec: BackoffSpec, attempt: number, random: () => number = Math.random): number {
  const cap = spec.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const n = Math.max(1, Math.floor(attempt));
  const base = spec.type === "fixed" ? spec.delayMs : spec.delayMs * 2 ** Math.min(n - 1, 52);
  const jitter = Math.min(1, Math.max(0, spec.jitter ?? 0.2));
  const jittered = base * (1 - jitter + 2 * jitter * random());
  return Math.max(0, Math.min(cap, Math.round(jittered)));
}
