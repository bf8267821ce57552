/**
 * `intercom-bridge doctor`: takes `serve`'s options, prints the configuration `serve` would run with and where each
 * value came from (flag, environment, default, generated file), then checks what would make it fail or lose data:
 * the store (opens, writable, Redis persistence), the handlers module, forward URLs, the client secret and, with
 * INTERCOM_ACCESS_TOKEN, the token. Creates nothing. Exit 0 when every check passes (warnings allowed), 1 otherwise.
 */
import { accessSync, constants, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command, Option } from "commander";
import { ENV, secretsFromEnv, splitList } from "../../config/env.js";
import { resolveBaseUrl, type IntercomRegion } from "../../outbound/intercom-api.js";
import { parseForward } from "../../service/forward.js";
import { loadHandlersModule } from "../../service/handlers-module.js";
import { serveOptions, type ServeFlags } from "../serve-options.js";
import { dataDirOf, sqlitePathOf } from "../store-url.js";
import { checkRedisDurability } from "./doctor-redis.js";

/** One line of the resolved configuration. */
export interface ConfigLine {
  option: string;
  /** The value; secrets are shown as "(set)". */
  value: string;
  /** `flag --x`, `env NAME`, `default`, `generated file <path>`, or `unset`. */
  source: string;
}

/** One check's outcome. `fix` says what to do when it is not `ok`. */
export interface CheckResult {
  name: string;
  status: "ok" | "warn" | "fail";
  message: string;
  fix?: string;
}

const SECRET_OPTIONS = new Set(["forwardSecret", "adminToken"]);

/** The configuration serve would use, each value with its source. */
export function resolvedConfiguration(cmd: Command, flags: ServeFlags): ConfigLine[] {
  const lines: ConfigLine[] = [];
  const options = (cmd as unknown as { options: readonly Option[] }).options;
  for (const o of options) {
    const key = o.attributeName();
    if (key === "json" || key === "help") continue;
    const raw = cmd.getOptionValue(key) as unknown;
    const source = cmd.getOptionValueSource(key);
    const value =
      raw === undefined
        ? "-"
        : SECRET_OPTIONS.has(key)
          ? "(set)"
          : Array.isArray(raw)
            ? raw.join(", ")
            : typeof raw === "number" && /<duration>/.test(o.flags)
              ? formatDuration(raw)
              : typeof raw === "string"
                ? raw
                : JSON.stringify(raw);
    lines.push({
      option: o.long ?? key,
      value,
      source:
        source === "cli"
          ? `flag ${o.long}`
          : source === "env"
            ? `env ${o.envVar}`
            : source === "default"
              ? "default"
              : "unset",
    });
  }
  const dataDir = flags.dataDir ?? dataDirOf(flags.store);
  const secrets = secretsFromEnv();
  const devSecret = join(dataDir, "dev-client-secret");
  lines.push({
    option: "client secret",
    value: secrets.length > 0 ? `(set: ${secrets.length})` : existsSync(devSecret) ? "(development secret)" : "-",
    source:
      secrets.length > 0
        ? `env ${process.env["INTERCOM_CLIENT_SECRET"] ? "INTERCOM_CLIENT_SECRET" : "INTERCOM_WEBHOOK_SECRET"}`
        : existsSync(devSecret)
          ? `generated file ${devSecret}`
          : "unset (serve generates a development secret)",
  });
  if (!flags.adminToken) {
    const adminFile = join(dataDir, "admin-token");
    const line = lines.find((l) => l.option === "--admin-token");
    if (line && existsSync(adminFile)) Object.assign(line, { value: "(set)", source: `generated file ${adminFile}` });
  }
  lines.push({
    option: "access token",
    value: process.env[ENV.accessToken] ? "(set)" : "-",
    source: process.env[ENV.accessToken] ? `env ${ENV.accessToken}` : "unset (outbound off)",
  });
  return lines;
}

