/** `events list`: outbound events from the store, newest first, as a table or JSON. */
import { storeOptions, withStore, type StoreFlags } from "../../store-options.js";
import { Option, type Command } from "commander";
import type { JobFilter, JobState } from "../../../delivery/types.js";
import { intArg } from "../../parse.js";
import { FROM_PRESENTED, formatEventTable, presentJob } from "./shared.js";

/** Registers `events list` on the `events` command. */
export function registerListCommand(events: Command): void {
  storeOptions(
    events
      .command("list")
      .description("List outbound events, newest first")
      .addOption(
        new Option("--state <state>", "only this state").choices(["pending", "sending", "retrying", "sent", "failed"]),
      )
      .addOption(new Option("--limit <n>", "at most this many").argParser(intArg(1)).default(50))
      .option("--event-name <name>", "only this event_name")
      .option("--json", "print JSON (items and nextCursor)"),
  ).action(async (flags: StoreFlags & { state?: string; limit: number; eventName?: string; json?: boolean }) => {
    await withStore(flags, async (store) => {
      const filter: JobFilter = { queue: "outbox", limit: Math.min(500, flags.limit) };
      if (flags.state) filter.state = FROM_PRESENTED[flags.state] as JobState;
      if (flags.eventName) filter.topic = flags.eventName;
      const page = await store.listJobs(filter);
      if (flags.json)
        process.stdout.write(
          JSON.stringify({ items: page.items.map(presentJob), nextCursor: page.nextCursor }, null, 2) + "\n",
        );
      else if (page.items.length === 0) process.stdout.write("No events match.\n");
      else process.stdout.write(formatEventTable(page.items));
    });
  });
}
