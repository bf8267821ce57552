import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeBackoff, DEFAULT_MAX_DELAY_MS } from "../../../src/delivery/backoff.js";
import type { BackoffSpec } from "../../../src/delivery/types.js";

const mid = (): number => 0.5; // jitter factor 1 - j + 2j*0.5 = 1: no jitter
const low = (): number => 0; // the lowest jitter: 1 - j
const high = (): number => 0.999999; // just under the highest: 1 + j

describe("computeBackoff", () => {
  describe("exponential", () => {
    const spec: BackoffSpec = { type: "exponential", delayMs: 1000, jitter: 0.2 };

    it("doubles per attempt from delayMs (BullMQ semantics: attempt 1 → delayMs)", () => {
      expect([1, 2, 3, 4, 5].map((a) => computeBackoff(spec, a, mid))).toEqual([1000, 2000, 4000, 8000, 16000]);
    });

    it("applies ± jitter around the delay", () => {
      expect(computeBackoff(spec, 3, low)).toBe(3200);
      expect(computeBackoff(spec, 3, high)).toBe(4800);
    });

    it("caps at maxDelayMs, after jitter", () => {
      expect(computeBackoff({ ...spec, maxDelayMs: 5000 }, 10, high)).toBe(5000);
      expect(computeBackoff({ ...spec, maxDelayMs: 5000 }, 3, high)).toBe(4800);
    });

    it("caps at 1 hour by default, even for huge attempt numbers", () => {
      expect(DEFAULT_MAX_DELAY_MS).toBe(3_600_000);
      expect(computeBackoff(spec, 40, mid)).toBe(3_600_000);
      expect(computeBackoff(spec, 10_000, mid)).toBe(3_600_000);
      expect(computeBackoff(spec, Number.MAX_SAFE_INTEGER, low)).toBe(3_600_000);
    });
  });

  describe("fixed", () => {
    it("keeps delayMs for every attempt", () => {
      const spec: BackoffSpec = { type: "fixed", delayMs: 250, jitter: 0 };
      expect([1, 2, 10, 100].map((a) => computeBackoff(spec, a, high))).toEqual([250, 250, 250, 250]);
    });

    it("still jitters and caps", () => {
      expect(computeBackoff({ type: "fixed", delayMs: 1000, jitter: 0.5 }, 7, low)).toBe(500);
      expect(computeBackoff({ type: "fixed", delayMs: 1000, jitter: 0.5, maxDelayMs: 1200 }, 7, high)).toBe(1200);
    });
  });

  it("defaults jitter to 0.2", () => {
    expect(computeBackoff({ type: "fixed", delayMs: 1000 }, 1, low)).toBe(800);
    expect(computeBackoff({ type: "fixed", delayMs: 1000 }, 1, high)).toBe(1200);
  });

  it("clamps jitter into [0, 1]", () => {
    expect(computeBackoff({ type: "fixed", delayMs: 1000, jitter: 5 }, 1, low)).toBe(0);
    expect(computeBackoff({ type: "fixed", delayMs: 1000, jitter: -1 }, 1, low)).toBe(1000);
  });

  it("treats attempt numbers below 1 and fractions as attempt 1 / floor", () => {
    const spec: BackoffSpec = { type: "exponential", delayMs: 100, jitter: 0 };
    expect(computeBackoff(spec, 0)).toBe(100);
    expect(computeBackoff(spec, -5)).toBe(100);
    expect(computeBackoff(spec, 2.9)).toBe(200);
  });

  it("returns whole milliseconds", () => {
    expect(computeBackoff({ type: "fixed", delayMs: 333, jitter: 0.1 }, 1, () => 0.123)).toBe(
      Math.round(333 * (0.9 + 0.2 * 0.123)),
    );
  });

  it("uses Math.random when no random function is given", () => {
    const spec: BackoffSpec = { type: "fixed", delayMs: 1000, jitter: 0.2 };
    const values = Array.from({ length: 50 }, () => computeBackoff(spec, 1));
    for (const v of values) {
      expect(v).toBeGreaterThanOrEqual(800);
      expect(v).toBeLessThanOrEqual(1200);
    }
    expect(new Set(values).size).toBeGreaterThan(1);
  });

  it("always stays within [0, cap] and within the jitter band (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<"fixed" | "exponential">("fixed", "exponential"),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 100_000_000 }),
        fc.integer({ min: -3, max: 2000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (type, delayMs, jitter, maxDelayMs, attempt, r) => {
          const d = computeBackoff({ type, delayMs, jitter, maxDelayMs }, attempt, () => r);
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(maxDelayMs);
          const n = Math.max(1, Math.floor(attempt));
          const base = type === "fixed" ? delayMs : delayMs * 2 ** Math.min(n - 1, 52);
          expect(d).toBeLessThanOrEqual(Math.max(0, Math.min(maxDelayMs, Math.round(base * (1 + jitter)))));
          expect(d).toBeGreaterThanOrEqual(Math.min(maxDelayMs, Math.round(base * (1 - jitter))) - 1);
        },
      ),
    );
  });

  it("never decreases from one attempt to the next without jitter (exponential)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 60 }), (delayMs, attempt) => {
        const spec: BackoffSpec = { type: "exponential", delayMs, jitter: 0 };
        expect(computeBackoff(spec, attempt + 1)).toBeGreaterThanOrEqual(computeBackoff(spec, attempt));
      }),
    );
  });
});
