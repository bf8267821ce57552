/**
 * The `intercom-bridge/dashboard` entry as docs/dashboard-api.md shows it: the `example=dashboard` block is extracted,
 * its `intercom-bridge` imports are pointed at the sources the package entries are built from, type-checked as
 * written, and run with tsx; the test then signs in to the pages and API under the documented prefix.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rewriteImports, ROOT, TSX, typecheckExamples } from "../helpers/doc-examples.js";
import { freePort } from "../helpers/serve-process.js";

// Inside the repository (test-output/ is git-ignored) so the example resolves fastify from node_modules.
const OUT = join(ROOT, "test-output", "dashboard-entry");
const TOKEN = "dashboard-entry-token";

const markdown = readFileSync(join(ROOT, "docs/dashboard-api.md"), "utf8");
const example = /^```ts example=dashboard\n([\s\S]*?)^```$/m.exec(markdown)?.[1];

describe("the intercom-bridge/dashboard entry as documented", { timeout: 120_000 }, () => {
  it("is documented with an example that imports it", () => {
    expect(example).toContain('from "intercom-bridge/dashboard"');
  });

  it("type-checks the example as written (strict, with the package's types)", async () => {
    const result = await typecheckExamples(join(OUT, "typecheck"), { dashboard: example! });
    expect(result).toBe("");
  });

  it("runs the example: pages and API under /ops, the API behind the token", async () => {
    mkdirSync(OUT, { recursive: true });
    const file = join(OUT, "dashboard.ts");
    writeFileSync(file, rewriteImports(example!, OUT));
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", TSX, file], {
      cwd: OUT,
      env: { ...process.env, PORT: String(port), INTERCOM_BRIDGE_ADMIN_TOKEN: TOKEN },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const base = `http://127.0.0.1:${port}/ops`;
    try {
      const deadline = Date.now() + 30_000;
      let page: Response | undefined;
      while (!page) {
        if (child.exitCode !== null) throw new Error(`example exited (${child.exitCode}):\n${out}`);
        if (Date.now() > deadline) throw new Error(`example did not listen:\n${out}`);
        page = await fetch(`${base}/dashboard/`).catch(() => undefined);
        if (!page) await new Promise((r) => setTimeout(r, 100));
      }
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script type="module" src="app.js"></script>');
      expect((await fetch(`${base}/api/session`)).status).toBe(401);
      const session = await fetch(`${base}/api/session`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(await session.json()).toEqual({ authenticated: true, store: "memory" });
    } finally {
      child.kill("SIGTERM");
      if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
    }
  });
});
