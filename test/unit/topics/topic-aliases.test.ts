/** contact.archive (the 2.5 documentation's spelling) and contact.archived (what real payloads carry) route as one topic. */
import { describe, expect, it } from "vitest";
import { createRouter } from "../../../src/core/router.js";
import { isKnownTopic, topicMatches } from "../../../src/topics/index.js";

describe("topic aliases", () => {
  it("catalogues both spellings of the archive topic", () => {
    expect(isKnownTopic("contact.archive")).toBe(true);
    expect(isKnownTopic("contact.archived")).toBe(true);
  });

  it("routes either spelling to a handler registered for the other, and to neither unrelated topic", () => {
    const r = createRouter();
    r.on("contact.archived", () => undefined, { name: "by-payload-name" });
    r.on("contact.archive", () => undefined, { name: "by-docs-name" });
    r.on("contact.unarchived", () => undefined, { name: "unarchive" });
    const names = (topic: string): string[] => r.targetsFor(topic).map((t) => t.name);
    expect(names("contact.archived")).toEqual(["by-payload-name", "by-docs-name"]);
    expect(names("contact.archive")).toEqual(["by-payload-name", "by-docs-name"]);
    expect(names("contact.unarchived")).toEqual(["unarchive"]);
  });

  it("leaves patterns as they were", () => {
    expect(topicMatches("contact.*", "contact.archive")).toBe(true);
    expect(topicMatches("contact.archived", "contact.archive")).toBe(true);
    expect(topicMatches("contact.archived", "contact.archived.x")).toBe(false);
    expect(topicMatches("contact.archive", "contact.unarchive")).toBe(false);
  });
});
