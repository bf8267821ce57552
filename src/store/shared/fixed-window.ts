/**
 * The fixed-window rate limiter every store's `limiter()` applies, as pure functions over a small state: windows
 * starting at an origin plus multiples of the window length (by default the epoch; the outbox passes the window clock
 * Intercom announces in `X-RateLimit-Reset`), a fresh count only when the window start changes, a pause that a
 * later pause extends and an earlier one never shortens. The memory and SQLite stores keep the state in a map or a
 * row and call these; the Redis store runs a Lua twin on the server clock, checked against the same table of cases.
 * Pure: imports nothing.
 */

/** What a limiter remembers between calls. */
export interface FixedWindowState {
  /** Start of the window `used` counts, epoch ms (0: none yet). */
  windowStart: number;
  /** Units granted in that window. */
  used: number;
  /** Nothing is granted before this, epoch ms; null: not paused. */
  pausedUntil: number | null;
  pauseReason: string | null;
}

/** A limiter that has granted nothing and is not paused. */
export const EMPTY_WINDOW: Readonly<FixedWindowState> = {
  windowStart: 0,
  used: 0,
  pausedUntil: null,
  pauseReason: null,
};

/**
 * Tries to take one unit of `max` per `windowMs` at `now`, windows starting at `originMs + k·windowMs` (k any
 * integer). Returns the wait (0: granted; otherwise ms until the end of the window or of the pause, at least 1) and
 * the state to store. Only another window start resets the count: the same start named with a corrected length keeps
 * what was granted in it.
 */
export function acquireFixedWindow(
  state: Readonly<FixedWindowState>,
  max: number,
  windowMs: number,
  now: number,
  originMs = 0,
): { waitMs: number; state: FixedWindowState } {
  if (state.pausedUntil !== null && state.pausedUntil > now) return { waitMs: state.pausedUntil - now, state };
  const size = Math.max(1, windowMs);
  const windowStart = now - ((((now - originMs) % size) + size) % size);
  const used = state.windowStart === windowStart ? state.used : 0;
  if (used < max) return { waitMs: 0, state: { ...state, windowStart, used: used + 1 } };
  return { waitMs: Math.max(1, windowStart + size - now), state: { ...state, windowStart, used } };
}

/** The state after a pause until `untilMs`: a later pause extends, an earlier one does not shorten. */
export function pauseFixedWindow(state: Readonly<FixedWindowState>, untilMs: number, reason: string): FixedWindowState {
  if (state.pausedUntil !== null && untilMs <= state.pausedUntil) return { ...state };
  return { ...state, pausedUntil: untilMs, pauseReason: reason };
}

/** What `SharedLimiter.state()` reports at `now`: a pause that has ended reads as none. */
export function viewFixedWindow(state: Readonly<FixedWindowState>, now: number): FixedWindowState {
  const isPaused = state.pausedUntil !== null && state.pausedUntil > now;
  return {
    windowStart: state.windowStart,
    used: state.used,
    pausedUntil: isPaused ? state.pausedUntil : null,
    pauseReason: isPaused ? state.pauseReason : null,
  };
}
