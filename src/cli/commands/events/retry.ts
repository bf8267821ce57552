/**
 * `events retry [id] | --failed`: requeue failed (or sent) events, then send them from this process and wait for the
 * outcome, unless `--no-wait`.
 */
import { withStore } from "../../store-options.js";
import { type Command } from "commander";
import type { JobId } from "../../../delivery/types.js";
import { failureReason } from "../../../outbound/bulk-import.js";
import {
  PRESENTED,
  formatFailedByReason,
  makeTracker,
  sendOptions,
  watchUnauthorized,
  type SendFlags,
} from "./shared.js";

/** Registers `events retry` on the `events` command. */
export function registerRetryCommand(events: Command): void {
  sendOptions(
    events
      .command("retry [id]")
      .description(
        "Send a failed (or sent) event again, or every failed one with --failed: requeue it, then send it now and wait for the outcome (exit 0 only when Intercom accepted every one). With --no-wait, only requeue; a running `serve` or the next `events send|import|retry` sends it.",
      )
      .option("--failed", "retry every failed event")
      .option("--no-wait", "only requeue; do not send from this process"),
  ).action(async (id: string | undefined, flags: SendFlags & { failed?: boolean; wait: boolean }, cmd: Command) => {
    if ((id === undefined) === (flags.failed !== true))
      cmd.error("error: give an event id or --failed (not both)", { exitCode: 2, code: "intercom-bridge.usage" });
    const code = await withStore(flags, async (store) => {
      // Made before anything is requeued, so a missing token changes nothing.
      const tracker = flags.wait ? makeTracker(store, flags) : undefined;
      const ids: JobId[] = [];
      if (flags.failed) {
        const dead: JobId[] = [];
        let cursor: string | null = null;
        do {
          const page = await store.listJobs({
            queue: "outbox",
            state: "dead",
            limit: 500,
            ...(cursor ? { cursor } : {}),
          });
          dead.push(...page.items.map((j) => j.id));
          cursor = page.nextCursor;
        } while (cursor !== null);
        for (const jobId of dead) if ((await store.requeue(jobId)) === "requeued") ids.push(jobId);
        process.stdout.write(`requeued ${ids.length} failed event${ids.length === 1 ? "" : "s"}\n`);
      } else {
        const job = await store.getJob(id as string);
        const r = job?.queue === "outbox" ? await store.requeue(job.id) : "not-found";
        if (r !== "requeued") {
          process.stderr.write(
            r === "conflict" && job
              ? `${id} is ${PRESENTED[job.state]}; only sent or failed events can be retried\n`
              : `no outbound event with id ${id}\n`,
          );
          return 1;
        }
        ids.push(job!.id);
        process.stdout.write(`requeued ${id}\n`);
      }
      if (!tracker || ids.length === 0) return 0;
      const controller = new AbortController();
      const stopWatch = await watchUnauthorized(tracker, store, controller);
      const onSignal = (): void => controller.abort();
      process.once("SIGINT", onSignal);
      tracker.start();
      try {
        const jobs = await tracker.waitFor(ids, { signal: controller.signal });
        let sent = 0;
        let unfinished = 0;
        const failed: Record<string, number> = {};
        for (const job of jobs) {
          if (job.state === "done") {
            sent++;
            process.stdout.write(`sent ${job.topic} [${job.id}]\n`);
          } else if (job.state === "dead") {
            const reason = failureReason(job);
            failed[reason] = (failed[reason] ?? 0) + 1;
            process.stdout.write(`failed: ${job.lastError?.message ?? reason} [${job.id}]\n`);
          } else unfinished++;
        }
        if (ids.length > 1) process.stdout.write(`sent:    ${sent}\n${formatFailedByReason(failed)}`);
        if (unfinished > 0)
          process.stdout.write(
            `not sent yet: ${unfinished} (Intercom refused the access token or the run was interrupted; they stay queued)\n`,
          );
        return sent === ids.length ? 0 : 1;
      } finally {
        stopWatch();
        process.off("SIGINT", onSignal);
        await tracker.close();
      }
    });
    process.exitCode = code;
  });
}
