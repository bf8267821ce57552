import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  exports: Record<string, string | { types?: string; default?: string }>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

/** Packages no entry may load unless the table below allows it: frameworks, drivers and service-only dependencies. */
const HEAVY = [
  "express",
  "fastify",
  "hono",
  "@hono/node-server",
  "better-sqlite3",
  "bullmq",
  "ioredis",
  "pg",
  "pino",
  "prom-client",
  "commander",
  "intercom-client",
] as const;
/** What each subpath exists to load (the Redis store spools to SQLite during a Redis outage; the PostgreSQL one loads pg). */
const ALLOWED: Record<string, readonly string[]> = {
  "./sqlite": ["better-sqlite3"],
  "./redis": ["bullmq", "ioredis", "better-sqlite3"],
  "./postgres": ["pg"],
};
/** Loaded by the tsx loader this test runs the sources with, not by intercom-bridge. */
const LOADER_PACKAGES = new Set(["tsx", "esbuild", "get-tsconfig", "resolve-pkg-maps"]);

const dir = mkdtempSync(join(tmpdir(), "ib-entry-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Records every module URL the ESM loader resolves (CJS packages are entered through it too when imported from ESM).
const HOOK = join(dir, "record-hook.mjs");
writeFileSync(
  HOOK,
  `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.IB_LOAD_LOG, result.url + "\\n");
  return result;
}
`,
);

/**
 * Imports `specifier` in a fresh Node process (sources through tsx) and returns the npm packages it loaded, from the
 * loader's resolve log and from `require.cache` (what CommonJS packages require internally).
 */
async function packagesLoadedBy(specifier: string): Promise<{ packages: string[]; exportNames: string[] }> {
  const log = join(dir, `load-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, "");
  const script = `
import { register, createRequire } from "node:module";
register(${JSON.stringify(pathToFileURL(HOOK).href)});
const mod = await import(${JSON.stringify(specifier)});
const cjs = Object.keys(createRequire(import.meta.url).cache);
process.stdout.write(JSON.stringify({ cjs, exportNames: Object.keys(mod) }));
`;
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: ROOT,
    env: { ...process.env, IB_LOAD_LOG: log },
  });
  const out = JSON.parse(stdout) as { cjs: string[]; exportNames: string[] };
  const files = [
    ...readFileSync(log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((u) => (u.startsWith("file:") ? fileURLToPath(u) : u)),
    ...out.cjs,
  ];
  const packages = new Set<string>();
  for (const file of files) {
    const m = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/](?!.*[\\/]node_modules[\\/])/.exec(file);
    const name = m?.[1]?.replace(/\\/g, "/");
    if (name && !LOADER_PACKAGES.has(name) && !name.startsWith("@esbuild/")) packages.add(name);
  }
  return { packages: [...packages].sort(), exportNames: out.exportNames };
}

/** `./dist/http/express.js` → `<root>/src/http/express.ts` */
function sourceOf(distPath: string): string {
  return join(ROOT, distPath.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts"));
}

const subpaths = Object.entries(pkg.exports).filter(([key]) => key !== "./package.json");
/** Entries imported by the load check: `./testing` defines vitest suites, so it only loads inside a vitest run. */
const loadable = subpaths.filter(([key]) => key !== "./testing");

describe("package entries", { timeout: 60_000 }, () => {
  it("lists types first and points every entry at a built file with a source", () => {
    for (const [key, entry] of subpaths) {
      expect(typeof entry, key).toBe("object");
      const e = entry as { types: string; default: string };
      expect(Object.keys(e), key).toEqual(["types", "default"]);
      expect(e.default, key).toMatch(/^\.\/dist\/.+\.js$/);
      expect(e.types, key).toBe(e.default.replace(/\.js$/, ".d.ts"));
      expect(existsSync(sourceOf(e.default)), `${key} → ${sourceOf(e.default)}`).toBe(true);
    }
    for (const key of [".", "./node", "./express", "./fastify", "./web", "./hono"])
      expect(pkg.exports).toHaveProperty([key]);
  });

  it("declares the frameworks and the PostgreSQL driver as optional peer dependencies", () => {
    for (const name of ["express", "fastify", "hono", "pg"]) {
      expect(pkg.peerDependencies?.[name], name).toBeTypeOf("string");
      expect(pkg.peerDependenciesMeta?.[name]?.optional, name).toBe(true);
    }
  });

  it("detects a framework when one is loaded (control for the checks below)", async () => {
    const { packages } = await packagesLoadedBy("express");
    expect(packages).toContain("express");
    const hono = await packagesLoadedBy("hono");
    expect(hono.packages).toEqual(["hono"]);
  });

  it("loads no npm package at all from the root entry, and exports the public API by name", async () => {
    const { packages, exportNames } = await packagesLoadedBy(sourceOf("./dist/index.js"));
    expect(packages).toEqual([]);
    for (const name of [
      "createIntercomWebhooks",
      "createReceiver",
      "createMemoryStore",
      "handleWebhook",
      "STATUS_BY_CODE",
      "sign",
      "ERROR_CODES",
    ]) {
      expect(exportNames).toContain(name);
    }
  });

  it.each(loadable.filter(([key]) => key !== "."))("loads no other framework or driver from %s", async (key, entry) => {
    const { packages } = await packagesLoadedBy(sourceOf((entry as { default: string }).default));
    const allowed = ALLOWED[key] ?? [];
    const heavy = packages.filter((p) => (HEAVY as readonly string[]).includes(p));
    expect(heavy.filter((p) => !allowed.includes(p))).toEqual([]);
    for (const p of allowed) expect(packages).toContain(p);
  });

  it.each(["./node", "./express", "./fastify", "./web", "./hono", "./dashboard"])(
    "loads no npm package from the %s entry (framework types only)",
    async (key) => {
      const entry = pkg.exports[key] as { default: string };
      const { packages } = await packagesLoadedBy(sourceOf(entry.default));
      expect(packages).toEqual([]);
    },
  );
});
