/**
 * `events send`: validate, store and send one event now, and print the outcome (exit 0 only when Intercom accepted
 * it).
 */
import { withStore } from "../../store-options.js";
import { Option, type Command } from "commander";
import { EventValidationError } from "../../../core/errors.js";
import { failureReason } from "../../../outbound/bulk-import.js";
import { intArg } from "../../parse.js";
import { makeTracker, sendOptions, watchUnauthorized, type SendFlags } from "./shared.js";

/** Registers `events send` on the `events` command. */
export function registerSendCommand(events: Command): void {
  sendOptions(
    events
      .command("send")
      .description("Validate, store and send one event now; prints the outcome (exit 0 only when Intercom accepted it)")
      .requiredOption("--event-name <name>", "event_name, e.g. invited-friend")
      .option("--user-id <id>", "your external user id (user_id)")
      .option("--id <id>", "Intercom contact id (required for Leads)")
      .option("--email <email>", "contact email")
      .option("--metadata <json>", 'metadata as a flat JSON object, e.g. \'{"plan":"pro"}\'')
      .addOption(new Option("--created-at <seconds>", "created_at, unix seconds (default: now)").argParser(intArg(0))),
  ).action(
    async (
      flags: SendFlags & {
        eventName: string;
        userId?: string;
        id?: string;
        email?: string;
        metadata?: string;
        createdAt?: number;
      },
      cmd: Command,
    ) => {
      const input: Record<string, unknown> = { event_name: flags.eventName };
      if (flags.userId !== undefined) input.user_id = flags.userId;
      if (flags.id !== undefined) input.id = flags.id;
      if (flags.email !== undefined) input.email = flags.email;
      if (flags.createdAt !== undefined) input.created_at = flags.createdAt;
      if (flags.metadata !== undefined) {
        try {
          input.metadata = JSON.parse(flags.metadata) as unknown;
        } catch (e) {
          cmd.error(`error: --metadata must be a JSON object such as '{"plan":"pro"}': ${(e as Error).message}`, {
            exitCode: 2,
            code: "intercom-bridge.usage",
          });
        }
      }
      const code = await withStore(flags, async (store) => {
        const tracker = makeTracker(store, flags);
        let result;
        try {
          result = await tracker.track(input);
        } catch (e) {
          if (e instanceof EventValidationError) {
            for (const i of e.issues) process.stderr.write(`invalid: ${i.field}: ${i.message}\n`);
            return 1;
          }
          throw e;
        }
        for (const w of result.warnings) process.stderr.write(`warning: ${w.field}: ${w.message}\n`);
        const controller = new AbortController();
        const stopWatch = await watchUnauthorized(tracker, store, controller);
        tracker.start();
        try {
          const [job] = await tracker.waitFor(result.jobId ? [result.jobId] : [], { signal: controller.signal });
          if (job?.state === "done") {
            process.stdout.write(
              `sent ${result.event.event_name} (created_at ${result.event.created_at})${result.isDuplicate ? " — already sent before" : ""} [${job.id}]\n`,
            );
            return 0;
          }
          if (job?.state === "dead") {
            process.stdout.write(`failed: ${job.lastError?.message ?? failureReason(job)} [${job.id}]\n`);
            return 1;
          }
          process.stdout.write(
            `not sent yet: Intercom refused the access token; the event stays queued [${job?.id ?? "?"}]\n`,
          );
          return 1;
        } finally {
          stopWatch();
          await tracker.close();
        }
      });
      process.exitCode = code;
    },
  );
}
