/**
 * `intercom-bridge verify <file> --signature <value>`: checks a signature against a file's exact bytes and exits 0 when
 * it is valid, 1 when it is not, saying what is wrong with a header that is not even well formed, never printing a
 * secret.
 */
import { Option, type Command } from "commander";
import { SignatureVerificationError } from "../../core/errors.js";
import { verifySignature } from "../../core/signature.js";
import { cliSecrets, readBodyFile } from "./sign.js";

/** Flags of `intercom-bridge verify`. */
export interface VerifyFlags {
  /** The `X-Hub-Signature` header value to check. */
  signature: string;
  /** Client secrets (repeatable); else `INTERCOM_CLIENT_SECRET`. */
  secret?: string[];
}

/**
 * Why a header is not even a well-formed `X-Hub-Signature` (`sha1=` + 40 lowercase hex), or `null` when it is.
 * The text never includes a secret.
 */
export function describeHeaderProblem(header: string): string | null {
  const value = header;
  if (value.length === 0) return "the signature is empty (missing X-Hub-Signature)";
  if (value.includes(",")) {
    return "several signature values (a repeated X-Hub-Signature header, joined with a comma); Intercom sends exactly one";
  }
  if (value !== value.trim()) return "the signature has leading or trailing whitespace";
  if (/^sha256=/i.test(value) || /^[0-9a-fA-F]{64}$/.test(value)) {
    return "this looks like a SHA-256 X-Body-Signature; webhook notifications carry X-Hub-Signature: sha1=<40 hex>";
  }
  if (!value.startsWith("sha1=")) {
    return /^[0-9a-fA-F]{40}$/.test(value)
      ? 'the "sha1=" prefix is missing'
      : 'the signature must start with "sha1=" followed by 40 hex digits';
  }
  const hex = value.slice(5);
  if (!/^[0-9a-fA-F]*$/.test(hex)) return 'the part after "sha1=" is not hexadecimal';
  if (hex.length !== 40) return `expected 40 hex digits after "sha1=", got ${hex.length}`;
  if (hex !== hex.toLowerCase()) return "the hex digits must be lowercase, as Intercom sends them";
  return null;
}

/** `intercom-bridge verify <file> --signature <value>`: exits 0 when the signature is valid, 1 when it is not. */
export function registerVerifyCommand(program: Command): void {
  program
    .command("verify")
    .description(
      "Check an X-Hub-Signature value against the exact bytes of a body file. Exits 0 when valid, 1 when not (and says why).",
    )
    .argument("<file>", "the request body file exactly as received (use - for standard input)")
    .requiredOption("--signature <value>", 'the X-Hub-Signature header value, e.g. "sha1=6f1e…"')
    .addOption(
      new Option(
        "--secret <secret>",
        "a client secret to try; repeat for rotation (default: INTERCOM_CLIENT_SECRET, comma-separated, or its alias INTERCOM_WEBHOOK_SECRET)",
      ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    )
    .addHelpText(
      "after",
      [
        "",
        "Exit codes:",
        "  0  the signature is valid for these bytes",
        "  1  not valid: the header is malformed (missing, no sha1= prefix, wrong length,",
        "     not lowercase hex) or no secret matches; or no secret is configured",
        "  2  usage error",
        "Secrets are never printed.",
        "",
        "Example",
        "  $ INTERCOM_CLIENT_SECRET=my-client-secret intercom-bridge verify body.json \\",
        "      --signature 'sha1=<the X-Hub-Signature value received>'",
        "",
      ].join("\n"),
    )
    // Subcommands do not inherit the program's exitOverride (commander copies settings at creation), so a usage
    // error here would exit 1 instead of 2 (STYLE §10). Throwing lets main.ts map it.
    .exitOverride()
    .action(async (file: string, flags: VerifyFlags) => {
      const secrets = cliSecrets(flags.secret ?? []);
      const body = await readBodyFile(file);
      const problem = describeHeaderProblem(flags.signature);
      if (problem !== null) {
        throw new SignatureVerificationError(
          flags.signature.length === 0 ? "IB_ERR_SIGNATURE_MISSING" : "IB_ERR_SIGNATURE_INVALID",
          `Malformed signature: ${problem}`,
        );
      }
      if (verifySignature(body, flags.signature, secrets)) {
        process.stdout.write(
          `Valid: the signature matches the ${body.length} bytes of ${file === "-" ? "standard input" : file}.\n`,
        );
        return;
      }
      const of = secrets.length === 1 ? "the secret" : `any of the ${secrets.length} secrets`;
      let hint =
        "Check that the secret is the client secret of the app that owns the webhook subscription, and that the bytes are exactly as received.";
      // A trailing newline added by an editor or `echo` is the most common byte difference.
      if (
        body.length > 0 &&
        body[body.length - 1] === 0x0a &&
        verifySignature(body.subarray(0, body.length - 1), flags.signature, secrets)
      ) {
        hint = "It would match without the file's trailing newline: the file was changed after signing.";
      }
      throw new SignatureVerificationError(
        "IB_ERR_SIGNATURE_INVALID",
        `Signature mismatch: it does not match these ${body.length} bytes with ${of}. ${hint}`,
      );
    });
}
