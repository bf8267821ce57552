/**
 * Reads the dashboard's static files (index.html, app.js, the `views/` modules, app.css) into memory once, with their
 * content types and ETags, for the pages route to serve. No bundler: the browser loads the ES modules as they are.
 */
import { createHash } from "node:crypto";
import type { Dirent } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";

/** One dashboard file, read once at start-up. */
export interface StaticAsset {
  body: Buffer;
  contentType: string;
  /** Strong ETag over the content. */
  etag: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json; charset=utf-8",
};

/**
 * The folder the dashboard files live in: `assets/` next to this module, which is `src/dashboard/assets` when running
 * from source (tsx, vitest) and `dist/dashboard/assets` after `npm run build` (scripts/copy-assets.mjs copies them).
 */
export const DEFAULT_ASSETS_DIR: URL = new URL("./assets/", import.meta.url);

/**
 * Reads every servable file of `dir` and its subfolders into memory, keyed by its path relative to `dir` with `/`
 * separators (`app.js`, `views/overview.js`). The set is small and fixed, so serving from memory needs no path
 * handling at request time: only names in the map exist, which rules out path traversal. Names starting with `.` are
 * skipped. Resolves to an empty map when the folder does not exist.
 */
export async function loadStaticAssets(dir: URL | string = DEFAULT_ASSETS_DIR): Promise<Map<string, StaticAsset>> {
  const root = (typeof dir === "string" ? dir : fileURLToPath(dir)).replace(/\/$/, "");
  const assets = new Map<string, StaticAsset>();
  const walk = async (folder: string, prefix: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && prefix === "") return;
      throw err;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const path = `${folder}/${entry.name}`;
      if (entry.isDirectory()) {
        await walk(path, `${prefix}${entry.name}/`);
        continue;
      }
      const contentType = CONTENT_TYPES[extname(entry.name)];
      if (!contentType || !entry.isFile()) continue;
      const body = await readFile(path);
      const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
      assets.set(`${prefix}${entry.name}`, { body, contentType, etag });
    }
  };
  await walk(root, "");
  return assets;
}
