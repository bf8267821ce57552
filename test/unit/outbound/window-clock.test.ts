import { describe, expect, it } from "vitest";
import type { Clock } from "../../../src/core/clock.js";
import { createRateGate, OUTBOX_CLOCK_NOTE } from "../../../src/outbound/rate-limit.js";
import { WindowClock } from "../../../src/outbound/window-clock.js";
import { createMemoryStore } from "../../../src/store/memory/memory-store.js";

const T0 = 1_700_000_000_000;

const fakeClock = (start: number): Clock & { t: number } => {
  const c = {
    t: start,
    now: () => c.t,
    sleep: (ms: number) => {
      c.t += ms;
      return Promise.resolve();
    },
  };
  return c;
};
const signal = new AbortController().signal;
const rl = (limit: number, remaining: number, resetAtMs: number) => ({ limit, remaining, resetAtMs });

describe("WindowClock", () => {
  it("starts on the configured length at epoch multiples", () => {
    const clock = new WindowClock(10_000);
    expect(clock.source).toBe("assumed");
    expect(clock.windowAt(T0 + 3_500)).toEqual({ startMs: T0, endMs: T0 + 10_000 });
  });

  it("puts the window end where X-RateLimit-Reset says, keeping the assumed length until a gap is seen", () => {
    const clock = new WindowClock(10_000);
    expect(clock.observe(rl(50, 49, T0 + 1_000))).toBe(true);
    expect(clock.source).toBe("announced");
    expect(clock.limit).toBe(50);
    expect(clock.windowAt(T0 + 500)).toEqual({ startMs: T0 - 9_000, endMs: T0 + 1_000 });
  });

  it("learns the length from the gap between successive resets, the shortest one winning", () => {
    const clock = new WindowClock(10_000);
    clock.observe(rl(50, 49, T0 + 1_000));
    clock.observe(rl(50, 49, T0 + 5_000)); // two windows later (nothing sent in between)
    expect(clock.lengthMs).toBe(4_000);
    clock.observe(rl(50, 10, T0 + 7_000));
    expect(clock.source).toBe("learned");
    expect(clock.lengthMs).toBe(2_000);
    expect(clock.windowAt(T0 + 7_500)).toEqual({ startMs: T0 + 7_000, endMs: T0 + 9_000 });
    // The same reset again changes nothing.
    expect(clock.observe(rl(50, 9, T0 + 7_000))).toBe(false);
  });

  it("learns a window longer than assumed", () => {
    const clock = new WindowClock(2_000);
    clock.observe(rl(167, 100, T0 + 3_000));
    clock.observe(rl(167, 166, T0 + 13_000));
    expect(clock.lengthMs).toBe(10_000);
    expect(clock.windowAt(T0 + 12_000)).toEqual({ startMs: T0 + 3_000, endMs: T0 + 13_000 });
  });

  it("adopts a shared view only when it knows more", () => {
    const clock = new WindowClock(10_000);
    expect(clock.adopt({ lengthMs: 2_000, edgeMs: T0 + 1_000, limit: 50, source: "learned" })).toBe(true);
    expect(clock.lengthMs).toBe(2_000);
    expect(clock.adopt({ lengthMs: 10_000, edgeMs: T0, limit: 9, source: "announced" })).toBe(false);
    expect(clock.limit).toBe(50);
  });

  it("keeps a learned length when the next reset comes whole windows later (windows passed without a request)", () => {
    const clock = new WindowClock(10_000);
    clock.adopt({ lengthMs: 1_000, edgeMs: T0 + 1_000, limit: 20, source: "learned" });
    clock.observe(rl(20, 19, T0 + 3_000));
    expect(clock.lengthMs).toBe(1_000);
    expect(clock.windowAt(T0 + 2_500)).toEqual({ startMs: T0 + 2_000, endMs: T0 + 3_000 });
    // A shorter gap still corrects a length learned too long.
    clock.observe(rl(20, 19, T0 + 3_500));
    expect(clock.lengthMs).toBe(500);
  });
});

describe("createRateGate on Intercom's clock", () => {
  it("lets one request through before the first headers, then paces to the announced budget", async () => {
    const clock = fakeClock(T0 + 100);
    const store = createMemoryStore({ clock });
    const gate = createRateGate({ limiter: store.limiter("t"), clock, initialPerWindow: 1_666, windowMs: 10_000 });
    await gate.acquire(signal);
    let second = false;
    const pending = gate.acquire(signal).then(() => (second = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(second).toBe(false);
    // The server allows 2 per 2-s window and this one was the first of its window.
    await gate.observe(rl(2, 1, T0 + 2_000), 0);
    await pending;
    expect(gate.perWindow).toBe(2);
    // The budget of the server's window is used up: the next unit comes from the next window, at the reset.
    await gate.acquire(signal);
    expect(clock.t).toBeGreaterThanOrEqual(T0 + 2_000);
    expect(clock.t).toBeLessThan(T0 + 2_100);
    await store.close();
  });

  it("aligns the shared windows to the server's reset and takes the server's count of the first window", async () => {
    const clock = fakeClock(T0 + 100);
    const store = createMemoryStore({ clock });
    const limiter = store.limiter("t");
    const gate = createRateGate({ limiter, clock, initialPerWindow: 100, windowMs: 10_000 });
    await gate.acquire(signal);
    // Windows end at T0 + 700 + k * 10 s on the server; 3 requests (ours included) were counted there already.
    await gate.observe(rl(5, 2, T0 + 700), 0);
    await gate.acquire(signal);
    await gate.acquire(signal);
    const state = await limiter.state();
    expect(state.windowStart).toBe(T0 + 700 - 10_000);
    expect(state.used).toBe(5);
    expect(clock.t).toBe(T0 + 100);
    await gate.acquire(signal);
    expect(clock.t).toBe(T0 + 700);
    await store.close();
  });

  it("shares what it learned with a second instance on the same store, which then skips the first burst", async () => {
    const clock = fakeClock(T0 + 100);
    const store = createMemoryStore({ clock });
    const a = createRateGate({
      limiter: store.limiter("t"),
      clockNote: store.limiter(OUTBOX_CLOCK_NOTE),
      clock,
      initialPerWindow: 100,
      windowMs: 10_000,
    });
    await a.acquire(signal);
    await a.observe(rl(50, 49, T0 + 2_000), 0);
    clock.t = T0 + 2_100;
    await a.acquire(signal);
    await a.observe(rl(50, 49, T0 + 4_000), 0);
    expect(a.windowMs).toBe(2_000);
    const b = createRateGate({
      limiter: store.limiter("t"),
      clockNote: store.limiter(OUTBOX_CLOCK_NOTE),
      clock,
      initialPerWindow: 100,
      windowMs: 10_000,
    });
    await b.acquire(signal);
    await b.acquire(signal); // no wait for headers: the note said what the server announced
    expect(b.windowMs).toBe(2_000);
    expect(b.windowSource).toBe("learned");
    expect(b.perWindow).toBe(50);
    await store.close();
  });

  it("stops waiting for headers after a few answers without them", async () => {
    const clock = fakeClock(T0);
    const store = createMemoryStore({ clock });
    const gate = createRateGate({ limiter: store.limiter("t"), clock, initialPerWindow: 100, windowMs: 10_000 });
    for (let i = 0; i < 3; i++) {
      await gate.acquire(signal);
      await gate.observe(null, 0);
    }
    await Promise.all([gate.acquire(signal), gate.acquire(signal), gate.acquire(signal)]);
    expect(gate.windowSource).toBe("assumed");
    await store.close();
  });
});
