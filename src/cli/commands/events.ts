/**
 * `events send|import|list|retry|resume`: outbound Data Events from the command line, one file per subcommand under
 * `events/`. The access token comes from `INTERCOM_ACCESS_TOKEN` only (never a flag, so it stays out of shell history
 * and `ps`).
 */
import type { Command } from "commander";
import { registerImportCommand } from "./events/import.js";
import { registerListCommand } from "./events/list.js";
import { registerResumeCommand } from "./events/resume.js";
import { registerRetryCommand } from "./events/retry.js";
import { registerSendCommand } from "./events/send.js";

export { etaText, makeProgress, type ProgressOptions } from "./events/import.js";
export { formatEventTable, watchUnauthorized } from "./events/shared.js";

/** Registers `events` and its subcommands. */
export function registerEventsCommand(program: Command): void {
  const events = program
    .command("events")
    .description("Send Intercom Data Events (validated, durable, rate-paced) and inspect the outbox");
  registerSendCommand(events);
  registerImportCommand(events);
  registerListCommand(events);
  registerRetryCommand(events);
  registerResumeCommand(events);
}
