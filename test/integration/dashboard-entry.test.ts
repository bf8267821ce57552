/**
 * The `intercom-bridge/dashboard` entry as docs/dashboard-api.md shows it: the `example=dashboard` block is extracted,
 * its `intercom-bridge` imports are pointed at the sources the package entries are built from, type-checked as
 * written, and run with tsx; the test then signs in to the pages and API under the documented prefix.
 */
import { execFile, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { freePort } from "../helpers/serve-process.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
// Inside the repository (test-output/ is git-ignored) so the example resolves fastify from node_modules.
const OUT = join(ROOT, "test-output", "dashboard-entry");
const TSX = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;
const TOKEN = "dashboard-entry-token";
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  exports: Record<string, string | { default: string }>;
};

/** `intercom-bridge/dashboard` → `../../src/dashboard/index.js`, from the package.json entry; throws when absent. */
function rewriteImports(code: string): string {
  return code.replace(/from\s+"intercom-bridge((?:\/[\w-]+)?)"/g, (_m, sub: string) => {
    const entry = pkg.exports[sub === "" ? "." : `.${sub}`];
    if (entry === undefined || typeof entry === "string") throw new Error(`package.json does not export ${sub}`);
    const source = join(ROOT, entry.default.replace(/^\.\/dist\//, "src/"));
    return `from "${relative(OUT, source).split(sep).join("/")}"`;
  });
}

const markdown = readFileSync(join(ROOT, "docs/dashboard-api.md"), "utf8");
const example = /^```ts example=dashboard\n([\s\S]*?)^```$/m.exec(markdown)?.[1];

describe("the intercom-bridge/dashboard entry as documented", { timeout: 120_000 }, () => {
  it("is documented with an example that imports it", () => {
    expect(example).toContain('from "intercom-bridge/dashboard"');
  });

  it("type-checks the example as written (strict, with the package's types)", async () => {
    const dir = join(OUT, "typecheck");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "dashboard.ts"), rewriteImports(example!).replaceAll('"../', '"../../'));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        extends: relative(dir, join(ROOT, "tsconfig.json")),
        compilerOptions: { noEmit: true, moduleDetection: "force" },
        include: ["*.ts"],
      }),
    );
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    const result = await promisify(execFile)(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], {
      cwd: ROOT,
    }).then(
      () => "",
      (error: Error & { stdout?: string }) => error.stdout || error.message,
    );
    expect(result).toBe("");
  });

  it("runs the example: pages and API under /ops, the API behind the token", async () => {
    mkdirSync(OUT, { recursive: true });
    const file = join(OUT, "dashboard.ts");
    writeFileSync(file, rewriteImports(example!));
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
