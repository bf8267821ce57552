/**
 * The mistakes a new user makes in the first hour, each with the message and exit code they get: a typo in a handler
 * key, a module that does not load, a `.ts` module, a mistyped flag, a read command on a store that does not exist,
 * `simulate` with nothing listening or the wrong secret, and what `doctor` and `topics` report.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIntercomWebhooks } from "../../src/index.js";
import { explainLoadError } from "../../src/service/handlers-module.js";
import { startFakeIntercom, type FakeIntercom } from "../../src/testing/index.js";
import { CLI, freePort, startServe } from "../helpers/serve-process.js";
import { TSX } from "../helpers/doc-examples.js";
import { hasRedisServerBinary, privateRedis } from "../helpers/redis.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in `cwd` with only the environment given (plus PATH), so a developer's variables cannot leak in. */
function cli(args: string[], cwd: string, env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, ["--import", TSX, CLI, ...args], {
    cwd,
    env: { PATH: process.env["PATH"] ?? "", ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking the event loop (for commands that talk to servers this process runs). */
function cliAsync(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", TSX, CLI, ...args], {
      cwd,
      env: { PATH: process.env["PATH"] ?? "", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ib-first-hour-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function module(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("serve checks the handlers module before creating anything", { timeout: 60_000 }, () => {
  it("exits 2 on a key that is a typo of a topic, with did-you-mean, and creates no store", () => {
    const path = module("typo.mjs", 'export default { "conversation.user.repled": async () => {} };\n');
    const store = join(dir, "typo-store", "bridge.db");
    const r = cli(["serve", "--handlers", path, "--store", `sqlite:${store}`], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`handlers module "${path}" (from --handlers)`);
    expect(r.stderr).toContain(
      'key "conversation.user.repled" is not an Intercom topic; did you mean "conversation.user.replied"?',
    );
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(join(dir, "typo-store"))).toBe(false);
  });

  it("exits 2 on a pattern that matches no topic", () => {
    const path = module("group.mjs", 'export default { "tickets.*": async () => {} };\n');
    const r = cli(["serve", "--handlers", path, "--store", "memory:"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('key "tickets.*" matches no Intercom topic; did you mean "ticket.*"?');
  });

  it("names the file, the line and the variable when the module does not load", () => {
    const path = module("syntax.mjs", 'export default {\n  "ping": ;\n};\n');
    const r = cli(["serve", "--store", "memory:"], dir, { INTERCOM_BRIDGE_HANDLERS: path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`handlers module "${path}" (from INTERCOM_BRIDGE_HANDLERS) failed to load: SyntaxError`);
    expect(r.stderr).toContain(`${path}:2`);
  });

  it("names a module that does not exist", () => {
    const r = cli(["serve", "--handlers", "./nope.mjs", "--store", "memory:"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `handlers module "./nope.mjs" (from --handlers) does not exist (looked for ${join(dir, "nope.mjs")})`,
    );
  });

  it("explains a .ts module that Node.js cannot import by itself", () => {
    const path = module("handlers.ts", 'export default { "ping": async (n: unknown) => {} };\n');
    // The error plain Node.js (no tsx) gives for it, exactly as serve would see it.
    const probe = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import(${JSON.stringify(`file://${path}`)}).catch((e) => console.log(JSON.stringify({ code: e.code, message: e.message, name: e.name })))`,
      ],
      { encoding: "utf8" },
    );
    const err = Object.assign(new TypeError(), JSON.parse(probe.stdout) as object);
    expect(explainLoadError(err, path)).toMatch(
      /Node\.js does not run \.ts files by itself: run serve under tsx .*or compile the module to \.js/,
    );
  });

  it("starts with a warning for an exact topic outside the catalogue, which still receives that topic", async () => {
    const runs = join(dir, "uncatalogued.ndjson");
    const path = module(
      "uncatalogued.mjs",
      `import { appendFileSync } from "node:fs";\nexport default { "billing.invoice_paid": async (n) => appendFileSync(${JSON.stringify(runs)}, n.topic + "\\n") };\n`,
    );
    const server = await startServe(["--store", "memory:", "--handlers", path, "--log-format", "json"], {}, "s3cret");
    try {
      expect(server.output()).toContain('key \\"billing.invoice_paid\\" is not in this version\'s topic catalogue');
      const body = JSON.stringify({
        type: "notification_event",
        id: "notif_uncatalogued_1",
        topic: "billing.invoice_paid",
        app_id: "a",
        created_at: Math.floor(Date.now() / 1000),
        data: { type: "notification_event_data", item: { type: "invoice", id: "1" } },
      });
      expect((await server.post(body)).status).toBe(200);
      const deadline = Date.now() + 10_000;
      while (!existsSync(runs) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(runs)).toBe(true);
    } finally {
      await server.stop();
    }
  });
});

describe("createIntercomWebhooks", () => {
  it("refuses on() with a typo of a topic, with did-you-mean", () => {
    const webhooks = createIntercomWebhooks({ secret: "s", log: { warn: () => {} } });
    expect(() => webhooks.on("conversation.user.repled" as "conversation.user.replied", () => {})).toThrow(
      'on("conversation.user.repled"): "conversation.user.repled" is not an Intercom topic; did you mean "conversation.user.replied"?',
    );
    expect(() => webhooks.on("tickets.*" as "ticket.*", () => {})).toThrow(
      /matches no Intercom topic; did you mean "ticket\.\*"/,
    );
  });
});

describe("CLI conventions", { timeout: 60_000 }, () => {
  it("answers a mistyped flag with one error, a did-you-mean and exit 2, not the whole help", () => {
    const r = cli(["serve", "--prot", "9000"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown option '--prot'");
    expect(r.stderr).toContain("(Did you mean --port?)");
    expect(r.stderr).not.toContain("Options:");
    expect(r.stderr.trim().split("\n").length).toBeLessThanOrEqual(3);
  });

  it("takes durations for every time option, a bare number staying milliseconds", () => {
    const r = cli(
      [
        "doctor",
        "--json",
        "--store",
        "memory:",
        "--lease-ms",
        "2m",
        "--retry-base-ms",
        "500",
        "--handler-timeout-ms",
        "45s",
      ],
      dir,
    );
    const config = (JSON.parse(r.stdout) as { configuration: Array<{ option: string; value: string; source: string }> })
      .configuration;
    const value = (option: string): string | undefined => config.find((l) => l.option === option)?.value;
    expect(value("--lease-ms")).toBe("2m");
    expect(value("--retry-base-ms")).toBe("500ms");
    expect(value("--handler-timeout-ms")).toBe("45s");
    const tooShort = cli(["serve", "--lease-ms", "5"], dir);
    expect(tooShort.code).toBe(2);
    expect(tooShort.stderr).toContain(
      "option '--lease-ms <duration>' argument '5' is invalid. must be at least 100 ms",
    );
  });

  it("lists commands with one-line summaries", () => {
    const r = cli(["--help"], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/doctor \[options\]\s+check the configuration serve would run/);
    expect(r.stdout).not.toContain("store each before answering 200, and run handlers");
  });

  it("groups serve's options by what they configure", () => {
    const r = cli(["serve", "--help"], dir);
    const headings = r.stdout.split("\n").filter((l) => /^[A-Z][a-z]+:$/.test(l));
    expect(headings).toEqual(
      expect.arrayContaining(["Inbound:", "Store:", "Delivery:", "Outbound:", "Dashboard:", "Logging:"]),
    );
  });
});

describe("read commands never create a store", { timeout: 60_000 }, () => {
  it("deliveries list in an empty folder exits 2 naming the default store, and creates nothing", () => {
    const empty = mkdtempSync(join(dir, "empty-"));
    const r = cli(["deliveries", "list"], empty);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'no store at "sqlite:./data/intercom-bridge.db" (from the default; set --store or INTERCOM_BRIDGE_STORE)',
    );
    expect(readdirSync(empty)).toEqual([]);
  });

  it("inspect and replay name the variable the store came from", () => {
    const url = `sqlite:${join(dir, "missing.db")}`;
    for (const args of [
      ["inspect", "notif_1"],
      ["replay", "--dead"],
    ]) {
      const r = cli(args, dir, { INTERCOM_BRIDGE_STORE: url });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`no store at "${url}" (from INTERCOM_BRIDGE_STORE)`);
    }
    expect(existsSync(join(dir, "missing.db"))).toBe(false);
  });
});

describe("simulate names the cause", { timeout: 60_000 }, () => {
  it("asks whether serve is running when nothing listens", async () => {
    const port = await freePort();
    const r = await cliAsync(
      ["simulate", "--topic", "ping", "--secret", "x", "--url", `http://127.0.0.1:${port}/webhooks/intercom`],
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("error: connection refused");
    expect(r.stderr).toContain(`is \`intercom-bridge serve\` running on 127.0.0.1:${port}?`);
  });

  it("says the secret differs on 401, and where the server reads it", async () => {
    const server = await startServe(["--store", "memory:"], {}, "server-secret");
    try {
      const r = await cliAsync(["simulate", "--topic", "ping", "--url", `${server.url}/webhooks/intercom`], dir, {
        INTERCOM_CLIENT_SECRET: "other-secret",
      });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/401\s+1/);
      expect(r.stderr).toContain(
        "the secret simulate signed with (from INTERCOM_CLIENT_SECRET) differs from the server's",
      );
      expect(r.stderr).toContain("serve reads INTERCOM_CLIENT_SECRET, else the development secret in its --data-dir");
      expect(r.stderr).not.toContain("other-secret");
    } finally {
      await server.stop();
    }
  });
});

describe("topics", { timeout: 60_000 }, () => {
  it("lists the catalogue, filtered by a pattern, with item type and status", () => {
    const r = cli(["topics", "conversation.*", "--json"], dir);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ topic: string; item: string; status: string; description: string }>;
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.every((row) => row.topic.startsWith("conversation."))).toBe(true);
    expect(rows).toContainEqual(
      expect.objectContaining({ topic: "conversation.user.replied", item: "conversation", status: "current" }),
    );
    const all = JSON.parse(cli(["topics", "--json"], dir).stdout) as Array<{ status: string }>;
    expect(new Set(all.map((row) => row.status))).toEqual(new Set(["current", "legacy", "preview"]));
    const table = cli(["topics", "ticket.created"], dir);
    expect(table.stdout).toMatch(/^TOPIC\s+ITEM\s+STATUS\s+DESCRIPTION\nticket\.created\s+ticket\s+current\s+\S/);
    const none = cli(["topics", "nothing.*"], dir);
    expect(none.code).toBe(1);
    expect(none.stdout).toBe('No topic matches "nothing.*".\n');
  });
});

describe("doctor", { timeout: 60_000 }, () => {
  let fake: FakeIntercom;
  beforeAll(async () => {
    fake = await startFakeIntercom({ token: "good-token" });
  });
  afterAll(() => fake.close());

  interface Report {
    ok: boolean;
    configuration: Array<{ option: string; value: string; source: string }>;
    checks: Array<{ name: string; status: string; message: string; fix?: string }>;
  }
  const doctor = async (
    args: string[],
    env: Record<string, string> = {},
  ): Promise<{ code: number | null; report: Report }> => {
    const r = await cliAsync(["doctor", "--json", ...args], dir, env);
    return { code: r.code, report: JSON.parse(r.stdout) as Report };
  };

  it("passes a good configuration, saying where each value came from", async () => {
    const { code, report } = await doctor(["--store", `sqlite:${join(dir, "doctor.db")}`, "--port", "9001"], {
      INTERCOM_CLIENT_SECRET: "s",
      INTERCOM_ACCESS_TOKEN: "good-token",
      INTERCOM_API_BASE_URL: fake.url,
      LOG_LEVEL: "debug",
    });
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    const line = (option: string) => report.configuration.find((l) => l.option === option);
    expect(line("--port")).toEqual({ option: "--port", value: "9001", source: "flag --port" });
    expect(line("--log-level")).toEqual({ option: "--log-level", value: "debug", source: "env LOG_LEVEL" });
    expect(line("--host")).toEqual({ option: "--host", value: "127.0.0.1", source: "default" });
    expect(line("client secret")?.source).toBe("env INTERCOM_CLIENT_SECRET");
    expect(report.checks.find((c) => c.name === "access token")).toMatchObject({ status: "ok" });
    expect(existsSync(join(dir, "doctor.db"))).toBe(false); // doctor creates nothing
    expect(JSON.stringify(report)).not.toContain("good-token");
  });

  it("fails a typo key, an unreachable store and a refused token, each with its fix", async () => {
    const path = module("doctor-typo.mjs", 'export default { "ticket.craeted": async () => {} };\n');
    const port = await freePort();
    const { code, report } = await doctor(["--store", `redis://127.0.0.1:${port}/0`, "--handlers", path], {
      INTERCOM_ACCESS_TOKEN: "wrong-token",
      INTERCOM_API_BASE_URL: fake.url,
    });
    expect(code).toBe(1);
    const byName = (name: string) => report.checks.find((c) => c.name === name)!;
    expect(byName("store")).toMatchObject({
      status: "fail",
      fix: "start Redis, or correct --store / INTERCOM_BRIDGE_STORE",
    });
    expect(byName("store").message).toContain(`cannot reach Redis at redis://127.0.0.1:${port}/0`);
    expect(byName("handlers")).toMatchObject({ status: "fail" });
    expect(byName("handlers").message).toContain('did you mean "ticket.created"?');
    expect(byName("access token")).toMatchObject({
      status: "fail",
      message: `${fake.url} refused INTERCOM_ACCESS_TOKEN (HTTP 401)`,
    });
    expect(byName("client secret")).toMatchObject({ status: "warn" });
    expect(JSON.stringify(report)).not.toContain("wrong-token");
  });

  it("fails a Redis that keeps nothing on disk", async () => {
    // The machine's shared Redis runs without an append-only file.
    const { code, report } = await doctor(["--store", "redis://127.0.0.1:6379/0"], { INTERCOM_CLIENT_SECRET: "s" });
    expect(code).toBe(1);
    const store = report.checks.find((c) => c.name === "store")!;
    expect(store.status).toBe("fail");
    expect(store.message).toContain("is not durable: append-only file is off (appendonly no)");
    expect(store.fix).toContain("appendonly yes");
  });

  it.skipIf(!hasRedisServerBinary())("passes a Redis that persists (append-only file on, noeviction)", async () => {
    const redis = await privateRedis(mkdtempSync(join(dir, "redis-")));
    await redis.start();
    try {
      const { report } = await doctor(["--store", `${redis.url}/0`], { INTERCOM_CLIENT_SECRET: "s" });
      expect(report.checks.find((c) => c.name === "store")).toEqual({
        name: "store",
        status: "ok",
        message: `Redis at ${redis.url}/0 answers; append-only file on, maxmemory-policy noeviction`,
      });
      expect(report.ok).toBe(true);
    } finally {
      await redis.stop();
    }
  });

  it("prints a readable report with each problem and its fix", async () => {
    const r = await cliAsync(["doctor", "--store", "memory:", "--forward", "no-equals-sign"], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("Configuration (what serve would run with):");
    expect(r.stdout).toMatch(/FAIL {2}forward: --forward "no-equals-sign" must be <pattern>=<url>/);
    expect(r.stdout).toMatch(/fix: write each target as pattern=url/);
    expect(r.stdout).toMatch(/warn {2}store: memory: keeps notifications in the process only/);
    expect(r.stdout).toContain("1 check failed.");
  });
});

describe("log format", { timeout: 60_000 }, () => {
  it("writes pretty lines with --log-format pretty and JSON with LOG_FORMAT=json", async () => {
    // An exact key outside the catalogue gives a warning at start, so there is a line to look at.
    const path = module("warn.mjs", 'export default { "billing.invoice_paid": async () => {} };\n');
    const pretty = await startServe(["--store", "memory:", "--handlers", path, "--log-format", "pretty"], {}, "s");
    await pretty.stop();
    expect(pretty.output()).toMatch(/WARN.*: key "billing\.invoice_paid" is not in this version's topic catalogue/);
    expect(pretty.output()).not.toMatch(/^\{"level"/m);
    const json = await startServe(["--store", "memory:", "--handlers", path], { LOG_FORMAT: "json" }, "s");
    await json.stop();
    expect(json.output()).toMatch(/^\{"level":40,.*billing\.invoice_paid/m);
  });
});
