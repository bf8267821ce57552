/**
 * The operator commands over any store: `deliveries list`, `inspect <notification-id>`, `replay` (one notification,
 * through the replay operation the dashboard uses too, or the dead deliveries a filter selects) and `purge`
 * (retention by hand). They read and write through the store's read and admin parts only.
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import { storeOptions, withStore, type StoreFlags } from "../store-options.js";
import { IntercomBridgeError } from "../../core/errors.js";
import {
  JOB_STATES,
  type JobFilter,
  type JobState,
  type JobSummary,
  type QueueName,
  type RecordDetail,
} from "../../delivery/types.js";
import { replayRecord } from "../../store/replay.js";
import type { StoreReader } from "../../store/store.js";
import { durationArg, intArg, timeArg } from "../parse.js";
import { alignColumns } from "../table.js";
import { isSyntheticTopic } from "../../reconcile/resources.js";

function stateArg(value: string): JobState {
  if (!(JOB_STATES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${JOB_STATES.join(", ")}`);
  return value as JobState;
}

function fmtTime(ms: number | null): string {
  return ms === null ? "-" : new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

/** Renders deliveries as an aligned text table. */
export function formatJobTable(jobs: readonly JobSummary[]): string {
  const rows = [
    ["DELIVERY", "STATE", "ATTEMPTS", "TOPIC", "HANDLER", "NOTIFICATION", "RECEIVED", "NEXT RUN", "LAST ERROR"],
    ...jobs.map((j) => [
      j.id,
      j.state,
      `${j.attempts}/${j.maxAttempts}`,
      j.topic,
      j.target,
      j.notificationId ?? `(record ${j.recordId})`,
      fmtTime(j.receivedAt),
      j.state === "pending" || j.state === "failed" ? fmtTime(j.runAt) : "-",
      j.lastError ? `${j.lastError.code ?? j.lastError.name}: ${j.lastError.message}`.slice(0, 80) : "",
    ]),
  ];
  return alignColumns(rows);
}

