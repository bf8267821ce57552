/**
 * Pacing of outbound Data Events to Intercom's rate limit: parsing `X-RateLimit-*`, and the rate gate every send
 * passes. The gate spends a window budget shared by every instance through the store's limiter, on Intercom's own
 * window clock (see `window-clock.ts`): the window ends when `X-RateLimit-Reset` says, its length is measured from
 * successive resets, and what one instance learned is shared with the others through the store. Before the first
 * headers are known, only a small first burst is sent. Imports no HTTP client and no store implementation.
 */
import { ConfigError, RateLimitedError } from "../core/errors.js";
import type { Clock } from "../core/clock.js";
import type { SharedLimiter } from "../store/store.js";
import { WindowClock, type WindowClockSource, type WindowClockView } from "./window-clock.js";

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
 * Name of the store limiter that carries what instances learned about Intercom's window clock: its pause reason holds
 * the clock as JSON and its pause end is when that knowledge expires. It never limits anything.
 */
export const OUTBOX_CLOCK_NOTE = "intercom-events:clock";
/** How long a shared clock note stays valid without being refreshed, ms. */
export const CLOCK_NOTE_TTL_MS = 600_000;
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
  /**
   * Where instances share the window clock they learned (`store.limiter(OUTBOX_CLOCK_NOTE)`); without it each instance
   * learns on its own.
   */
  clockNote?: SharedLimiter;
  /** Time source for window edges and waits (a fake clock in tests). */
  clock: Clock;
  /** Budget per window until a response's `X-RateLimit-Limit` says otherwise. */
  initialPerWindow: number;
  /** Window length assumed until Intercom's `X-RateLimit-Reset` values show the real one, ms. */
  windowMs: number;
  /**
   * Requests this process sends before the first rate-limit headers are known (from its own answers or shared by
   * another instance); the rest wait for those headers, so a small limit is not overshot in the first window.
   * `Infinity` trusts the configured assumption from the start. @defaultValue 1
   */
  firstBurst?: number;
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
 * Paces sends to Intercom's window budget, shared through the store's limiter, on the window clock Intercom announces
 * in every response's `X-RateLimit-*` headers.
 */
export interface RateGate {
  /** Waits for one unit of budget. @throws {RateLimitedError} when the wait exceeds `maxInlineWaitMs`. */
  acquire(signal: AbortSignal): Promise<void>;
  /**
   * Learns from a finished request (call it once per granted {@link RateGate.acquire}, with null when the answer had
   * no rate-limit headers or none arrived): the window clock and budget, and the server's own count. Pauses everyone
   * until `Reset` when the requests still in flight (`othersInFlight`) would use up `Remaining` and the server's count
   * cannot be matched.
   */
  observe(info: RateLimitInfo | null, othersInFlight: number): Promise<void>;
  /** Records how long one request took, ms; widens the window-edge guard when requests get slow. */
  recordLatency(ms: number): void;
  /** Pauses everyone until `untilMs` for `reason`. */
  pause(untilMs: number, reason: string): Promise<void>;
  /** The budget per window now in use. */
  readonly perWindow: number;
  /** The window length now in use, ms (the assumption until learned). */
  readonly windowMs: number;
  /** Where the window clock comes from: assumed, announced by a reset, or a length learned from resets. */
  readonly windowSource: WindowClockSource;
}

/** Answers without rate-limit headers after which the first burst stops waiting for headers. */
const HEADERLESS_ANSWERS_BEFORE_ASSUMING = 3;
/** A shortfall of the shared count against the server's count up to this many units is taken from the budget. */
const MAX_CATCH_UP_UNITS = 20;