/** Runs every check against the resolved flags. */
export async function runChecks(cmd: Command, flags: ServeFlags): Promise<CheckResult[]> {
  const results: CheckResult[] = [await checkStore(flags)];
  if (flags.handlers) {
    const origin = cmd.getOptionValueSource("handlers") === "env" ? ENV.handlers : "--handlers";
    try {
      const loaded = await loadHandlersModule(flags.handlers, origin);
      const keys = loaded.handlers.map((h) => h.key);
      results.push({ name: "handlers", status: "ok", message: `${loaded.path} loads; keys: ${keys.join(", ")}` });
      for (const w of loaded.warnings)
        results.push({
          name: "handlers",
          status: "warn",
          message: w,
          fix: "nothing to do if Intercom sends this topic; otherwise correct the key",
        });
    } catch (err) {
      results.push({
        name: "handlers",
        status: "fail",
        message: (err as Error).message,
        fix: `correct the module, or --handlers / ${ENV.handlers}`,
      });
    }
  }
  const specs = [...(flags.forward ?? []), ...splitList(process.env[ENV.forward] ?? "")];
  for (const spec of specs) {
    try {
      const f = parseForward(spec);
      results.push({ name: "forward", status: "ok", message: `${f.pattern} → ${new URL(f.url).origin}` });
    } catch (err) {
      results.push({
        name: "forward",
        status: "fail",
        message: (err as Error).message,
        fix: "write each target as pattern=url, e.g. conversation.*=http://crm.internal/intercom",
      });
    }
  }
  results.push(checkSecret(flags));
  if (process.env[ENV.accessToken]) results.push(await checkToken());
  return results;
}

async function checkStore(flags: ServeFlags): Promise<CheckResult> {
  const url = flags.store;
  if (url === "memory:" || url === "memory") {
    return {
      name: "store",
      status: "warn",
      message: "memory: keeps notifications in the process only; a restart loses everything not yet handled",
      fix: "use sqlite:<path> (one instance) or redis:// (several) in production",
    };
  }
  const path = sqlitePathOf(url);
  if (path !== undefined) return checkSqlite(url, path);
  if (url.startsWith("redis://") || url.startsWith("rediss://")) return checkRedisDurability(url);
  return {
    name: "store",
    status: "fail",
    message: `--store "${url}" is not a supported store URL`,
    fix: "use sqlite:<path>, memory:, redis://host:port/db or rediss://…",
  };
}

async function checkSqlite(url: string, path: string): Promise<CheckResult> {
  const fix = `make the folder writable by this user, or point --store / ${ENV.store} elsewhere`;
  if (path.length === 0)
    return {
      name: "store",
      status: "fail",
      message: `--store "${url}" names no file`,
      fix: "e.g. sqlite:./data/intercom-bridge.db",
    };
  const abs = resolve(path);
  if (!existsSync(abs)) {
    // serve creates the file (and its folders); check the nearest existing folder lets it.
    let dir = dirname(abs);
    while (!existsSync(dir)) dir = dirname(dir);
    try {
      accessSync(dir, constants.W_OK);
      return {
        name: "store",
        status: "ok",
        message: `${abs} does not exist yet; serve will create it (${dir} is writable)`,
      };
    } catch {
      return { name: "store", status: "fail", message: `${abs} cannot be created: ${dir} is not writable`, fix };
    }
  }
  try {
    accessSync(abs, constants.R_OK | constants.W_OK);
    accessSync(dirname(abs), constants.W_OK); // the WAL and its index live beside the file
  } catch {
    return { name: "store", status: "fail", message: `${abs} or its folder is not writable`, fix };
  }
  try {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(abs, { readonly: true, fileMustExist: true });
    try {
      const mode = db.pragma("journal_mode", { simple: true }) as string;
      const check = db.pragma("quick_check", { simple: true }) as string;
      if (check !== "ok")
        return {
          name: "store",
          status: "fail",
          message: `${abs} fails SQLite's quick_check: ${check}`,
          fix: "restore it from a backup",
        };
      return { name: "store", status: "ok", message: `${abs} opens and is writable (journal ${mode})` };
    } finally {
      db.close();
    }
  } catch (err) {
    return { name: "store", status: "fail", message: `${abs} does not open: ${(err as Error).message}`, fix };
  }
}

