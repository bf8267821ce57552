/**
 * Paces gap recovery's REST calls inside the same per-app rate budget as outbound Data Events (they count against
 * the same Intercom limit): it draws from the store's shared outbox limiter, but only while the window's usage is
 * below a share of the budget, so the outbox can always use the rest and is never starved. It follows
 * `X-RateLimit-*` like the outbox, waits out a 429 (pausing every instance until the reset, as the outbox does), and
 * retries transport errors and 5xx a few times. It never hides a 401/403: the caller stops on those.
 */
import { systemClock, type Clock } from "../core/clock.js";
import { ConfigError, RateLimitedError } from "../core/errors.js";
import { classifySendResult } from "../outbound/classify.js";
import {
  budgetPerWindow,
  createRateGate,
  DEFAULT_RATE_LIMIT_PER_MINUTE,
  DEFAULT_RATE_LIMIT_WINDOW_MS,
  OUTBOX_LIMITER,
  PAUSE_REASON_RATE_LIMITED,
  type RateGate,
} from "../outbound/rate-limit.js";
import type { SharedLimiter, Store } from "../store/store.js";
import type { ApiAnswer } from "./search-api.js";

/** Options of {@link createSearchPacer}. */
export interface SearchPacerOptions {
  /** The store whose shared limiter the outbox uses. */
  store: Store;
  /** Intercom rate limit, requests per minute, until `X-RateLimit-Limit` says otherwise. @defaultValue 10_000 */
  rateLimitPerMinute?: number;
  /** Rate-limit window, ms. @defaultValue 10_000 */
  rateLimitWindowMs?: number;
  /**
   * Fraction of each window's budget searches may use; they wait once the window's usage (outbound events
   * included) reaches it, so the outbox keeps the rest. @defaultValue 0.5
   */
  share?: number;
  /** Attempts of one request on 5xx, 408, 409 or a transport error before giving up. @defaultValue 5 */
  maxAttempts?: number;
  /** Told about every wait (rate limit, pause, retry backoff) longer than a second. */
  onWait?: (ms: number, reason: string) => void;
  /** Time source (tests). @defaultValue the system clock */
  clock?: Clock;
}

/** Runs paced requests. */
export interface SearchPacer {
  /**
   * Waits for budget, sends, and repeats on 429 (after the reset) and on retryable failures (with backoff). Resolves
   * with the first answer that is neither, or the last one once `maxAttempts` is used.
   */
  run<T>(send: (signal?: AbortSignal) => Promise<ApiAnswer<T>>, signal?: AbortSignal): Promise<ApiAnswer<T>>;
  /** 429 answers waited out so far. */
  readonly rateLimitedCount: number;
}

/** Creates a {@link SearchPacer}. */
export function createSearchPacer(options: SearchPacerOptions): SearchPacer {
  const clock = options.clock ?? systemClock;
  const share = options.share ?? 0.5;
  if (!(share > 0 && share <= 1)) throw new ConfigError("reconcile share of the rate budget must be in (0, 1]");
  const windowMs = options.rateLimitWindowMs ?? DEFAULT_RATE_LIMIT_WINDOW_MS;
  const perMinute = options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE;
  const maxAttempts = options.maxAttempts ?? 5;
  const shared = options.store.limiter(OUTBOX_LIMITER);
  // The gate asks for the whole window's budget; searches only take a unit while usage is below their share of it.
  const limiter: SharedLimiter = {
    acquire: (max, ms) => shared.acquire(Math.max(1, Math.floor(max * share)), ms),
    pauseUntil: (until, reason) => shared.pauseUntil(until, reason),
    resume: () => shared.resume(),
    state: () => shared.state(),
  };
  const gate: RateGate = createRateGate({
    limiter,
    clock,
    windowMs,
    initialPerWindow: budgetPerWindow(perMinute, windowMs),
  });
  let rateLimitedCount = 0;
  const wait = async (ms: number, reason: string, signal?: AbortSignal): Promise<void> => {
    if (ms >= 1_000) options.onWait?.(ms, reason);
    await clock.sleep(ms, signal);
  };

  return {
    get rateLimitedCount() {
      return rateLimitedCount;
    },
    async run(send, signal) {
      for (let attempt = 1; ; attempt++) {
        for (;;) {
          try {
            await gate.acquire(signal ?? new AbortController().signal);
            break;
          } catch (err) {
            if (!(err instanceof RateLimitedError)) throw err;
            const state = await shared.state();
            const reason =
              state.pausedUntil !== null && state.pausedUntil > clock.now()
                ? `Intercom requests paused (${state.pauseReason ?? "paused"}) until ${new Date(state.pausedUntil).toISOString()}`
                : "waiting for rate-limit budget";
            await wait(err.retryAfterMs, reason, signal);
          }
        }
        const startedAt = clock.now();
        const answer = await send(signal);
        if (answer.status !== null) gate.recordLatency(clock.now() - startedAt);
        await gate.observe(answer.rateLimit, 0);
        const outcome = classifySendResult(answer, clock.now());
        if (outcome.kind === "rate-limited") {
          rateLimitedCount++;
          await gate.pause(outcome.resumeAtMs, PAUSE_REASON_RATE_LIMITED);
          await wait(
            Math.max(0, outcome.resumeAtMs - clock.now()),
            `Intercom answered 429; waiting until ${new Date(outcome.resumeAtMs).toISOString()}`,
            signal,
          );
          attempt--;
          continue;
        }
        if (outcome.kind === "retry" && attempt < maxAttempts) {
          const backoffMs = Math.min(30_000, 1_000 * 2 ** (attempt - 1));
          await wait(backoffMs, `${outcome.reason}; retrying`, signal);
          continue;
        }
        return answer;
      }
    },
  };
}
