import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { CommanderError } from "commander";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createProgram } from "../../src/cli/main.js";
import { cliSecrets, readBodyFile } from "../../src/cli/commands/sign.js";
import { describeHeaderProblem } from "../../src/cli/commands/verify.js";
import { IntercomBridgeError } from "../../src/core/errors.js";
import { sign } from "../../src/core/signature.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURES = join(ROOT, "test/fixtures/intercom");
const PING = join(FIXTURES, "ping.json");
const SECRET = "s3cr3t";
// openssl dgst -sha1 -hmac "s3cr3t" test/fixtures/intercom/ping.json
const PING_SHA1 = "sha1=ed5f478ec036bdf7e3cb498417af4190d9289b38";
// openssl dgst -sha1 -hmac "s3cr3t" test/fixtures/intercom/conversation_user_replied.json
const REPLIED_SHA1 = "sha1=a31e70b44970a8ed9b3a775cd3710f397a1900a2";

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI entry point in a child process, so exit codes and streams are the ones users see. */
function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    INTERCOM_CLIENT_SECRET: undefined,
    INTERCOM_WEBHOOK_SECRET: undefined,
    ...env,
  };
  for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(ROOT, "src/cli/main.ts"), ...args],
      { cwd: ROOT, env: childEnv },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs a command in-process through createProgram (commander exitOverride), capturing stdout. */
async function runInProcess(args: string[]): Promise<{ stdout: string; error: unknown }> {
  let stdout = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  });
  // Subcommands print usage help to stderr directly; keep the test output clean.
  const errSpy = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  const program = createProgram()
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  try {
    await program.parseAsync(["node", "intercom-bridge", ...args]);
    return { stdout, error: undefined };
  } catch (error) {
    return { stdout, error };
  } finally {
    spy.mockRestore();
    errSpy.mockRestore();
  }
}

