// Copies non-TypeScript assets (SQL migrations, dashboard files, simulate samples) next to the compiled output.
import { cpSync, existsSync, readdirSync, statSync, mkdirSync } from "node:fs";
import { join, dirname, relative } from "node:path";

const SRC = "src";
const OUT = "dist";
const EXTENSIONS = [".sql", ".html", ".css", ".js", ".json", ".svg", ".md"];

function walk(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path);
    else if (EXTENSIONS.some((e) => path.endsWith(e)) && !path.endsWith(".d.ts")) {
      const target = join(OUT, relative(SRC, path));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(path, target);
    }
  }
}
if (existsSync(SRC)) walk(SRC);
