/**
 * Loads a `--handlers` module and checks it before anything is started: the file exists and imports (a `.ts` file
 * gets a hint), its default export maps keys to functions, and every key is `*`, `**`, a catalogued topic, a
 * `group.*` that matches one, or an exact topic outside the catalogue (a warning: it still receives that topic). A near
 * miss of a catalogued topic or a pattern that matches nothing is a {@link ConfigError} with a did-you-mean. Used by
 * `serve` (which exits 2 on these errors), `doctor`, and the service's composition root.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Handler, Router } from "../core/router.js";
import { checkTopicPattern } from "../topics/check-pattern.js";

/** One key of a handlers module and its handler. */
export interface ModuleHandler {
  /** The key as written: the handler's stable name. */
  key: string;
  handler: Handler;
  /** True for `*` and `**`: every notification, topics outside the catalogue included. */
  every: boolean;
}

/** A handlers module that loaded and passed the checks. */
export interface LoadedHandlersModule {
  /** The absolute path imported. */
  path: string;
  handlers: ModuleHandler[];
  /** Keys that are exact topics outside the catalogue (each still receives its topic). */
  warnings: string[];
}

/**
 * Imports and checks a handlers module. `origin` names where the path came from (`--handlers`,
 * `INTERCOM_BRIDGE_HANDLERS`) so the message says what to change.
 * @throws {ConfigError} naming the path and origin when the module is missing, fails to load, exports no map, or has a
 * key that is a typo of a catalogued topic or a pattern matching nothing.
 */
export async function loadHandlersModule(modulePath: string, origin = "--handlers"): Promise<LoadedHandlersModule> {
  const abs = resolve(modulePath);
  const where = `handlers module "${modulePath}" (from ${origin})`;
  if (!existsSync(abs)) throw new ConfigError(`${where} does not exist (looked for ${abs})`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
  } catch (err) {
    throw new ConfigError(`${where} failed to load: ${explainLoadError(err, abs)}`, { cause: err });
  }
  const map = mod.default;
  if (!map || typeof map !== "object") {
    throw new ConfigError(
      `${where} must default-export an object mapping topics to handlers, e.g. export default { "conversation.user.replied": async (n) => {…} }`,
    );
  }
  const handlers: ModuleHandler[] = [];
  const warnings: string[] = [];
  const problems: string[] = [];
  for (const [key, handler] of Object.entries(map as Record<string, unknown>)) {
    if (typeof handler !== "function") {
      problems.push(`key "${key}" is not a function`);
      continue;
    }
    const check = checkTopicPattern(key, { allowDoubleStar: true });
    if (check.kind === "error") problems.push(`key ${check.message}`);
    else {
      if (check.kind === "uncatalogued") warnings.push(`key ${check.message}`);
      handlers.push({ key, handler: handler as Handler, every: check.kind === "every" });
    }
  }
  if (problems.length > 0)
    throw new ConfigError(`${where}: ${problems.join("; ")} (\`intercom-bridge topics\` lists every topic)`);
  return { path: abs, handlers, warnings };
}

/**
 * Registers a loaded module's handlers on a router and logs its warnings. `*` and `**` receive every notification;
 * `group.*` keys receive the group's catalogued topics; an exact key receives that topic, catalogued or not.
 */
export function registerHandlersModule(router: Router, loaded: LoadedHandlersModule, log: Logger): void {
  for (const w of loaded.warnings) log.warn({ handlers: loaded.path }, w);
  for (const { key, handler, every } of loaded.handlers) {
    if (every) router.register(key, ["*"], handler);
    else router.register(key, [key], handler, { knownTopicsOnly: true });
  }
}

/** Loads, checks and registers a handlers module: the one call the service's composition root makes. */
export async function installHandlersModule(
  router: Router,
  modulePath: string,
  options: { origin?: string | undefined; log: Logger },
): Promise<void> {
  registerHandlersModule(router, await loadHandlersModule(modulePath, options.origin), options.log);
}

/** Why a module at `abs` did not import, with what to do: a `.ts` hint, or a SyntaxError's file and line. */
export function explainLoadError(err: unknown, abs: string): string {
  const e = err as { code?: string; message?: string; stack?: string; name?: string };
  const ext = extname(abs);
  if (e.code === "ERR_UNKNOWN_FILE_EXTENSION" && [".ts", ".mts", ".cts", ".tsx"].includes(ext)) {
    return `Node.js does not run ${ext} files by itself: run serve under tsx (\`npx tsx node_modules/intercom-bridge/dist/cli/main.js serve …\`, or NODE_OPTIONS="--import tsx"), or compile the module to .js`;
  }
  const message = `${e.name ?? "Error"}: ${e.message ?? String(err)}`;
  if (e.name === "SyntaxError") {
    // An ESM SyntaxError carries no file or line; `node --check` prints them ("/path/handlers.mjs:3").
    const check = spawnSync(process.execPath, ["--check", abs], { encoding: "utf8", timeout: 10_000 });
    const location = check.stderr?.split("\n").find((l) => l.startsWith(abs) || l.startsWith(pathToFileURL(abs).href));
    if (location) return `${message} at ${location.replace(pathToFileURL(abs).href, abs)}`;
  }
  return message;
}
