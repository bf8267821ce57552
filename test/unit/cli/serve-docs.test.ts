/**
 * docs/serve.md cannot drift from the code: every option `serve` accepts (read from the CLI's own definition) has a
 * row in its flag tables naming the flag and its environment variable, and every metric the service registers is in
 * its metrics table. A new flag or metric fails here until it is documented.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Option } from "commander";
import { describe, expect, it } from "vitest";
import { createProgram } from "../../../src/cli/main.js";
import { createMetrics } from "../../../src/service/metrics.js";
import { createMemoryStore } from "../../../src/store/memory/memory-store.js";

const ROOT = join(import.meta.dirname, "../../..");
const doc = readFileSync(join(ROOT, "docs/serve.md"), "utf8");
const rows = doc.split("\n").filter((l) => l.startsWith("| `"));

function serveOptions(): readonly Option[] {
  const serve = createProgram().commands.find((c) => c.name() === "serve");
  if (!serve) throw new Error("no serve command");
  return (serve as unknown as { options: readonly Option[] }).options;
}

describe("docs/serve.md", () => {
  const options = serveOptions().filter((o) => o.long !== "--help");

  it("reads serve's options from the CLI", () => {
    expect(options.length).toBeGreaterThan(20);
  });

  it.each(options.map((o) => [o.long!, o] as const))("documents %s with its environment variable", (flag, option) => {
    const row = rows.find((r) => r.startsWith(`| \`${flag}\``));
    expect(row, `docs/serve.md has no table row for ${flag}`).toBeDefined();
    if (option.envVar) expect(row, `the row of ${flag} should name ${option.envVar}`).toContain(`\`${option.envVar}\``);
  });

  it("documents every metric the service registers", async () => {
    const store = createMemoryStore();
    const names = (await createMetrics(store).registry.getMetricsAsJSON()).map((m) => m.name);
    await store.close();
    // Metrics registered elsewhere (the outbound plugin), found by name in the sources.
    const sources = readdirSync(join(ROOT, "src"), { recursive: true, encoding: "utf8" }).filter((f) =>
      f.endsWith(".ts"),
    );
    for (const file of sources) {
      for (const [, name] of readFileSync(join(ROOT, "src", file), "utf8").matchAll(/name: "(intercom_bridge_\w+)"/g))
        names.push(name!);
    }
    const own = [...new Set(names)].filter((n) => n.startsWith("intercom_bridge_"));
    expect(own.length).toBeGreaterThan(8);
    for (const name of own)
      expect(
        rows.some((r) => r.startsWith(`| \`${name}\``)),
        `${name} in docs/serve.md`,
      ).toBe(true);
    // Node.js process metrics keep their standard names.
    expect(names).toContain("process_cpu_seconds_total");
    expect(names.some((n) => n.startsWith("intercom_bridge_process_"))).toBe(false);
  });
});