function checkSecret(flags: ServeFlags): CheckResult {
  if (secretsFromEnv().length > 0)
    return { name: "client secret", status: "ok", message: "INTERCOM_CLIENT_SECRET is set" };
  const file = join(flags.dataDir ?? dataDirOf(flags.store), "dev-client-secret");
  return {
    name: "client secret",
    status: "warn",
    message: existsSync(file)
      ? `no INTERCOM_CLIENT_SECRET: serve uses the generated development secret in ${file}, which Intercom does not sign with`
      : "no INTERCOM_CLIENT_SECRET: serve will generate a development secret, which Intercom does not sign with",
    fix: "set INTERCOM_CLIENT_SECRET to your app's client secret (Developer Hub → your app → Basic information)",
  };
}

async function checkToken(): Promise<CheckResult> {
  let base: string;
  try {
    base = resolveBaseUrl(process.env[ENV.region] as IntercomRegion | undefined, process.env[ENV.apiBaseUrl]);
  } catch (err) {
    return {
      name: "access token",
      status: "fail",
      message: (err as Error).message,
      fix: `set ${ENV.region} to us, eu or au, or ${ENV.apiBaseUrl} to an absolute URL`,
    };
  }
  try {
    const res = await fetch(`${base}/me`, {
      headers: { authorization: `Bearer ${process.env[ENV.accessToken]}`, accept: "application/json" },
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 200) {
      const me = (await res.json()) as { app?: { name?: string; id_code?: string } };
      return {
        name: "access token",
        status: "ok",
        message: `accepted by ${base}${me.app?.name ? ` (workspace ${me.app.name})` : ""}`,
      };
    }
    return {
      name: "access token",
      status: "fail",
      message: `${base} refused INTERCOM_ACCESS_TOKEN (HTTP ${res.status})`,
      fix:
        res.status === 401
          ? "copy the access token again from Developer Hub → your app → Authentication; check INTERCOM_REGION matches the workspace"
          : "check INTERCOM_API_BASE_URL / INTERCOM_REGION and the token's permissions",
    };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return {
      name: "access token",
      status: "fail",
      message: `cannot reach ${base}: ${cause ?? (err as Error).message}`,
      fix: `check the network, or ${ENV.apiBaseUrl} / ${ENV.region}`,
    };
  }
}

/** Milliseconds in the largest unit that divides them exactly: 604800000 → 7d, 1500 → 1500ms. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

const MARK = { ok: "ok  ", warn: "warn", fail: "FAIL" } as const;

/** Registers `doctor`. */
export function registerDoctorCommand(program: Command): void {
  const doctor = program
    .command("doctor")
    .summary("check the configuration serve would run with, and say how to fix it")
    .description(
      "Print the configuration `serve` would run with (the same flags and variables) and where each value comes from, then check it:\n" +
        "the store opens and is durable, the handlers module loads and every key is a topic, forward URLs parse, the client secret is set,\n" +
        `and with ${ENV.accessToken} that Intercom accepts the token. Creates nothing. Exit 0 when every check passes (warnings allowed), 1 otherwise.`,
    )
    .option("--json", "print { configuration, checks, ok } as JSON");
  for (const option of serveOptions()) doctor.addOption(option);
  doctor.action(async (flags: ServeFlags & { json?: boolean }, cmd: Command) => {
    const configuration = resolvedConfiguration(cmd, flags);
    const checks = await runChecks(cmd, flags);
    const ok = checks.every((c) => c.status !== "fail");
    if (flags.json) process.stdout.write(JSON.stringify({ configuration, checks, ok }, null, 2) + "\n");
    else {
      const width = Math.max(...configuration.map((l) => l.option.length));
      const valueWidth = Math.min(40, Math.max(...configuration.map((l) => l.value.length)));
      const out = ["Configuration (what serve would run with):"];
      for (const l of configuration)
        out.push(`  ${l.option.padEnd(width)}  ${l.value.padEnd(valueWidth)}  ${l.source}`);
      out.push("", "Checks:");
      for (const c of checks) {
        out.push(`  ${MARK[c.status]}  ${c.name}: ${c.message}`);
        if (c.status !== "ok" && c.fix) out.push(`        fix: ${c.fix}`);
      }
      const failed = checks.filter((c) => c.status === "fail").length;
      out.push("", ok ? "All checks passed." : `${failed} check${failed === 1 ? "" : "s"} failed.`);
      process.stdout.write(out.join("\n") + "\n");
    }
    if (!ok) process.exitCode = 1;
  });
}
