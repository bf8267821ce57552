/**
 * `intercom-bridge reconcile`: gap recovery by hand. Searches Intercom for conversations, contacts and tickets updated
 * in a window and stores a synthetic `reconcile.<type>` notification for every change the store has not seen, routed
 * to the same handlers and forwards `serve` uses (same flags and environment), whose workers then run them. Prints per
 * type how many items were scanned, already seen and synthesized.
 */
import { randomBytes } from "node:crypto";
import { InvalidArgumentError, Option, type Command } from "commander";
import { ENV, secretsFromEnv } from "../../config/env.js";
import { ConfigError } from "../../core/errors.js";
import { createLogger } from "../../core/logger.js";
import { createReceiver } from "../../core/receiver.js";
import type { IntercomRegion } from "../../outbound/intercom-api.js";
import { reconcile, type ReconcileReport } from "../../reconcile/reconcile.js";
import { parseResources, SEARCH_RESOURCES, type SearchResource } from "../../reconcile/resources.js";
import { createSearchApi } from "../../reconcile/search-api.js";
import { intArg, timeArg } from "../parse.js";
import { intercomApiOptions, outboundOptions } from "../outbound-options.js";
import { forwardsOf, routingOptions, type RoutingFlags } from "../routing-options.js";
import { storeOptions, withStore, type StoreFlags } from "../store-options.js";
import { alignColumns } from "../table.js";

interface ReconcileFlags extends StoreFlags, RoutingFlags {
  since: number;
  until?: number;
  only: SearchResource[];
  dryRun?: boolean;
  json?: boolean;
  perPage: number;
  region?: IntercomRegion;
  baseUrl?: string;
  intercomVersion?: string;
  rateLimitPerMinute: number;
  rateLimitWindowSeconds: number;
}

/** The outbound pacing flags reconcile shares with serve and events (the searches use the same rate budget). */
const PACING_FLAGS = new Set(["--rate-limit-per-minute", "--rate-limit-window-seconds"]);

