import type { Command } from "commander";

/** Adds every subcommand. Each command lives in its own file and exports `register…Command(program)`. */
export function registerCommands(_program: Command): void {
  // Commands register here, one line each.
}
