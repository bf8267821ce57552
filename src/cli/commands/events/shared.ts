/**
 * What the `events` subcommands share: the sending options and the tracker they build from them, the terminal logger,
 * the token-refusal watch, and the tables and summaries they print. The access token is read from the environment
 * only, never a flag. Imports no store implementation.
 */
import { existsSync } from "node:fs";
import { storeOptions, withStore, type StoreFlags } from "../../store-options.js";
import { EVENT_STATE_FROM_NAME, EVENT_STATE_NAMES } from "../../../outbound/event-states.js";
import { Option, type Command } from "commander";
import { ENV } from "../../../config/env.js";
import { ConfigError } from "../../../core/errors.js";
import type { JobSummary } from "../../../delivery/types.js";
import type { Store } from "../../../store/store.js";
import { failureReason, type ImportSummary } from "../../../outbound/bulk-import.js";
import type { IntercomRegion } from "../../../outbound/intercom-api.js";
import { EVENT_NAMES_SET } from "../../../outbound/event-names.js";
import { createEventTracker, type EventTracker } from "../../../outbound/outbox.js";
import type { Logger } from "../../../core/logger.js";
import { OUTBOX_LIMITER, PAUSE_REASON_UNAUTHORIZED } from "../../../outbound/rate-limit.js";
import { durationArg, intArg } from "../../parse.js";
import { intercomApiOptions, outboundOptions } from "../../outbound-options.js";
import { sqlitePathOf } from "../../store-url.js";
import { alignColumns } from "../../table.js";

/** The flags of every command that sends (`send`, `import`, `retry`). */
export interface SendFlags extends StoreFlags {
  region?: IntercomRegion;
  baseUrl?: string;
  intercomVersion?: string;
  rateLimitPerMinute: number;
  rateLimitWindowSeconds: number;
  concurrency: number;
  timeout: number;
  lease: number;
  metadataOverflow: "error" | "truncate";
  metadataKeyCase: "warn" | "error";
  maxEventNames: number;
}

/** How an outbound delivery state is shown (`sent`, `failed`, …). */
export const PRESENTED = EVENT_STATE_NAMES;
/** The delivery state behind a shown name. */
export const FROM_PRESENTED = EVENT_STATE_FROM_NAME;

/** Adds the store, Intercom and pacing options every sending command takes. */
export function sendOptions(command: Command): Command {
  const cmd = storeOptions(command);
  for (const option of intercomApiOptions()) cmd.addOption(option);
  cmd
    .addOption(new Option("--concurrency <n>", "requests in flight at once").argParser(intArg(1)).default(8))
    .addOption(
      new Option("--timeout <duration>", "per-request timeout (500ms, 10s, …)")
        .argParser(durationArg)
        .default(10_000, "10s"),
    )
    .addOption(
      new Option("--lease <duration>", "how long a crashed run holds an event before another run may send it")
        .argParser(durationArg)
        .default(30_000, "30s"),
    );
  for (const option of outboundOptions()) cmd.addOption(option);
  return cmd;
}

/** The tracker of one command run, from its flags; the access token comes from the environment only. */
export function makeTracker(store: Store, flags: SendFlags): EventTracker {
  const token = process.env[ENV.accessToken];
  if (!token)
    throw new ConfigError(`${ENV.accessToken} is not set: export an Intercom access token with write permission`);
  return createEventTracker({
    store,
    token,
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.baseUrl ? { baseUrl: flags.baseUrl } : {}),
    ...(flags.intercomVersion ? { intercomVersion: flags.intercomVersion } : {}),
    rateLimitPerMinute: flags.rateLimitPerMinute,
    rateLimitWindowMs: flags.rateLimitWindowSeconds * 1000,
    concurrency: flags.concurrency,
    timeoutMs: flags.timeout,
    leaseMs: flags.lease,
    metadataOverflow: flags.metadataOverflow,
    metadataKeyCase: flags.metadataKeyCase,
    maxEventNames: flags.maxEventNames,
    pollMs: 50,
    log: cliLogger(),
  });
}

/**
 * The tracker's logger on a terminal: errors and warnings (429 pauses and the like) go to stderr, each distinct line
 * once. An event's own validation warnings (rewritten names, truncated metadata, the distinct-name limit) are left
 * out here because the commands print them per event or per line (`line N: warning: …`). The context object never
 * holds the access token.
 */
