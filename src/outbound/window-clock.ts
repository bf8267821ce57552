/**
 * Intercom's rate-limit window clock, learned from the `X-RateLimit-*` headers of its answers. Pure (no I/O, no
 * timers): the outbox's rate gate feeds it every answer and asks it where the current window starts and ends.
 *
 * `X-RateLimit-Reset` is the end of the window the request was counted in; the budget refills to `X-RateLimit-Limit`
 * then. Two different resets are a whole number of windows apart, so the shortest gap between announced resets is the
 * window length (or a multiple of it, until traffic in consecutive windows shows the real one). The configured length
 * is only the assumption used before the first gap is seen. Windows are placed on the grid of the latest announced
 * reset: `[edge + k·length, edge + (k+1)·length)`. Imports nothing but types.
 */
import type { RateLimitInfo } from "./rate-limit.js";

/** Where the clock's current view comes from. */
export type WindowClockSource =
  /** Nothing announced yet: the configured length, windows on multiples of it since the epoch. */
  | "assumed"
  /** A window end announced by `X-RateLimit-Reset`; the length is still the configured (or shared) assumption. */
  | "announced"
  /** The length measured from the gap between two announced resets. */
  | "learned";

/** A serialisable snapshot of a clock, as instances share it through the store. */
export interface WindowClockView {
  /** Window length, ms. */
  lengthMs: number;
  /** One window edge, epoch ms; every edge is `edgeMs + k·lengthMs`. */
  edgeMs: number;
  /** Budget per window announced by `X-RateLimit-Limit`, or null before any. */
  limit: number | null;
  /** Where the view comes from. */
  source: WindowClockSource;
}

/** One window: `[startMs, endMs)`. */
export interface WindowSpan {
  startMs: number;
  endMs: number;
}

/** Gaps between resets shorter than this are noise (a server not using fixed windows), not a window length. */
const MIN_LEARNED_MS = 100;
/** Gaps longer than this say nothing useful about the length (idle for hours). */
const MAX_LEARNED_MS = 3_600_000;
/** Announced resets remembered to measure gaps. */
const RESETS_KEPT = 16;

/** `x mod m`, never negative. */
export function floorMod(x: number, m: number): number {
  return ((x % m) + m) % m;
}

/**
 * The window clock of one sender. Starts from `assumedLengthMs` on epoch multiples; {@link WindowClock.observe} moves
 * it to what Intercom announces.
 */
export class WindowClock {
  #lengthMs: number;
  #edgeMs = 0;
  #limit: number | null = null;
  #source: WindowClockSource = "assumed";
  #resets: number[] = [];

  /** @param assumedLengthMs - the configured window length, used until Intercom's answers show the real one */
  constructor(assumedLengthMs: number) {
    this.#lengthMs = assumedLengthMs;
  }

  /** Window length in use, ms. */
  get lengthMs(): number {
    return this.#lengthMs;
  }
  /** The grid's origin in `[0, lengthMs)`: windows start at `originMs + k·lengthMs`. */
  get originMs(): number {
    return floorMod(this.#edgeMs, this.#lengthMs);
  }
  /** Budget per window announced by `X-RateLimit-Limit`, or null before any. */
  get limit(): number | null {
    return this.#limit;
  }
  /** Where the current view comes from. */
  get source(): WindowClockSource {
    return this.#source;
  }

  /** The window containing `nowMs`. */
  windowAt(nowMs: number): WindowSpan {
    const startMs = nowMs - floorMod(nowMs - this.originMs, this.#lengthMs);
    return { startMs, endMs: startMs + this.#lengthMs };
  }

  /** The current view, to share with other instances. */
  view(): WindowClockView {
    return { lengthMs: this.#lengthMs, edgeMs: this.#edgeMs, limit: this.#limit, source: this.#source };
  }

  /**
   * Adopts what another instance learned when it knows more than this clock (a learned length beats an announced
   * edge, which beats the assumption). Returns true when the view changed.
   */
  adopt(view: WindowClockView): boolean {
    const rank = { assumed: 0, announced: 1, learned: 2 } as const;
    if (rank[view.source] <= rank[this.#source]) return false;
    if (!(view.lengthMs >= MIN_LEARNED_MS) || !Number.isFinite(view.edgeMs)) return false;
    const changed =
      view.lengthMs !== this.#lengthMs ||
      floorMod(view.edgeMs, view.lengthMs) !== this.originMs ||
      view.limit !== this.#limit ||
      view.source !== this.#source;
    this.#lengthMs = view.lengthMs;
    this.#edgeMs = view.edgeMs;
    if (view.limit !== null) this.#limit = view.limit;
    this.#source = view.source;
    if (!this.#resets.includes(view.edgeMs)) this.#resets = [view.edgeMs];
    return changed;
  }

  /**
   * Learns from one answer's headers: the window end from `X-RateLimit-Reset`, the budget from `X-RateLimit-Limit`,
   * and the length from the gap to earlier resets. Returns true when the length, the grid or the budget changed.
   */
  observe(info: RateLimitInfo | null): boolean {
    if (info === null) return false;
    const before = this.view();
    if (info.limit !== null && info.limit >= 1) this.#limit = Math.floor(info.limit);
    const reset = info.resetAtMs;
    if (reset !== null && Number.isFinite(reset) && reset > 0 && !this.#resets.includes(reset)) {
      this.#resets.push(reset);
      this.#resets.sort((a, b) => a - b);
      if (this.#resets.length > RESETS_KEPT) this.#resets.shift();
      let gap = Number.POSITIVE_INFINITY;
      for (let i = 1; i < this.#resets.length; i++) {
        const d = this.#resets[i]! - this.#resets[i - 1]!;
        if (d >= MIN_LEARNED_MS && d <= MAX_LEARNED_MS && d < gap) gap = d;
      }
      // A gap that is a whole multiple of a length already learned (here or adopted from another instance) only means
      // windows passed without a request: it confirms the length rather than replacing it.
      const isMultiple = before.source === "learned" && gap > before.lengthMs && isWholeMultiple(gap, before.lengthMs);
      if (Number.isFinite(gap) && !isMultiple) {
        this.#lengthMs = gap;
        this.#source = "learned";
      } else if (this.#source === "assumed") this.#source = "announced";
      this.#edgeMs = this.#resets[this.#resets.length - 1]!;
    }
    const after = this.view();
    return (
      after.lengthMs !== before.lengthMs ||
      floorMod(after.edgeMs, after.lengthMs) !== floorMod(before.edgeMs, before.lengthMs) ||
      after.limit !== before.limit ||
      after.source !== before.source
    );
  }
}

/** Whether `gap` is `length` times a whole number, to within a millisecond (resets are whole or fractional seconds). */
function isWholeMultiple(gap: number, length: number): boolean {
  const k = Math.round(gap / length);
  return k >= 1 && Math.abs(gap - k * length) <= 1;
}