describe("intercom-bridge sign / verify (child process)", () => {
  it("sign prints the openssl answer for the fixture's exact bytes and exits 0", async () => {
    const r = await runCli(["sign", PING, "--secret", SECRET]);
    expect(r).toEqual({ code: 0, stdout: `${PING_SHA1}\n`, stderr: "" });
  });

  it("sign uses the first secret of INTERCOM_CLIENT_SECRET", async () => {
    const r = await runCli(["sign", PING], { INTERCOM_CLIENT_SECRET: `${SECRET},other` });
    expect(r.stdout).toBe(`${PING_SHA1}\n`);
  });

  it("verify exits 0 for a valid signature", async () => {
    const r = await runCli(["verify", PING, "--signature", PING_SHA1], { INTERCOM_CLIENT_SECRET: SECRET });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Valid: the signature matches the 442 bytes/);
  });

  it("verify exits 1 on a mismatch, says why, and never prints the secret", async () => {
    const secret = "very-private-secret-value";
    const r = await runCli(["verify", PING, "--signature", PING_SHA1, "--secret", secret]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("IB_ERR_SIGNATURE_INVALID: Signature mismatch");
    expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it("verify exits 1 for a malformed header", async () => {
    const r = await runCli(["verify", PING, "--signature", PING_SHA1.slice(5), "--secret", SECRET]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Malformed signature: the "sha1=" prefix is missing');
  });

  it("exits 2 (a configuration error) with a clear message when no secret is configured", async () => {
    const r = await runCli(["sign", PING]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("IB_ERR_CONFIG: No client secret: pass --secret <secret> or set INTERCOM_CLIENT_SECRET");
  });

  it("exits 2 on a usage error (missing --signature)", async () => {
    const r = await runCli(["verify", PING, "--secret", SECRET]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '--signature <value>' not specified");
  });

  it("prints the package version with --version", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    const r = await runCli(["--version"]);
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("names a missing body file once, without repeating Node's error code", async () => {
    const r = await runCli(["sign", join(ROOT, "no-such-body.json"), "--secret", SECRET]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^intercom-bridge: ENOENT: no such file or directory, open '.*no-such-body\.json'\n$/);
  });

  it("verify says so when given a repeated header's joined values", async () => {
    const r = await runCli(["verify", PING, "--signature", `${PING_SHA1}, ${PING_SHA1}`, "--secret", SECRET]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("several signature values");
  });

  it("documents both commands in --help", async () => {
    const top = await runCli(["--help"]);
    expect(top.stdout).toMatch(/sign \[options\] <file>/);
    expect(top.stdout).toMatch(/verify \[options\] <file>/);
    const help = await runCli(["sign", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--data-binary @body.json");
    expect(help.stdout).toContain("INTERCOM_CLIENT_SECRET");
  });
}, 60_000);

describe("intercom-bridge sign / verify (in process)", () => {
  beforeEach(() => {
    vi.stubEnv("INTERCOM_CLIENT_SECRET", undefined);
    vi.stubEnv("INTERCOM_WEBHOOK_SECRET", undefined);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each(["ping.json", "conversation_user_replied.json", "ticket_closed.json", "contact_unarchived.json"])(
    "sign agrees with sign() for %s",
    async (name) => {
      const file = join(FIXTURES, name);
      const { stdout, error } = await runInProcess(["sign", file, "--secret", SECRET]);
      expect(error).toBeUndefined();
      expect(stdout).toBe(`${sign(readFileSync(file), SECRET)}\n`);
    },
  );

  it("sign matches the openssl answer for a second fixture", async () => {
    const { stdout } = await runInProcess([
      "sign",
      join(FIXTURES, "conversation_user_replied.json"),
      "--secret",
      SECRET,
    ]);
    expect(stdout).toBe(`${REPLIED_SHA1}\n`);
  });

  it("--secret wins over the environment", async () => {
    vi.stubEnv("INTERCOM_CLIENT_SECRET", "from-env");
    expect((await runInProcess(["sign", PING, "--secret", SECRET])).stdout).toBe(`${PING_SHA1}\n`);
    expect((await runInProcess(["sign", PING])).stdout).toBe(`${sign(readFileSync(PING), "from-env")}\n`);
  });

  it("reads the INTERCOM_WEBHOOK_SECRET alias", async () => {
    vi.stubEnv("INTERCOM_WEBHOOK_SECRET", SECRET);
    expect((await runInProcess(["sign", PING])).stdout).toBe(`${PING_SHA1}\n`);
  });

  it("verify accepts any of several secrets (rotation), from flags or the environment", async () => {
    expect(
      (await runInProcess(["verify", PING, "--signature", PING_SHA1, "--secret", "new", "--secret", SECRET])).error,
    ).toBeUndefined();
    vi.stubEnv("INTERCOM_CLIENT_SECRET", `new, ${SECRET}`);
    expect((await runInProcess(["verify", PING, "--signature", PING_SHA1])).error).toBeUndefined();
  });

  it("verify rejects a signature made with another secret", async () => {
    const { error } = await runInProcess([
      "verify",
      PING,
      "--signature",
      PING_SHA1,
      "--secret",
      "new",
      "--secret",
      "newer",
    ]);
    expect(error).toBeInstanceOf(IntercomBridgeError);
    expect((error as IntercomBridgeError).code).toBe("IB_ERR_SIGNATURE_INVALID");
    expect((error as Error).message).toMatch(
      /^Signature mismatch: it does not match these 442 bytes with any of the 2 secrets\./,
    );
  });

  it("verify points out a trailing newline added after signing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ib-cli-"));
    const file = join(dir, "body.json");
    writeFileSync(file, Buffer.concat([readFileSync(PING), Buffer.from("\n")]));
    const { error } = await runInProcess(["verify", file, "--signature", PING_SHA1, "--secret", SECRET]);
    expect((error as Error).message).toContain("It would match without the file's trailing newline");
  });

  it.each([
    ["", "IB_ERR_SIGNATURE_MISSING", "the signature is empty"],
    [PING_SHA1.slice(5), "IB_ERR_SIGNATURE_INVALID", 'the "sha1=" prefix is missing'],
    [`sha256=${"a".repeat(64)}`, "IB_ERR_SIGNATURE_INVALID", "SHA-256 X-Body-Signature"],
    [PING_SHA1.toUpperCase().replace("SHA1=", "sha1="), "IB_ERR_SIGNATURE_INVALID", "must be lowercase"],
    [PING_SHA1.slice(0, -2), "IB_ERR_SIGNATURE_INVALID", "expected 40 hex digits"],
    [`sha1=${"z".repeat(40)}`, "IB_ERR_SIGNATURE_INVALID", "not hexadecimal"],
    [`${PING_SHA1} `, "IB_ERR_SIGNATURE_INVALID", "whitespace"],
    ["md5=abc", "IB_ERR_SIGNATURE_INVALID", 'must start with "sha1="'],
  ])("verify explains the malformed header %j", async (header, code, why) => {
    const { error } = await runInProcess(["verify", PING, "--signature", header, "--secret", SECRET]);
    expect((error as IntercomBridgeError).code).toBe(code);
    expect((error as Error).message).toContain(why);
  });

  it("turns a usage error into a CommanderError (exit code 2 in main)", async () => {
    const { error } = await runInProcess(["verify", PING]);
    expect(error).toBeInstanceOf(CommanderError);
    expect((error as CommanderError).code).toBe("commander.missingMandatoryOptionValue");
  });
});

describe("describeHeaderProblem", () => {
  it("accepts a well-formed header", () => {
    expect(describeHeaderProblem(PING_SHA1)).toBeNull();
  });
});

describe("readBodyFile", () => {
  it("reads exact bytes from standard input with -", async () => {
    const bytes = readFileSync(PING);
    const body = await readBodyFile("-", Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]));
    expect(body.equals(bytes)).toBe(true);
  });
});

describe("cliSecrets", () => {
  it("prefers flags, then the comma-separated environment list", () => {
    expect(cliSecrets(["a"], { INTERCOM_CLIENT_SECRET: "b" })).toEqual(["a"]);
    expect(cliSecrets([], { INTERCOM_CLIENT_SECRET: " b , c ,," })).toEqual(["b", "c"]);
  });

  it("refuses an empty --secret and a missing secret", () => {
    expect(() => cliSecrets([""], { INTERCOM_CLIENT_SECRET: "b" })).toThrow("--secret must not be empty");
    expect(() => cliSecrets([], {})).toThrow(/No client secret/);
  });
});
