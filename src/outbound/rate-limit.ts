import { ConfigError, RateLimitedError } from "../core/errors.js";
import type { Clock } from "../core/clock.js";
import type { SharedLimiter } from "../store/store.js";

/** `X-RateLimit-*` of one response (facts §2.6). */
export interface RateLimitInfo {
  /** `X-RateLimit-Limit`: requests allowed per window (Intercom reports the per-10-second value). */
  limit: number | null;
  /** `X-RateLimit-Remaining`: requests left in the current window. */
  remaining: number | null;
  /** `X-RateLimit-Reset` converted to epoch ms: when the window resets. */
  resetAtMs: number | null;
}

/** Default Intercom per-app limit, requests per minute (facts §2.6). */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 10_000;
/** Intercom applies per-minute limits per 10-second window (facts §2.6). */
export const DEFAULT_RATE_LIMIT_WINDOW_MS = 10_000;
/** Name of the shared limiter every outbox instance uses. */
export const OUTBOX_LIMITER = "intercom-events";
/**
 * How the message of a {@link RateLimitedError} the gate throws while sending is paused begins: the run only waited
 * (nothing was sent), which the dashboard tells apart from Intercom's own answers.
 */
export const OUTBOX_PAUSED_MESSAGE_PREFIX = "Outbox paused";
/** Pause reason written to the limiter on 401/403. */
export const PAUSE_REASON_UNAUTHORIZED = "unauthorized";
/** Pause reason written to the limiter on 429 or an exhausted window. */
export const PAUSE_REASON_RATE_LIMITED = "rate-limited";

/** Parses `X-RateLimit-*` through a header getter; null when none is present. */
export function parseRateLimitHeaders(get: (name: string) => string | null): RateLimitInfo | null {
  const num = (n: string): number | null => {
    const v = get(n);
    if (v === null || v.trim() === "") return null;
    const x = Number(v);
    return Number.isFinite(x) ? x : null;
  };
  const limit = num("x-ratelimit-limit");
  const remaining = num("x-ratelimit-remaining");
  const reset = num("x-ratelimit-reset");
  if (limit === null && remaining === null && reset === null) return null;
  // Reset is unix seconds (facts §2.6); tolerate a sender that uses ms.
  const resetAtMs = reset === null ? null : reset > 100_000_000_000 ? reset : reset * 1000;
  return { limit, remaining, resetAtMs };
}

/** The per-window budget for a per-minute limit: 10,000/min over 10 s windows ⇒ 1,666. */
export function budgetPerWindow(ratePerMinute: number, windowMs: number): number {
  return Math.max(1, Math.floor((ratePerMinute * windowMs) / 60_000));
}

/** Options of {@link createRateGate}. */
export interface RateGateOptions {
  /** The store's shared limiter (`store.limiter(OUTBOX_LIMITER)`): the window budget and pauses every instance sees. */
  limiter: SharedLimiter;
  /** Time source for window edges and waits (a fake clock in tests). */
  clock: Clock;
  /** Budget per window until a response's `X-RateLimit-Limit` says otherwise. */
  initialPerWindow: number;
  /** Length of one rate-limit window, ms. @defaultValue 10_000 */
  windowMs: number;
  /**
   * Longest a job waits for budget inside its run, ms; a longer wait throws {@link RateLimitedError} so the processor
   * pauses the queue instead of holding leases. @defaultValue 15_000
   */
  maxInlineWaitMs?: number;
  /**
   * Longest the processor pauses the queue in one go during a long pause, ms, so a pause lifted elsewhere
   * (`events resume`) takes effect within this time. @defaultValue 5_000
   */
  pauseRecheckMs?: number;
  /**
   * Nothing is granted in the last `windowEdgeGuardMs` of a window (or 3x the recent request latency when larger, up
   * to a tenth of the window), so a request cannot land in the server's next window on top of its full budget. Costs
   * nothing at full load (the budget runs out earlier in the window).
   * @defaultValue 50, or windowMs / 20 when smaller
   */
  windowEdgeGuardMs?: number;
}

/**
 * Paces sends to a fixed-window budget shared through the store's limiter and corrects it from every response's
 * `X-RateLimit-*` headers.
 */
