/**
 * describeError: what a delivery records about a thrown value — name, code (Intercom's own when it answered), message
 * and a truncated stack, which the dashboard's detail view shows.
 */
import { describe, expect, it } from "vitest";
import {
  describeError,
  IntercomApiError,
  MAX_STACK_CHARS,
  MAX_STACK_FRAMES,
  RateLimitedError,
  RetryLaterError,
  UnrecoverableError,
} from "../../../src/core/errors.js";

/** An error thrown `depth` calls deep, with V8 capturing every frame (it keeps 10 by default). */
function deepError(depth: number): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 100;
  try {
    const recurse = (n: number): Error => (n === 0 ? new Error("deep down") : recurse(n - 1));
    return recurse(depth);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

describe("describeError", () => {
  it("keeps the stack frames, without the message line", () => {
    const d = describeError(new TypeError("x is not a function"));
    expect(d).toMatchObject({ name: "TypeError", message: "x is not a function" });
    expect(d.stack).toMatch(/^\s+at .*errors\.test\.ts/);
    expect(d.stack).not.toContain("x is not a function");
  });

  it(`keeps at most ${MAX_STACK_FRAMES} frames and says how many it left out`, () => {
    const error = deepError(30);
    const frames = error.stack!.split("\n").filter((l) => /^\s*at /.test(l)).length;
    const lines = describeError(error).stack!.split("\n");
    expect(lines).toHaveLength(MAX_STACK_FRAMES + 1);
    expect(lines.at(-1)).toBe(`    … ${frames - MAX_STACK_FRAMES} more frames`);
  });

  it(`caps the stack at ${MAX_STACK_CHARS} characters, each frame at 300`, () => {
    const error = new Error("long");
    error.stack = `Error: long\n${Array.from({ length: 40 }, (_, i) => `    at f${i} (${"/very/long/path".repeat(30)}.js:1:1)`).join("\n")}`;
    const stack = describeError(error).stack!;
    expect(stack.length).toBeLessThanOrEqual(MAX_STACK_CHARS + 40);
    for (const line of stack.split("\n")) expect(line.length).toBeLessThanOrEqual(300);
    expect(stack).toMatch(/… \d+ more frames$/);
  });

  it("keeps no stack for waits, none for non-errors, and Intercom's code when it answered", () => {
    expect(describeError(new RetryLaterError(1_000)).stack).toBeUndefined();
    expect(describeError(new RateLimitedError(1_000, "Outbox paused for 1000 ms")).stack).toBeUndefined();
    expect(describeError("boom")).toEqual({ name: "NonError", message: "boom" });
    const wrapped = describeError(
      new UnrecoverableError("Intercom 404", {
        cause: new IntercomApiError(404, "User Not Found", { intercomCode: "not_found" }),
      }),
    );
    expect(wrapped).toMatchObject({ name: "UnrecoverableError", code: "not_found", message: "Intercom 404" });
    expect(wrapped.stack).toMatch(/^\s+at /);
  });
});
