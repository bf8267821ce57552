import { describe, expect, it } from "vitest";
import { watchUnauthorized } from "../../../src/cli/commands/events.js";
import type { OutboxStatus } from "../../../src/outbound/outbox.js";
import type { SharedLimiter } from "../../../src/store/store.js";

describe("watchUnauthorized", () => {
  it("survives a failed status read, warns once, and still aborts when the token is refused", async () => {
    const answers: (() => Promise<OutboxStatus>)[] = [
      () => Promise.reject(new Error("SQLITE_BUSY: database is locked")),
      () => Promise.reject(new Error("SQLITE_BUSY: database is locked")),
      () => Promise.resolve({ state: "paused-unauthorized" } as OutboxStatus),
    ];
    const tracker = {
      resume: () => Promise.resolve(),
      status: () => (answers.shift() ?? answers[0]!)(),
    };
    const store = {
      limiter: () => ({ state: () => Promise.resolve({ pauseReason: null }) }) as unknown as SharedLimiter,
    };
    const controller = new AbortController();
    const warnings: string[] = [];
    const stop = await watchUnauthorized(tracker, store, controller, (t) => warnings.push(t));
    try {
      await new Promise<void>((resolve, reject) => {
        controller.signal.addEventListener("abort", () => resolve());
        setTimeout(() => reject(new Error("not aborted")), 3_000);
      });
    } finally {
      stop();
    }
    expect(warnings).toEqual([
      "warning: could not read the sending state (will keep trying): SQLITE_BUSY: database is locked\n",
    ]);
  });
});