/** `deliveries list`, `inspect` and `replay`: what operators use to see and requeue work. */
export function registerOperatorCommands(program: Command): void {
  const deliveries = program
    .command("deliveries")
    .description("Inspect deliveries (one per notification and handler or forward target)");
  storeOptions(
    deliveries
      .command("list")
      .description("List deliveries, newest first")
      .addOption(new Option("--state <state>", `only this state: ${JOB_STATES.join("|")}`).argParser(stateArg))
      .option("--topic <pattern>", "exact topic, group.* or *")
      .option("--handler <name>", "only this handler or forward target")
      .addOption(
        new Option("--queue <queue>", "inbound (webhooks) or outbox (Data Events)")
          .choices(["inbound", "outbox"])
          .default("inbound"),
      )
      .addOption(new Option("--limit <n>", "at most this many").argParser(intArg(1)).default(50))
      .option("--json", "print JSON (one object with items and nextCursor)"),
    { existing: true },
  ).action(
    async (
      flags: StoreFlags & {
        state?: JobState;
        topic?: string;
        handler?: string;
        queue: QueueName;
        limit: number;
        json?: boolean;
      },
    ) => {
      await withStore(flags, async (store) => {
        const filter: JobFilter = { queue: flags.queue, limit: Math.min(500, flags.limit) };
        if (flags.state) filter.state = flags.state;
        if (flags.topic) filter.topic = flags.topic;
        if (flags.handler) filter.target = flags.handler;
        const page = await store.listJobs(filter);
        if (flags.json) process.stdout.write(JSON.stringify(page, null, 2) + "\n");
        else if (page.items.length === 0) process.stdout.write("No deliveries match.\n");
        else process.stdout.write(formatJobTable(page.items));
      });
    },
  );

  storeOptions(
    program
      .command("inspect <notification-id>")
      .description(
        "Show a notification (by Intercom id, or by record id), its deliveries and every attempt with its error",
      )
      .option("--json", "print JSON"),
    { existing: true },
  ).action(async (id: string, flags: StoreFlags & { json?: boolean }) => {
    await withStore(flags, async (store) => {
      const detail = await findRecord(store, id, flags.store);
      const synthetic = isSyntheticTopic(detail.record.topic);
      if (flags.json) {
        process.stdout.write(JSON.stringify({ ...detail, synthetic }, null, 2) + "\n");
        return;
      }
      const r = detail.record;
      let payload: unknown = r.body;
      try {
        payload = JSON.parse(r.body);
      } catch {
        /* keep the raw text */
      }
      const out = [
        `Notification ${r.notificationId ?? "(no id)"}  record ${r.id}`,
        `  topic       ${r.topic}`,
        ...(synthetic
          ? [
              "  synthetic   yes: stored by reconcile from Intercom's REST API for a change no webhook delivered (the item is the REST object)",
            ]
          : []),
        `  app_id      ${r.appId ?? "-"}`,
        `  item        ${r.itemId ?? "-"}`,
        `  created_at  ${new Date(r.createdAt * 1000).toISOString()}`,
        `  received    ${new Date(r.receivedAt).toISOString()}`,
        ...(r.bodyBase64 !== undefined
          ? [
              `  body        not valid UTF-8 (${Buffer.from(r.bodyBase64, "base64").length} bytes): shown decoded, invalid bytes as U+FFFD; forwards and replays send the exact bytes`,
            ]
          : []),
        "",
        `Deliveries (${detail.jobs.length}):`,
      ];
      for (const j of detail.jobs) {
        out.push(`  ${j.target}  ${j.state}  attempts ${j.attempts}/${j.maxAttempts}  id ${j.id}`);
        for (const a of j.history) {
          out.push(
            `    #${a.attempt} ${a.outcome.padEnd(13)} ${fmtTime(a.startedAt)} ${a.finishedAt - a.startedAt} ms${a.error ? `  ${a.error.code ?? a.error.name}: ${a.error.message}` : ""}`,
          );
        }
      }
      out.push("", "Payload:", JSON.stringify(payload, null, 2));
      process.stdout.write(out.join("\n") + "\n");
    });
  });

  storeOptions(
    program
      .command("replay [notification-id]")
      .description(
        "Requeue the deliveries of one notification, or with --dead every dead delivery matching the filters; prints how many",
      )
      .option("--dead", "replay dead deliveries (use with --topic/--since/--handler to narrow)")
      .option(
        "--to <handler>",
        "with a notification id: deliver it once more to this handler or forward-target name, as a new delivery with the default retry policy (for a handler renamed since it arrived)",
      )
      .option("--topic <pattern>", "with --dead: exact topic, group.* or *")
      .option("--handler <name>", "with --dead: only this handler or forward target")
      .addOption(
        new Option(
          "--since <time>",
          "with --dead: received at or after (ISO time, unix seconds, or an age such as 2h)",
        ).argParser(timeArg),
      )
      .addOption(new Option("--queue <queue>", "inbound or outbox").choices(["inbound", "outbox"]).default("inbound")),
    { existing: true },
  ).action(
    async (
      id: string | undefined,
      flags: StoreFlags & {
        dead?: boolean;
        to?: string;
        topic?: string;
        handler?: string;
        since?: number;
        queue: QueueName;
      },
    ) => {
      if (!id && !flags.dead)
        throw new IntercomBridgeError("IB_ERR_CONFIG", "give a notification id, or --dead to replay dead deliveries");
      if (id && flags.dead)
        throw new IntercomBridgeError("IB_ERR_CONFIG", "give either a notification id or --dead, not both");
      if (flags.to !== undefined && flags.dead)
        throw new IntercomBridgeError("IB_ERR_CONFIG", "--to takes a notification id, not --dead");
      if (flags.to !== undefined && flags.to.trim() === "")
        throw new IntercomBridgeError("IB_ERR_CONFIG", "--to needs a handler or forward-target name");
      await withStore(flags, async (store) => {
        if (flags.dead) {
          const filter: JobFilter = { queue: flags.queue, state: "dead" };
          if (flags.topic) filter.topic = flags.topic;
          if (flags.handler) filter.target = flags.handler;
          if (flags.since !== undefined) filter.since = flags.since;
          const n = await store.requeueMany(filter);
          process.stdout.write(`Requeued ${n} dead deliver${n === 1 ? "y" : "ies"}.\n`);
          return;
        }
        const result = await replayRecord(
          store,
          await recordIdOf(store, id!),
          flags.to !== undefined ? { to: flags.to } : {},
        );
        if (result.status !== "requeued" && result.status !== "delivered") {
          const code = result.status === "not-found" ? "IB_ERR_NOT_FOUND" : "IB_ERR_CONFLICT";
          throw new IntercomBridgeError(code, result.message);
        }
        process.stdout.write(`${result.message}\n`);
      });
    },
  );
}

/** `intercom-bridge purge`: retention by hand (serve does it every minute with --retention). */
export function registerPurgeCommand(program: Command): void {
  storeOptions(
    program
      .command("purge")
      .description(
        "Delete notifications and outbound events received longer ago than --older-than whose deliveries are all done or dead; prints how many",
      )
      .addOption(
        new Option("--older-than <duration>", "age of the records to delete (e.g. 30d, 12h)")
          .argParser(durationArg)
          .makeOptionMandatory(),
      ),
    { existing: true },
  ).action(async (flags: StoreFlags & { olderThan: number }) => {
    await withStore(flags, async (store) => {
      const before = Date.now() - flags.olderThan;
      let total = 0;
      for (;;) {
        const n = await store.purgeRecords(before, 1_000);
        total += n;
        if (n < 1_000) break;
      }
      process.stdout.write(
        `Deleted ${total} record${total === 1 ? "" : "s"} received before ${new Date(before).toISOString()} with all deliveries done or dead.\n`,
      );
    });
  });
}

/** The record id of a notification id (or of a record id given as is). */
async function recordIdOf(store: Pick<StoreReader, "listRecords">, id: string): Promise<string> {
  const byNotification = await store.listRecords({ notificationId: id, limit: 1 });
  return byNotification.items[0]?.record.id ?? id;
}

async function findRecord(store: StoreReader, id: string, url: string): Promise<RecordDetail> {
  const detail = await store.getRecord(await recordIdOf(store, id));
  if (!detail) throw new IntercomBridgeError("IB_ERR_NOT_FOUND", `No notification with id "${id}" in the store ${url}`);
  return detail;
}
