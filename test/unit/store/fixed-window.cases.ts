/**
 * The fixed-window limiter's behaviour as a table, shared by every implementation: the pure function the memory and
 * SQLite stores use (fixed-window.test.ts) and the Redis store's Lua twin. Times are offsets from `t0`, a multiple of
 * every window length used here, so an implementation on a real clock can replay a case from an aligned start. An
 * acquire's `originMs` is an offset from `t0` too (Intercom's window clock as the outbox passes it).
 */

/** One step of a case: acquire (expecting `wait` ms, 0 = granted), or pause until `t0 + until`. */
export type FixedWindowStep =
  | { at: number; acquire: { max: number; windowMs: number; originMs?: number }; wait: number }
  | { at: number; pauseUntil: number; reason: string }
  | { at: number; state: { used: number; paused: boolean } };

export interface FixedWindowCase {
  name: string;
  steps: FixedWindowStep[];
}

const w = (max: number, windowMs: number, origin?: number): { max: number; windowMs: number; originMs?: number } =>
  origin === undefined ? { max, windowMs } : { max, windowMs, originMs: origin };

export const FIXED_WINDOW_CASES: FixedWindowCase[] = [
  {
    name: "grants max units per window, then waits until the window ends",
    steps: [
      { at: 0, acquire: w(2, 1000), wait: 0 },
      { at: 100, acquire: w(2, 1000), wait: 0 },
      { at: 250, acquire: w(2, 1000), wait: 750 },
      { at: 250, state: { used: 2, paused: false } },
    ],
  },
  {
    name: "starts afresh at the next aligned window, not one window after the first grant",
    steps: [
      { at: 900, acquire: w(1, 1000), wait: 0 },
      { at: 950, acquire: w(1, 1000), wait: 50 },
      { at: 1000, acquire: w(1, 1000), wait: 0 },
      { at: 1000, state: { used: 1, paused: false } },
    ],
  },
  {
    name: "waits at least 1 ms on the last millisecond of a full window",
    steps: [
      { at: 0, acquire: w(1, 1000), wait: 0 },
      { at: 999, acquire: w(1, 1000), wait: 1 },
    ],
  },
  {
    name: "a pause refuses grants until it ends, whatever the budget",
    steps: [
      { at: 0, pauseUntil: 5000, reason: "429" },
      { at: 10, acquire: w(10, 1000), wait: 4990 },
      { at: 10, state: { used: 0, paused: true } },
      { at: 5000, acquire: w(10, 1000), wait: 0 },
      { at: 5000, state: { used: 1, paused: false } },
    ],
  },
  {
    name: "a later pause extends, an earlier one does not shorten",
    steps: [
      { at: 0, pauseUntil: 3000, reason: "first" },
      { at: 0, pauseUntil: 2000, reason: "earlier" },
      { at: 100, acquire: w(1, 1000), wait: 2900 },
      { at: 100, pauseUntil: 4000, reason: "later" },
      { at: 200, acquire: w(1, 1000), wait: 3800 },
    ],
  },
  {
    name: "max 0 never grants",
    steps: [{ at: 0, acquire: w(0, 1000), wait: 1000 }],
  },
  {
    name: "windows start at the origin plus multiples of the window length, not at epoch multiples",
    steps: [
      { at: 1500, acquire: w(1, 1000, 200), wait: 0 },
      { at: 1700, acquire: w(1, 1000, 200), wait: 500 },
      { at: 2200, acquire: w(1, 1000, 200), wait: 0 },
      { at: 2200, state: { used: 1, paused: false } },
    ],
  },
  {
    name: "an origin after now still names the window that holds now",
    steps: [
      { at: 100, acquire: w(1, 1000, 5300), wait: 0 },
      { at: 250, acquire: w(1, 1000, 5300), wait: 50 },
    ],
  },
  {
    name: "the same window start with a corrected length keeps its count; another start begins afresh",
    steps: [
      { at: 0, acquire: w(1, 1000), wait: 0 },
      { at: 100, acquire: w(1, 2000), wait: 1900 },
      { at: 100, state: { used: 1, paused: false } },
      { at: 100, acquire: w(1, 1000, 50), wait: 0 },
      { at: 100, state: { used: 1, paused: false } },
    ],
  },
];