export interface RateGate {
  /** Waits for one unit of budget. @throws {RateLimitedError} when the wait exceeds `maxInlineWaitMs`. */
  acquire(signal: AbortSignal): Promise<void>;
  /**
   * Learns from a response: the window size from `Limit`, and pauses everyone until `Reset` when the requests still
   * in flight (`othersInFlight`) would use up `Remaining`.
   */
  observe(info: RateLimitInfo | null, othersInFlight: number): Promise<void>;
  /** Records how long one request took, ms; widens the window-edge guard when requests get slow. */
  recordLatency(ms: number): void;
  /** Pauses everyone until `untilMs` for `reason`. */
  pause(untilMs: number, reason: string): Promise<void>;
  /** The budget per window now in use. */
  readonly perWindow: number;
}

/** Creates a {@link RateGate}. */
export function createRateGate(options: RateGateOptions): RateGate {
  const { limiter, clock, windowMs } = options;
  if (!Number.isInteger(windowMs) || windowMs < 100)
    throw new ConfigError("rateLimitWindowMs must be an integer >= 100");
  if (!Number.isInteger(options.initialPerWindow) || options.initialPerWindow < 1)
    throw new ConfigError("rate limit per window must be an integer >= 1");
  const maxInlineWaitMs = options.maxInlineWaitMs ?? 15_000;
  const pauseRecheckMs = options.pauseRecheckMs ?? 5_000;
  const minGuardMs = options.windowEdgeGuardMs ?? Math.min(50, Math.floor(windowMs / 20));
  let latencyEwmaMs = 0;
  // Under load requests take longer to arrive: keep the guard at 3x the recent latency (at most a tenth of a window).
  const guardMs = (): number =>
    Math.max(minGuardMs, Math.min(Math.floor(windowMs / 10), Math.round(3 * latencyEwmaMs)));
  let perWindow = options.initialPerWindow;
  let pausedUntilMs = 0;

  return {
    get perWindow() {
      return perWindow;
    },
    async acquire(signal) {
      for (;;) {
        signal.throwIfAborted();
        // A request granted in the last moments of a window reaches the server in the next one, on top of that
        // window's full budget (stores align windows to multiples of windowMs since the epoch, like Intercom's).
        const msLeft = windowMs - (clock.now() % windowMs);
        if (msLeft < guardMs()) await clock.sleep(msLeft, signal);
        const askedInWindow = Math.floor(clock.now() / windowMs);
        const waitMs = await limiter.acquire(perWindow, windowMs);
        // Granted, but the window turned while we asked: that unit was charged to the old window, and the request
        // lands in the new one. Take a unit of the new window too.
        if (waitMs <= 0 && Math.floor(clock.now() / windowMs) === askedInWindow) return;
        if (waitMs <= 0) continue;
        if (waitMs > maxInlineWaitMs)
          throw new RateLimitedError(
            Math.min(waitMs, pauseRecheckMs),
            `${OUTBOX_PAUSED_MESSAGE_PREFIX} for ${waitMs} ms`,
          );
        await clock.sleep(waitMs, signal);
      }
    },
    recordLatency(ms) {
      if (Number.isFinite(ms) && ms >= 0) latencyEwmaMs = latencyEwmaMs === 0 ? ms : latencyEwmaMs * 0.9 + ms * 0.1;
    },
    async observe(info, othersInFlight) {
      if (info === null) return;
      if (info.limit !== null && info.limit >= 1 && Math.floor(info.limit) !== perWindow)
        perWindow = Math.floor(info.limit);
      if (info.remaining === null || info.resetAtMs === null || info.remaining > othersInFlight) return;
      if (info.resetAtMs <= clock.now() || info.resetAtMs <= pausedUntilMs) return;
      // The requests already on their way may use up what is left. When our window matches the server's and the
      // server has counted no more than we granted, our own budget already stops us in time; otherwise (another
      // client on the same token, clock skew, other window edges) send nothing more until the server's reset.
      if (info.limit !== null) {
        const state = await limiter.state();
        const isAligned = Math.abs(state.windowStart + windowMs - info.resetAtMs) < 1_000;
        const serverCount = info.limit - info.remaining;
        if (isAligned && serverCount <= state.used) return;
      }
      pausedUntilMs = info.resetAtMs;
      await limiter.pauseUntil(info.resetAtMs, PAUSE_REASON_RATE_LIMITED);
    },
    async pause(untilMs, reason) {
      if (reason === PAUSE_REASON_RATE_LIMITED && untilMs <= pausedUntilMs) return;
      if (reason === PAUSE_REASON_RATE_LIMITED) pausedUntilMs = untilMs;
      await limiter.pauseUntil(untilMs, reason);
    },
  };
}
