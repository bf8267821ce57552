import { describe, expect, it } from "vitest";
import { etaText } from "../../../src/cli/commands/events.js";

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