/** Creates a {@link RateGate}. */
export function createRateGate(options: RateGateOptions): RateGate {
  const { limiter, clockNote, clock } = options;
  if (!Number.isInteger(options.windowMs) || options.windowMs < 100)
    throw new ConfigError("rateLimitWindowMs must be an integer >= 100");
  if (!Number.isInteger(options.initialPerWindow) || options.initialPerWindow < 1)
    throw new ConfigError("rate limit per window must be an integer >= 1");
  const firstBurst = options.firstBurst ?? 1;
  if (!(firstBurst >= 1)) throw new ConfigError("firstBurst must be >= 1");
  const maxInlineWaitMs = options.maxInlineWaitMs ?? 15_000;
  const pauseRecheckMs = options.pauseRecheckMs ?? 5_000;
  const windowClock = new WindowClock(options.windowMs);
  const minGuardMs = options.windowEdgeGuardMs ?? Math.min(50, Math.floor(options.windowMs / 20));
  let latencyEwmaMs = 0;
  // Under load requests take longer to arrive: keep the guard at 3x the recent latency (at most a tenth of a window).
  const guardMs = (): number =>
    Math.max(minGuardMs, Math.min(Math.floor(windowClock.lengthMs / 10), Math.round(3 * latencyEwmaMs)));
  let perWindow = options.initialPerWindow;
  let pausedUntilMs = 0;
  // The comparison of the shared count with the server's runs one at a time, once per window.
  let checkedWindowStart = Number.NaN;
  let checking: Promise<void> = Promise.resolve();

  // The first burst: until headers are known, at most `firstBurst` requests of this process are on their way.
  let isKnown = firstBurst === Number.POSITIVE_INFINITY;
  let probesInFlight = 0;
  let headerlessAnswers = 0;
  let waiters: (() => void)[] = [];
  const wakeAll = (): void => {
    const ws = waiters;
    waiters = [];
    for (const w of ws) w();
  };
  const waitForProbe = (signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const done = (): void => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = (): void => {
        waiters = waiters.filter((w) => w !== done);
        reject(signal.reason as Error);
      };
      waiters.push(done);
      signal.addEventListener("abort", onAbort, { once: true });
    });

  // Waits for budget end early when the clock changes (a wait computed on an assumed 10-s window is wrong once the
  // server shows 2-s windows).
  let clockChange = new AbortController();
  const clockChanged = (): void => {
    const c = clockChange;
    clockChange = new AbortController();
    c.abort();
  };
  const sleepUnlessClockChanges = async (ms: number, signal: AbortSignal): Promise<void> => {
    const change = clockChange.signal;
    const both = new AbortController();
    const stop = (): void => both.abort();
    signal.addEventListener("abort", stop, { once: true });
    change.addEventListener("abort", stop, { once: true });
    try {
      await clock.sleep(ms, both.signal);
    } catch (error) {
      if (signal.aborted || !change.aborted) throw error;
    } finally {
      signal.removeEventListener("abort", stop);
      change.removeEventListener("abort", stop);
    }
  };

  const adopt = (view: WindowClockView): void => {
    if (!windowClock.adopt(view)) return;
    if (windowClock.limit !== null) perWindow = windowClock.limit;
    isKnown = true;
    clockChanged();
    wakeAll();
  };
  // What other instances learned: read before this process sends anything.
  let noteRead: Promise<void> | undefined;
  const readNote = async (): Promise<void> => {
    if (clockNote === undefined) return;
    try {
      const state = await clockNote.state();
      if (state.pauseReason !== null && state.pausedUntil !== null && state.pausedUntil > clock.now())
        adopt(JSON.parse(state.pauseReason) as WindowClockView);
    } catch {
      // An unreadable or foreign note only means learning from this process's own answers.
    }
  };
  let noteWrittenAt = 0;
  const writeNote = async (force: boolean): Promise<void> => {
    if (clockNote === undefined || windowClock.source === "assumed") return;
    const now = clock.now();
    if (!force && now - noteWrittenAt < CLOCK_NOTE_TTL_MS / 10) return;
    noteWrittenAt = now;
    // A later expiry always replaces the note (pauses only extend), so the newest knowledge wins. A failed write only
    // means the others learn on their own; the event was sent either way.
    await clockNote.pauseUntil(now + CLOCK_NOTE_TTL_MS, JSON.stringify(windowClock.view())).catch(() => undefined);
  };

  return {
    get perWindow() {
      return perWindow;
    },
    get windowMs() {
      return windowClock.lengthMs;
    },
    get windowSource() {
      return windowClock.source;
    },
    async acquire(signal) {
      if (!isKnown) await (noteRead ??= readNote());
      for (;;) {
        signal.throwIfAborted();
        if (!isKnown && probesInFlight >= firstBurst) {
          await waitForProbe(signal);
          continue;
        }
        // A request granted in the last moments of a window reaches the server in the next one, on top of that
        // window's full budget.
        const win = windowClock.windowAt(clock.now());
        const msLeft = win.endMs - clock.now();
        if (msLeft < guardMs()) {
          await clock.sleep(msLeft, signal);
          continue;
        }
        // A probe's slot is taken before asking the store, so concurrent runs cannot all pass as the first burst.
        const isProbe = !isKnown;
        if (isProbe) probesInFlight++;
        let waitMs: number;
        try {
          waitMs = await limiter.acquire(perWindow, windowClock.lengthMs, windowClock.originMs);
        } catch (error) {
          if (isProbe) probesInFlight--;
          throw error;
        }
        // Granted, but the window turned while we asked: that unit was charged to the old window, and the request
        // lands in the new one. Take a unit of the new window too.
        if (waitMs <= 0 && windowClock.windowAt(clock.now()).startMs === win.startMs) return;
        if (isProbe) {
          probesInFlight--;
          wakeAll();
        }
        if (waitMs <= 0) continue;
        if (waitMs > maxInlineWaitMs)
          throw new RateLimitedError(
            Math.min(waitMs, pauseRecheckMs),
            `${OUTBOX_PAUSED_MESSAGE_PREFIX} for ${waitMs} ms`,
          );
        await sleepUnlessClockChanges(waitMs, signal);
      }
    },
    recordLatency(ms) {
      if (Number.isFinite(ms) && ms >= 0) latencyEwmaMs = latencyEwmaMs === 0 ? ms : latencyEwmaMs * 0.9 + ms * 0.1;
    },
    async observe(info, othersInFlight) {
      if (probesInFlight > 0) probesInFlight--;
      const hasHeaders = info !== null && (info.limit !== null || info.resetAtMs !== null);
      if (!isKnown && (hasHeaders || ++headerlessAnswers >= HEADERLESS_ANSWERS_BEFORE_ASSUMING)) isKnown = true;
      // Requests waiting for the first headers go once the server's count is taken into the shared one.
      try {
        await learn(info, othersInFlight);
      } finally {
        wakeAll();
      }
    },
    async pause(untilMs, reason) {
      if (reason === PAUSE_REASON_RATE_LIMITED && untilMs <= pausedUntilMs) return;
      if (reason === PAUSE_REASON_RATE_LIMITED) pausedUntilMs = untilMs;
      await limiter.pauseUntil(untilMs, reason);
    },
  };

  async function learn(info: RateLimitInfo | null, othersInFlight: number): Promise<void> {
    if (info === null) return;
    const changed = windowClock.observe(info);
    if (windowClock.limit !== null) perWindow = windowClock.limit;
    if (changed) clockChanged();
    await writeNote(changed);
    if (info.remaining === null || info.resetAtMs === null) return;
    const now = clock.now();
    if (info.resetAtMs <= now || info.resetAtMs <= pausedUntilMs) return;
    const win = windowClock.windowAt(now);
    const isCurrent = Math.abs(win.endMs - info.resetAtMs) < 1_000;
    // The shared count is compared with the server's once per window (the first answer in it), and whenever what is
    // left may run out.
    if (!(isCurrent && win.startMs !== checkedWindowStart) && info.remaining > othersInFlight) return;
    const remaining = info.remaining;
    const resetAtMs = info.resetAtMs;
    const serverCount = info.limit === null ? null : info.limit - remaining;
    const step = checking.then(async () => {
      if (isCurrent && serverCount !== null) {
        checkedWindowStart = win.startMs;
        // The shared count takes every request granted in this window, including those still on their way, so it
        // is normally ahead of the server's. Before anyone was granted a unit of this window, the requests on their
        // way were granted in the previous one and land in this one. Behind means another client on the same
        // token, or the clock was corrected; a small shortfall is taken from the budget.
        const state = await limiter.state();
        const isFresh = state.windowStart !== win.startMs;
        const shortfall = serverCount + (isFresh ? othersInFlight : 0) - (isFresh ? 0 : state.used);
        if (shortfall <= 0) return;
        if (shortfall <= MAX_CATCH_UP_UNITS) {
          for (let i = 0; i < shortfall; i++)
            if ((await limiter.acquire(perWindow, windowClock.lengthMs, windowClock.originMs)) > 0) break;
          return;
        }
      }
      // A large shortfall, or an answer from a window we cannot match: send nothing more until the server's reset
      // when the requests already on their way may use up what is left.
      if (remaining > othersInFlight) return;
      pausedUntilMs = Math.max(pausedUntilMs, resetAtMs);
      await limiter.pauseUntil(resetAtMs, PAUSE_REASON_RATE_LIMITED);
    });
    checking = step.catch(() => undefined);
    await step;
  }
}
