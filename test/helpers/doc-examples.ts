/**
 * What the tests that run documentation examples share: pointing an example's `intercom-bridge` imports at the sources
 * the package entries are built from, and type-checking extracted examples as written.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** tsx's loader by path, for examples run with a cwd outside the repository. */
export const TSX = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  exports: Record<string, string | { default: string }>;
};

/**
 * `intercom-bridge` / `npm:intercom-bridge/web` → the source the package entry is built from, as a specifier relative
 * to `fromDir` (`../../src/http/web.js`; tsx and tsc both map `.js` to the `.ts` source). Throws for an entry
 * package.json does not export.
 */
export function localSource(subpath: string, fromDir: string): string {
  const entry = pkg.exports[subpath === "" ? "." : `.${subpath}`];
  if (entry === undefined || typeof entry === "string")
    throw new Error(`docs import intercom-bridge${subpath}, which package.json does not export`);
  const source = join(ROOT, entry.default.replace(/^\.\/dist\//, "src/"));
  return relative(fromDir, source).split(sep).join("/");
}

/** The example with every `intercom-bridge` import pointed at the local sources, for a file written in `fromDir`. */
export function rewriteImports(code: string, fromDir: string): string {
  return code.replace(
    /(from\s+")(?:npm:)?intercom-bridge((?:\/[\w-]+)?)(")/g,
    (_m, a: string, sub: string, z: string) => a + localSource(sub, fromDir) + z,
  );
}

/**
 * Writes each example (imports rewritten) and any extra files into `dir`, and type-checks them strictly with the
 * project's tsconfig. Resolves to tsc's output: empty when everything type-checks.
 */
export async function typecheckExamples(
  dir: string,
  examples: Record<string, string>,
  extraFiles: Record<string, string> = {},
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  for (const [name, code] of Object.entries(examples))
    writeFileSync(join(dir, `${name}.ts`), rewriteImports(code, dir));
  for (const [name, text] of Object.entries(extraFiles)) writeFileSync(join(dir, name), text);
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: relative(dir, join(ROOT, "tsconfig.json")),
      compilerOptions: { noEmit: true, moduleDetection: "force" },
      include: ["*.ts"],
    }),
  );
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  return promisify(execFile)(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], { cwd: ROOT }).then(
    () => "",
    (error: Error & { stdout?: string }) => error.stdout || error.message,
  );
}
