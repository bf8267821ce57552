import { createHash } from "node:crypto";
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
 * Reads every servable file of `dir` (not recursive) into memory. The set is small and fixed, so serving from memory
 * needs no path handling at request time: only names in the map exist, which rules out path traversal.
 * Resolves to an empty map when the folder does not exist.
 */
export async function loadStaticAssets(dir: URL | string = DEFAULT_ASSETS_DIR): Promise<Map<string, StaticAsset>> {
  const path = typeof dir === "string" ? dir : fileURLToPath(dir);
  const assets = new Map<string, StaticAsset>();
  let names: string[];
  try {
    names = await readdir(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return assets;
    throw err;
  }
  for (const name of names) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (!contentType || name.startsWith(".")) continue;
    const body = await readFile(`${path.replace(/\/$/, "")}/${name}`);
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    assets.set(name, { body, contentType, etag });
  }
  return assets;
}
