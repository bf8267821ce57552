import { describe, expect, it } from "vitest";
import {
  acquireFixedWindow,
  EMPTY_WINDOW,
  pauseFixedWindow,
  viewFixedWindow,
  type FixedWindowState,
} from "../../../src/store/shared/fixed-window.js";
import { FIXED_WINDOW_CASES } from "./fixed-window.cases.js";

/** A multiple of every window length in the table. */
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);

describe("fixed-window limiter (the table every store's limiter follows)", () => {
  it.each(FIXED_WINDOW_CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    let state: FixedWindowState = { ...EMPTY_WINDOW };
    for (const step of c.steps) {
      const now = T0 + step.at;
      if ("acquire" in step) {
        const r = acquireFixedWindow(
          state,
          step.acquire.max,
          step.acquire.windowMs,
          now,
          T0 + (step.acquire.originMs ?? 0),
        );
        expect({ at: step.at, wait: r.waitMs }).toEqual({ at: step.at, wait: step.wait });
        state = r.state;
      } else if ("pauseUntil" in step) {
        state = pauseFixedWindow(state, T0 + step.pauseUntil, step.reason);
      } else {
        const view = viewFixedWindow(state, now);
        expect({ used: view.used, paused: view.pausedUntil !== null }).toEqual(step.state);
      }
    }
  });

  it("reports the reason of the pause in force and forgets it once the pause ended", () => {
    const paused = pauseFixedWindow(EMPTY_WINDOW, T0 + 1000, "429 from Intercom");
    expect(viewFixedWindow(paused, T0)).toMatchObject({ pausedUntil: T0 + 1000, pauseReason: "429 from Intercom" });
    expect(viewFixedWindow(paused, T0 + 1000)).toMatchObject({ pausedUntil: null, pauseReason: null });
  });
});