/** `intercom-bridge reconcile`: see the file comment. */
export function registerReconcileCommand(program: Command): void {
  const cmd = program
    .command("reconcile")
    .description(
      "Recover the changes Intercom could not deliver while the endpoint was down: search conversations, contacts and tickets updated in the window and store a synthetic reconcile.<type> notification for each change this store has not seen, routed to the same --handlers and --forward targets as serve (whose workers run them).\n" +
        `Needs ${ENV.accessToken} (a token that may read conversations, contacts and tickets). A second run over the same window stores nothing.`,
    )
    .addOption(
      new Option("--since <time>", "start of the window: an age such as 2h or 90m, an ISO-8601 time, or unix seconds")
        .argParser(timeArg)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--until <time>", "end of the window (same forms as --since; default: now)").argParser(timeArg),
    )
    .addOption(
      new Option("--only <types>", `comma-separated subset of ${SEARCH_RESOURCES.join(",")}`)
        .argParser(resourcesArg)
        .default([...SEARCH_RESOURCES], SEARCH_RESOURCES.join(",")),
    )
    .option("--dry-run", "count what would be synthesized; store nothing")
    .option("--json", "print the counts as JSON")
    .addOption(
      new Option("--per-page <n>", "search results per page (Intercom allows up to 150)")
        .argParser(intArg(1))
        .default(150),
    );
  // The store serve uses: a typo must not create a new one whose synthetic notifications no serve ever delivers.
  storeOptions(cmd, { existing: true });
  for (const option of intercomApiOptions()) cmd.addOption(option);
  for (const option of outboundOptions().filter((o) => PACING_FLAGS.has(o.long ?? ""))) cmd.addOption(option);
  for (const option of routingOptions()) cmd.addOption(option);
  cmd.action(async (flags: ReconcileFlags, command: Command) => {
    const handlersOrigin = command.getOptionValueSource("handlers") === "env" ? ENV.handlers : "--handlers";
    const token = process.env[ENV.accessToken];
    if (!token)
      throw new ConfigError(
        `${ENV.accessToken} is not set: export an Intercom access token that may read conversations, contacts and tickets`,
      );
    if (flags.perPage > 150) throw new ConfigError("--per-page: Intercom returns at most 150 results per page");
    const api = createSearchApi({
      token,
      ...(flags.region ? { region: flags.region } : {}),
      ...(flags.baseUrl ? { baseUrl: flags.baseUrl } : {}),
      ...(flags.intercomVersion ? { intercomVersion: flags.intercomVersion } : {}),
    });
    const report = await withStore(flags, async (store) => {
      const forwards = forwardsOf(flags);
      // This receiver only ingests what reconcile builds; it never verifies a request, so any secret will do when
      // none is configured (forwards are signed by serve's workers, which have the real one).
      const configured = secretsFromEnv();
      const secrets = configured.length > 0 ? configured : [randomBytes(24).toString("base64url")];
      const receiver = createReceiver({
        secrets,
        store,
        dedupeTtlMs: flags.dedupeRetention,
        retry: {
          maxAttempts: flags.maxAttempts,
          backoff: { type: "exponential", delayMs: flags.retryBaseMs, jitter: 0.2, maxDelayMs: 3_600_000 },
        },
      });
      const { registerTargets } = await import("../../service/create-service.js");
      await registerTargets(
        receiver,
        {
          ...(flags.handlers ? { handlersModule: flags.handlers, handlersModuleOrigin: handlersOrigin } : {}),
          forwards,
          builtInLogHandler: !flags.handlers && forwards.length === 0,
          forwardSecret: flags.forwardSecret ?? secrets[0]!,
        },
        // registerTargets' notes are for serve's log, not this command's output.
        createLogger({}),
      );
      return reconcile({
        api,
        store,
        receiver,
        sinceMs: flags.since,
        ...(flags.until !== undefined ? { untilMs: flags.until } : {}),
        resources: flags.only,
        dryRun: flags.dryRun === true,
        perPage: flags.perPage,
        pacing: {
          rateLimitPerMinute: flags.rateLimitPerMinute,
          rateLimitWindowMs: flags.rateLimitWindowSeconds * 1000,
        },
        log: { info: (obj, msg) => (obj && "waitMs" in obj ? process.stderr.write(`${msg ?? ""}\n`) : undefined) },
      });
    });
    process.stdout.write(flags.json ? JSON.stringify(reportJson(report)) + "\n" : formatReport(report));
  });
}

/** The report as `--json` prints it: ISO times, counts per type. */
export function reportJson(report: ReconcileReport): Record<string, unknown> {
  return {
    appId: report.appId,
    since: new Date(report.sinceMs).toISOString(),
    until: new Date(report.untilMs).toISOString(),
    dryRun: report.dryRun,
    counts: report.counts,
    pages: report.pages,
    rateLimited: report.rateLimited,
    durationMs: report.durationMs,
  };
}

/** The report as a table. */
export function formatReport(report: ReconcileReport): string {
  const rows = [["TYPE", "SCANNED", "ALREADY SEEN", report.dryRun ? "WOULD SYNTHESIZE" : "SYNTHESIZED"]];
  let total = 0;
  for (const [type, c] of Object.entries(report.counts)) {
    rows.push([type, String(c.scanned), String(c.alreadySeen), String(c.synthesized)]);
    total += c.synthesized;
  }
  const head = `Reconciled ${new Date(report.sinceMs).toISOString()} .. ${new Date(report.untilMs).toISOString()} for app ${report.appId}${report.dryRun ? " (dry run: nothing stored)" : ""}\n`;
  const tail = report.dryRun
    ? ""
    : total > 0
      ? `${total} synthetic notification${total === 1 ? "" : "s"} stored; serve's workers deliver them to your handlers (topics reconcile.*).\n`
      : "Nothing to recover: every change in the window was already seen.\n";
  return head + alignColumns(rows) + tail;
}

function resourcesArg(value: string): SearchResource[] {
  try {
    return parseResources(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}
