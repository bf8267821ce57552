import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { etaText, makeProgress } from "../../../src/cli/commands/events.js";

describe("etaText (import progress bar)", () => {
  it("shows nothing until some events were sent, and nothing once none remain", () => {
    expect(etaText(0, 5_000, 100)).toBe("");
    expect(etaText(10, 0, 100)).toBe("");
    expect(etaText(100, 5_000, 0)).toBe("");
  });

  it("extrapolates the sending rate so far", () => {
    expect(etaText(10, 1_000, 30)).toBe(" | eta 3s");
    expect(etaText(250, 1_000, 16_250)).toBe(" | eta 1m05s");
    expect(etaText(1, 1_000, 7_260)).toBe(" | eta 2h01m");
  });
});

/** A terminal that keeps what is written to it. */
class FakeTerminal extends Writable {
  readonly isTTY = true;
  readonly columns = 120;
  text = "";
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe("makeProgress", () => {
  it("draws the sending ETA in the terminal bar", () => {
    const stream = new FakeTerminal();
    let t = 0;
    const progress = makeProgress(40, { stream, now: () => t });
    progress.update({ phase: "storing", done: 40, total: 40 });
    progress.update({ phase: "sending", done: 0, total: 40 });
    t = 1_000;
    progress.update({ phase: "sending", done: 10, total: 40 });
    progress.stop();
    expect(stream.text).toMatch(/sending \[[^\]]*\] 10\/40 25% \| eta 3s/);
  });

  it("writes plain progress lines when stderr is not a terminal", () => {
    const stream = Object.assign(new FakeTerminal(), { isTTY: false });
    let t = 10_000;
    const progress = makeProgress(2, { stream, now: () => t });
    progress.update({ phase: "sending", done: 1, total: 2 });
    t = 10_500;
    progress.update({ phase: "sending", done: 2, total: 2 });
    progress.stop();
    expect(stream.text).toBe("progress sending: 1/2\nprogress sending: 2/2\n");
  });
});
