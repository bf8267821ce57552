/**
 * Runs `intercom-bridge serve` (from src, through tsx) as a real child process for end-to-end tests.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { sign } from "../../src/core/signature.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** A running serve process. */
export interface ServeProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Sends a signed notification body; returns status and parsed body. */
  post(
    body: string | Buffer,
    init?: { secret?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: unknown }>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
}

/** The built CLI (`npm run build`), which the reliability tests kill and restart: it starts faster than through tsx. */
export const BUILT_CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** Throws when `dist/` is missing or older than a file in `src/`, so a test never exercises stale code. */
function assertBuildIsCurrent(): void {
  if (!existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: run npm run build first`);
  const builtAt = statSync(BUILT_CLI).mtimeMs;
  const src = join(ROOT, "src");
  const newer = readdirSync(src, { recursive: true, encoding: "utf8" }).find(
    (f) => f.endsWith(".ts") && statSync(join(src, f)).mtimeMs > builtAt,
  );
  if (newer) throw new Error(`src/${newer} is newer than ${BUILT_CLI}: run npm run build first`);
}

/** How to start serve, besides its flags. */
export interface StartServeOptions {
  /** Listen on this port (e.g. the one a killed instance used) instead of a free one. */
  port?: number;
  /** Run the built CLI in `dist/` instead of the sources through tsx. */
  built?: boolean;
}

/** Starts serve with the given flags and environment and waits until /healthz answers. */
export async function startServe(
  args: string[],
  env: Record<string, string>,
  secret: string,
  options: StartServeOptions = {},
): Promise<ServeProcess> {
  const port = options.port ?? (await freePort());
  if (options.built) assertBuildIsCurrent();
  const entry = options.built ? [BUILT_CLI] : ["--import", "tsx", CLI];
  const child = spawn(process.execPath, [...entry, "serve", "--port", String(port), "--log-level", "warn", ...args], {
    cwd: ROOT,
    env: { ...process.env, INTERCOM_CLIENT_SECRET: secret, INTERCOM_BRIDGE_ADMIN_TOKEN: "test-admin-token", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`serve did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    port,
    url,
    output: () => out,
    async post(body, init = {}) {
      const res = await fetch(`${url}/webhooks/intercom`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-hub-signature": sign(body, init.secret ?? secret),
          ...init.headers,
        },
        body: typeof body === "string" ? body : new Uint8Array(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed };
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
    async kill9() {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Runs the CLI to completion (through tsx) and returns its exit code and output. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
