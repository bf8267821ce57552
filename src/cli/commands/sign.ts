/**
 * `intercom-bridge sign <file>`: prints the `X-Hub-Signature` value Intercom would send for a file's exact bytes. Also
 * the body-file reader (never decodes or re-serialises) and the secret lookup (`--secret`, else the environment) that
 * `verify` shares.
 */
import { readFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import { ConfigError } from "../../core/errors.js";
import { sign } from "../../core/signature.js";
import { secretsFromEnv } from "../../config/env.js";

/** Flags of `intercom-bridge sign`. */
export interface SignFlags {
  /** The client secret; else the first of `INTERCOM_CLIENT_SECRET` (or `INTERCOM_WEBHOOK_SECRET`). */
  secret?: string;
}

/**
 * Reads a body file as exact bytes (`-` reads standard input). Never decodes or re-serialises: the signature covers
 * the raw bytes (facts §1.1).
 */
export async function readBodyFile(file: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<Buffer> {
  if (file !== "-") return readFile(file);
  const chunks: Buffer[] = [];
  for await (const chunk of stdin)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/**
 * The secrets a CLI command uses: the `--secret` values when given, else `INTERCOM_CLIENT_SECRET` (alias
 * `INTERCOM_WEBHOOK_SECRET`), comma-separated for rotation.
 * @throws {ConfigError} when there is none; the message names both ways to provide one.
 */
export function cliSecrets(flagSecrets: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const given = flagSecrets.filter((s) => s.length > 0);
  if (flagSecrets.length > 0 && given.length === 0) throw new ConfigError("--secret must not be empty");
  const secrets = given.length > 0 ? given : secretsFromEnv(env);
  if (secrets.length === 0) {
    throw new ConfigError(
      "No client secret: pass --secret <secret> or set INTERCOM_CLIENT_SECRET (the app's client secret from Developer Hub, Basic Info)",
    );
  }
  return secrets;
}

/** `intercom-bridge sign <file>`: prints the `X-Hub-Signature` value Intercom would send for the file's exact bytes. */
export function registerSignCommand(program: Command): void {
  program
    .command("sign")
    .description(
      "Print the X-Hub-Signature value (sha1=<hex>) for the exact bytes of a body file, as Intercom would sign it.",
    )
    .argument("<file>", "the request body file, signed byte for byte (use - for standard input)")
    .addOption(
      new Option(
        "--secret <secret>",
        "the app's client secret (default: the first of INTERCOM_CLIENT_SECRET, comma-separated, or of its alias INTERCOM_WEBHOOK_SECRET)",
      ),
    )
    .addHelpText(
      "after",
      [
        "",
        "The signature is HMAC-SHA1 of the raw bytes keyed with the client secret. Any",
        "change to the bytes (re-formatted JSON, an added trailing newline) changes it,",
        "so send the file exactly as signed.",
        "",
        "Example: send a signed notification to a local receiver",
        "  $ export INTERCOM_CLIENT_SECRET=my-client-secret",
        "  $ curl -X POST http://127.0.0.1:8080/webhooks/intercom \\",
        "      -H 'Content-Type: application/json' \\",
        '      -H "X-Hub-Signature: $(intercom-bridge sign body.json)" \\',
        "      --data-binary @body.json",
        "",
        "(curl's -d would strip newlines and break the signature; use --data-binary.)",
        "The body needs a recent created_at (older than the dedupe window, 7 days by",
        "default, is refused as stale); `intercom-bridge simulate` sends captured",
        "samples with a fresh one.",
        "",
      ].join("\n"),
    )
    // Subcommands do not inherit the program's exitOverride (commander copies settings at creation), so a usage
    // error here would exit 1 instead of 2 (STYLE §10). Throwing lets main.ts map it.
    .exitOverride()
    .action(async (file: string, flags: SignFlags) => {
      const [secret] = cliSecrets(flags.secret === undefined ? [] : [flags.secret]);
      const body = await readBodyFile(file);
      process.stdout.write(`${sign(body, secret!)}\n`);
    });
}
