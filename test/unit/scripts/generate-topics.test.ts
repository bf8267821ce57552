import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  createTypeRenderer,
  generate,
  pascalCase,
  readCatalogue,
  renderTopicNames,
  schemaClosure,
  GENERATED_HEADER,
} from "../../../scripts/generate-topics.js";
import { isKnownTopic, topicCatalogue, topicNames } from "../../../src/topics/index.js";

const entry = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  topic: "ping",
  item: "ping",
  shape: "Ping",
  source: "docs",
  description: "A test ping.",
  ...over,
});
const yamlOf = (topics: unknown[]): string =>
  JSON.stringify({ topics, openapi: { file: "x.yaml", schemas: ["admin"] } });

describe("generate-topics", () => {
  it("produces exactly the committed files (the check:generated contract)", () => {
    for (const [path, contents] of generate()) {
      expect(readFileSync(path, "utf8"), path).toBe(contents);
      expect(contents.startsWith(GENERATED_HEADER + "\n")).toBe(true);
    }
  });

  it("lists every documented topic, the captured spelling and the legacy ones", () => {
    // 123 topics Intercom sends (contact.archive included), plus the 3 synthetic reconcile.* ones.
    expect(topicNames).toHaveLength(126);
    expect(topicNames.filter((t) => topicCatalogue[t].source === "intercom-bridge")).toEqual([
      "reconcile.conversation",
      "reconcile.contact",
      "reconcile.ticket",
    ]);
    const docs = topicNames.filter((t) => topicCatalogue[t].source === "docs");
    expect(docs).toHaveLength(106); // the current 2.x table (facts §1.8)
    expect(topicNames.filter((t) => "preview" in topicCatalogue[t])).toHaveLength(9);
    for (const t of [
      "contact.archive",
      "contact.unarchive",
      "contact.unarchived",
      "ping",
      "conversation.admin.replied.translated",
      "ticket.admin.replied.translated",
      "user.tag.created",
      "content_stat.series.webhook",
    ]) {
      expect(isKnownTopic(t), t).toBe(true);
    }
    expect(topicCatalogue["contact.unarchived"].source).toBe("capture");
    expect(topicCatalogue["contact.archive"].source).toBe("docs-2.5");
    expect(topicCatalogue["company.contact.attached"].item).toBeNull();
    expect(topicCatalogue["ticket.admin.replied"].item).toBe("ticket_ticket_part");
    expect(topicCatalogue["user.created"]).toMatchObject({ legacy: true, source: "docs-1.x" });
    expect(new Set(topicNames).size).toBe(topicNames.length);
  });

  describe("readCatalogue", () => {
    it("accepts a valid entry and keeps its flags", () => {
      const c = readCatalogue(yamlOf([entry({ preview: true })]));
      expect(c.topics[0]).toEqual({
        topic: "ping",
        item: "ping",
        shape: "Ping",
        source: "docs",
        description: "A test ping.",
        preview: true,
        legacy: false,
      });
    });

    it.each([
      ["a duplicate topic", [entry(), entry()], /duplicate topic/],
      ["a bad topic", [entry({ topic: "Bad Topic" })], /topic must match/],
      ["a non-string item", [entry({ item: 3 })], /item must be a string or null/],
      ["a bad shape", [entry({ shape: "lower" })], /shape must be a PascalCase/],
      ["an unknown source", [entry({ source: "blog" })], /source must be one of/],
      ["a multi-line description", [entry({ description: "a\nb" })], /one non-empty line/],
      ["a non-true flag", [entry({ legacy: false })], /legacy must be true or absent/],
      ["an unknown key", [entry({ colour: "red" })], /unknown key colour/],
    ])("rejects %s", (_name, topics, message) => {
      expect(() => readCatalogue(yamlOf(topics))).toThrow(message);
    });

    it("rejects a document without topics", () => {
      expect(() => readCatalogue("openapi: {}")).toThrow(/topics/);
    });
  });

  it("renders null items and flags", () => {
    const out = renderTopicNames(readCatalogue(yamlOf([entry({ topic: "a.b", item: null, legacy: true })])));
    expect(out).toContain(
      '"a.b": { item: null, shape: "Ping", description: "A test ping.", source: "docs", legacy: true },',
    );
    expect(out).toContain('export const topicNames = [\n  "a.b",\n] as const;');
  });

  describe("OpenAPI rendering", () => {
    const all = {
      thing: {
        type: "object",
        description: "A thing.",
        properties: {
          id: { type: "string" },
          state: { type: "string", enum: ["open", "closed"] },
          owner: { $ref: "#/components/schemas/owner" },
          tags: { type: "array", items: { $ref: "#/components/schemas/tag" } },
          "odd key": { type: "integer", nullable: true },
          value: {
            oneOf: [
              { type: "string", nullable: true },
              { type: "array", items: { type: "integer" } },
            ],
          },
          attrs: { type: "object", additionalProperties: { type: "string" } },
        },
      },
      owner: { type: "object", nullable: true, properties: { name: { type: "string" } } },
      tag: { allOf: [{ $ref: "#/components/schemas/owner" }], properties: { colour: { type: "string" } } },
      unused: { type: "object" },
    };

    it("follows references transitively and sorts", () => {
      expect(schemaClosure(all, ["thing"])).toEqual(["owner", "tag", "thing"]);
      expect(() => schemaClosure(all, ["missing"])).toThrow(/not found/);
    });

    it("makes every field optional and nullable, enums open and maps unknown", () => {
      const out = createTypeRenderer(all).renderNamed("thing");
      expect(out).toContain("export interface Thing {");
      expect(out).toContain("  id?: string | null;");
      expect(out).toContain('  state?: OpenString<"open" | "closed"> | null;');
      expect(out).toContain("  owner?: Owner | null;");
      expect(out).toContain("  tags?: Array<Tag> | null;");
      expect(out).toContain('  "odd key"?: number | null;');
      expect(out).toContain("  value?: string | Array<number> | null;");
      expect(out).toContain("  attrs?: { [key: string]: unknown } | null;");
      expect(out).toContain("  [key: string]: unknown;\n}");
      expect(createTypeRenderer(all).renderNamed("tag")).toContain("export type Tag = (Owner | null) & {");
    });

    it("names schemas in PascalCase", () => {
      expect(pascalCase("conversation_part")).toBe("ConversationPart");
      expect(pascalCase("api.request.completed")).toBe("ApiRequestCompleted");
    });
  });
});
