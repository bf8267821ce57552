/**
 * Registers every subcommand (each in its own file, exporting `register…Command(program)`) and gives each a one-line
 * summary for the command list; the long text stays in the command's own `--help`.
 */
import type { Command } from "commander";
import { registerServeCommand } from "./serve.js";
import { registerOperatorCommands, registerPurgeCommand } from "./operator.js";
import { registerSimulateCommand } from "./simulate.js";
import { registerEventsCommand } from "./events.js";
import { registerFakeIntercomCommand } from "./fake-intercom.js";
import { registerSignCommand } from "./sign.js";
import { registerVerifyCommand } from "./verify.js";
import { registerTopicsCommand } from "./topics.js";
import { registerDoctorCommand } from "./doctor.js";

/** The command list's one-liners, for commands whose own file does not set one. */
const SUMMARIES: Record<string, string> = {
  deliveries: "list deliveries (one per notification and handler or forward)",
  inspect: "show a notification, its deliveries and every attempt",
  replay: "requeue a notification's deliveries, or every dead one",
  purge: "delete finished records older than a given age",
  simulate: "send realistic signed notifications to a running serve",
  events: "send, import, list and retry outbound Data Events",
  "fake-intercom": "run a local stand-in for Intercom's Data Events API",
  sign: "print the X-Hub-Signature of a body",
  verify: "check a body against an X-Hub-Signature",
};

/** Adds every subcommand. */
export function registerCommands(program: Command): void {
  registerServeCommand(program);
  registerDoctorCommand(program);
  registerTopicsCommand(program);
  registerOperatorCommands(program);
  registerPurgeCommand(program);
  registerSimulateCommand(program);
  registerEventsCommand(program);
  registerFakeIntercomCommand(program);
  registerSignCommand(program);
  registerVerifyCommand(program);
  for (const cmd of program.commands) {
    const summary = SUMMARIES[cmd.name()];
    if (summary !== undefined && cmd.summary() === "") cmd.summary(summary);
  }
}
