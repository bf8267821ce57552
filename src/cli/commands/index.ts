import type { Command } from "commander";
import { registerServeCommand } from "./serve.js";
import { registerOperatorCommands, registerPurgeCommand } from "./operator.js";
import { registerSimulateCommand } from "./simulate.js";
import { registerEventsCommand } from "./events.js";
import { registerFakeIntercomCommand } from "./fake-intercom.js";
import { registerSignCommand } from "./sign.js";
import { registerVerifyCommand } from "./verify.js";

/** Adds every subcommand. Each command lives in its own file and exports `register…Command(program)`. */
export function registerCommands(program: Command): void {
  registerServeCommand(program);
  registerOperatorCommands(program);
  registerPurgeCommand(program);
  registerSimulateCommand(program);
  registerEventsCommand(program);
  registerFakeIntercomCommand(program);
  registerSignCommand(program);
  registerVerifyCommand(program);
}
