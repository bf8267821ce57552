/**
 * `intercom-bridge topics [pattern]`: the topic catalogue this version knows (topic, item type, description, and
 * whether Intercom lists it as legacy or preview), filtered by a pattern (`conversation.*`, a topic, or a substring).
 */
import type { Command } from "commander";
import { topicCatalogue, topicMatches, topicNames, type TopicCatalogueEntry } from "../../topics/index.js";
import { alignColumns } from "../table.js";

/** One catalogue row as `topics --json` prints it. */
export interface TopicRow {
  topic: string;
  item: string | null;
  description: string;
  status: "current" | "legacy" | "preview";
}

/** The catalogue rows matching `pattern` (`group.*`, `*`, an exact topic, or any substring); every row without one. */
export function catalogueRows(pattern?: string): TopicRow[] {
  const catalogue = topicCatalogue as unknown as Record<string, TopicCatalogueEntry>;
  return topicNames
    .filter((t) => pattern === undefined || topicMatches(pattern, t) || (!pattern.includes("*") && t.includes(pattern)))
    .map((topic) => {
      const e = catalogue[topic]!;
      return {
        topic,
        item: e.item,
        description: e.description,
        status: e.legacy ? "legacy" : e.preview ? "preview" : "current",
      };
    });
}

/** Registers `topics`. */
export function registerTopicsCommand(program: Command): void {
  program
    .command("topics [pattern]")
    .summary("list the Intercom topics handlers and forwards can name")
    .description(
      "List the webhook topics this version knows: topic, item type, description, and whether Intercom lists it as legacy (API 1.x) or preview.\n" +
        "Filter with a pattern: an exact topic, group.* (e.g. conversation.*), or any part of a name (e.g. tag).\n" +
        'A handler key outside this list still receives that exact topic; "*" receives every notification.',
    )
    .option("--json", "print JSON (an array of { topic, item, description, status })")
    .action((pattern: string | undefined, flags: { json?: boolean }) => {
      const rows = catalogueRows(pattern);
      if (flags.json) {
        process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
        return;
      }
      if (rows.length === 0) {
        process.stdout.write(`No topic matches "${pattern}".\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(
        alignColumns([
          ["TOPIC", "ITEM", "STATUS", "DESCRIPTION"],
          ...rows.map((r) => [r.topic, r.item ?? "-", r.status, r.description]),
        ]),
      );
    });
}
