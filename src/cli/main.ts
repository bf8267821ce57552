#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import { registerCommands } from "./commands/index.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/** Builds the `intercom-bridge` program. Exported for tests (`exitOverride` keeps the process alive). */
export function createProgram(): Command {
  const program = new Command("intercom-bridge")
    .description(
      "Intercom webhooks in (verified, stored before 200, deduplicated, retried, replayable) and Data Events out (validated, durable, rate-paced).",
    )
    .version(pkg.version, "-v, --version", "print the version")
    // A usage error is one line (commander adds its did-you-mean), then where the help is; never the whole help.
    .showHelpAfterError("(add --help for usage)")
    .exitOverride();
  // Subcommands inherit exitOverride only when it is set before they are added: usage errors then exit 2.
  registerCommands(program);
  return program;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain || process.argv[1]?.endsWith("/intercom-bridge") || process.argv[1]?.endsWith("/cli/main.js")) {
  const program = createProgram();
  program.parseAsync(process.argv).catch((err: unknown) => {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors exit 2.
      process.exit(err.exitCode === 0 ? 0 : 2);
    }
    const e = err as { message?: string; code?: unknown };
    const message = e.message ?? String(err);
    // Our own codes are worth showing; Node's (ENOENT…) already start the message.
    const code = typeof e.code === "string" && e.code.startsWith("IB_ERR_") ? `${e.code}: ` : "";
    process.stderr.write(`intercom-bridge: ${code}${message}\n`);
    // A configuration mistake (a flag, a variable, a handlers module) is a usage error: 2, like commander's own.
    process.exit(e.code === "IB_ERR_CONFIG" ? 2 : 1);
  });
}