function cliLogger(write: (text: string) => void = (t) => process.stderr.write(t)): Partial<Logger> {
  const seen = new Set<string>();
  const line = (level: string, obj: object, msg?: string): void => {
    if (Array.isArray((obj as { warnings?: unknown }).warnings)) return;
    const text = `${level}: ${msg ?? ""}${Object.keys(obj).length > 0 ? ` ${JSON.stringify(obj)}` : ""}\n`;
    if (seen.has(text)) return;
    seen.add(text);
    write(text);
  };
  return {
    warn: (obj, msg) => line("warning", obj, msg),
    error: (obj, msg) => line("error", obj, msg),
  };
}

/**
 * The distinct event names this store has sent, for the plan's name-limit check. A SQLite file that does not exist
 * yet has sent nothing, and is not created (a dry run stores nothing).
 */
export async function storedEventNames(flags: StoreFlags): Promise<string[]> {
  const path = sqlitePathOf(flags.store);
  if (path !== undefined && path !== "" && !existsSync(path)) return [];
  return withStore(flags, (store) => store.setMembers(EVENT_NAMES_SET));
}

/**
 * A fresh CLI run re-probes a token pause left by an earlier run (the token may have been fixed since), and aborts
 * `controller` if Intercom refuses the token again, so the command ends instead of waiting. A failed status read (a
 * store hiccup) is reported once and tried again at the next tick, rather than ending the process as an unhandled
 * rejection.
 */
export async function watchUnauthorized(
  tracker: Pick<EventTracker, "resume" | "status">,
  store: Pick<Store, "limiter">,
  controller: AbortController,
  warn: (text: string) => void = (t) => process.stderr.write(t),
): Promise<() => void> {
  const state = await store.limiter(OUTBOX_LIMITER).state();
  if (state.pauseReason === PAUSE_REASON_UNAUTHORIZED) await tracker.resume();
  let warned = false;
  const timer = setInterval(() => {
    tracker.status().then(
      (s) => {
        if (s.state === "paused-unauthorized") controller.abort();
      },
      (e: unknown) => {
        if (warned) return;
        warned = true;
        warn(`warning: could not read the sending state (will keep trying): ${(e as Error).message}\n`);
      },
    );
  }, 200);
  return () => clearInterval(timer);
}

/** `field: message; …` for validation issues. */
export function formatIssues(issues: readonly { field: string; message: string }[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join("; ");
}

/** The `failed:` summary lines of `events import` and `events retry`: the total, then each reason, most frequent first. */
export function formatFailedByReason(failed: Readonly<Record<string, number>>): string {
  const total = Object.values(failed).reduce((a, b) => a + b, 0);
  const reasons = Object.entries(failed).sort((a, b) => b[1] - a[1]);
  return `failed:  ${total}\n${reasons.map(([reason, n]) => `  ${reason}: ${n}\n`).join("")}`;
}

/** Prints an import summary. */
export function printSummary(s: ImportSummary, out: (t: string) => void): void {
  out(`sent:    ${s.sent}\n`);
  out(`skipped: ${s.skipped} (already sent by an earlier run)\n`);
  out(formatFailedByReason(s.failed));
  out(`invalid: ${s.invalid}\n`);
  if (s.unfinished > 0) out(`unfinished: ${s.unfinished} (still queued; re-run to continue)\n`);
}

/** Renders outbound events as an aligned table. */
export function formatEventTable(jobs: readonly JobSummary[]): string {
  const rows = [
    ["ID", "STATE", "EVENT", "CONTACT", "CREATED_AT", "ATTEMPTS", "REASON"],
    ...jobs.map((j) => [
      j.id,
      PRESENTED[j.state],
      j.topic,
      j.itemId ?? "-",
      String(j.createdAt),
      `${j.attempts}/${j.maxAttempts}`,
      j.state === "dead" || j.state === "failed"
        ? `${failureReason(j)}${j.lastError ? `: ${j.lastError.message}` : ""}`.slice(0, 100)
        : "",
    ]),
  ];
  return alignColumns(rows);
}

/** A delivery as `events list --json` shows it. */
export function presentJob(j: JobSummary): Record<string, unknown> {
  return {
    ...j,
    state: PRESENTED[j.state],
    reason: j.state === "dead" || j.state === "failed" ? failureReason(j) : null,
  };
}
