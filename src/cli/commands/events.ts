import { existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { storeOptions, withStore, type StoreFlags } from "../store-options.js";
import { EVENT_STATE_FROM_NAME, EVENT_STATE_NAMES } from "../../outbound/event-states.js";
import { Option, type Command } from "commander";
import cliProgress from "cli-progress";
import { ENV } from "../../config/env.js";
import { ConfigError, EventValidationError } from "../../core/errors.js";
import type { JobFilter, JobId, JobState, JobSummary } from "../../queue/types.js";
import type { Store } from "../../store/store.js";
import {
  checkImportEventNames,
  failureReason,
  parseImportFile,
  planImport,
  runImport,
  type ImportFormat,
  type ImportSummary,
} from "../../outbound/bulk-import.js";
import type { IntercomRegion } from "../../outbound/intercom-api.js";
import { EVENT_NAMES_SET } from "../../outbound/event-names.js";
import { createEventTracker, type EventTracker } from "../../outbound/outbox.js";
import type { Logger } from "../../core/logger.js";
import { OUTBOX_LIMITER, PAUSE_REASON_UNAUTHORIZED } from "../../outbound/rate-limit.js";
import { durationArg, intArg } from "../parse.js";
import { outboundOptions } from "../outbound-options.js";
import { sqlitePathOf } from "../store-url.js";
import { alignColumns } from "../table.js";

interface SendFlags extends StoreFlags {
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

const PRESENTED = EVENT_STATE_NAMES;
const FROM_PRESENTED = EVENT_STATE_FROM_NAME;

function sendOptions(command: Command): Command {
  const cmd = storeOptions(command)
    .addOption(
      new Option("--region <region>", "Intercom region (the access token is read from INTERCOM_ACCESS_TOKEN)")
        .choices(["us", "eu", "au"])
        .env(ENV.region),
    )
    .addOption(
      new Option("--base-url <url>", "Intercom API base URL, overrides --region (e.g. a fake-intercom URL)").env(
        ENV.apiBaseUrl,
      ),
    )
    .addOption(
      new Option("--intercom-version <version>", "Intercom-Version header to pin (default 2.14)").env(
        ENV.intercomVersion,
      ),
    )
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

function makeTracker(store: Store, flags: SendFlags): EventTracker {
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
async function storedEventNames(flags: StoreFlags): Promise<string[]> {
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

function formatIssues(issues: readonly { field: string; message: string }[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join("; ");
}

/** The `failed:` summary lines of `events import` and `events retry`: the total, then each reason, most frequent first. */
function formatFailedByReason(failed: Readonly<Record<string, number>>): string {
  const total = Object.values(failed).reduce((a, b) => a + b, 0);
  const reasons = Object.entries(failed).sort((a, b) => b[1] - a[1]);
  return `failed:  ${total}\n${reasons.map(([reason, n]) => `  ${reason}: ${n}\n`).join("")}`;
}

function printSummary(s: ImportSummary, out: (t: string) => void): void {
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

function presentJob(j: JobSummary): Record<string, unknown> {
  return {
    ...j,
    state: PRESENTED[j.state],
    reason: j.state === "dead" || j.state === "failed" ? failureReason(j) : null,
  };
}

/**
 * `events send|import|list|retry|resume`: outbound Data Events from the command line. The access token comes from
 * `INTERCOM_ACCESS_TOKEN` only (never a flag, so it stays out of shell history and `ps`).
 */
export function registerEventsCommand(program: Command): void {
  const events = program
    .command("events")
    .description("Send Intercom Data Events (validated, durable, rate-paced) and inspect the outbox");

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

  sendOptions(
    events
      .command("import <file>")
      .description(
        "Validate every line of an NDJSON or CSV file (all invalid lines and warnings are reported first), then send the valid ones paced to the rate limit. Writes failed and invalid lines to <file>.failed.ndjson. Exit 0 only if everything was sent.\n" +
          "Re-running skips events already sent. A line with created_at is keyed by (identifiers, event_name, created_at), whatever the file; a line without one is stamped with the time of its first import and keyed by the batch id (default: the file's real path), its content and its occurrence in the file, so re-running the same file keeps that created_at while the same line in another file is a new event. A file moved or renamed before a re-run keeps its sent events skipped only with --batch-id set to the batch the earlier run printed. Lines Intercom would merge (same identifiers, event_name and created_at) are reported as warnings.",
      )
      .addOption(
        new Option(
          "--format <format>",
          "ndjson (one JSON event per line) or csv (header: event_name,created_at,user_id,id,email,metadata.<key>…); default from the file extension",
        ).choices(["ndjson", "csv"]),
      )
      .option(
        "--batch-id <id>",
        "identity of this import in the keys of lines without created_at (default: the file's real path); printed as batch: in the summary, pass it again to re-run a moved or renamed file",
      )
      .option("--dry-run", "validate only; store and send nothing"),
  ).action(
    async (
      file: string,
      flags: SendFlags & { format?: ImportFormat; batchId?: string; dryRun?: boolean },
      cmd: Command,
    ) => {
      if (flags.batchId !== undefined && flags.batchId.trim() === "")
        cmd.error("error: --batch-id must not be empty", { exitCode: 2, code: "intercom-bridge.usage" });
      const format: ImportFormat = flags.format ?? (file.toLowerCase().endsWith(".csv") ? "csv" : "ndjson");
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (e) {
        throw new ConfigError(`cannot read ${file}: ${(e as Error).message}`);
      }
      const lines = parseImportFile(text, format);
      const batchId = flags.batchId ?? realpathSync(file);
      const plan = planImport(lines, {
        metadataOverflow: flags.metadataOverflow,
        metadataKeyCase: flags.metadataKeyCase,
        batchId,
      });
      checkImportEventNames(plan, await storedEventNames(flags), flags.maxEventNames);
      for (const i of plan.invalid) process.stderr.write(`line ${i.line}: invalid: ${formatIssues(i.issues)}\n`);
      for (const v of plan.valid)
        for (const w of v.warnings) process.stderr.write(`line ${v.line}: warning: ${w.field}: ${w.message}\n`);
      process.stderr.write(`${lines.length} lines: ${plan.valid.length} valid, ${plan.invalid.length} invalid\n`);
      const failedPath = `${file}.failed.ndjson`;
      if (flags.dryRun) {
        process.stdout.write(`batch:   ${batchId}\n`);
        process.exitCode = plan.invalid.length > 0 ? 1 : 0;
        return;
      }
      const summary = await withStore(flags, async (store) => {
        const tracker = makeTracker(store, flags);
        const controller = new AbortController();
        const stopWatch = await watchUnauthorized(tracker, store, controller);
        const onSignal = (): void => controller.abort();
        process.once("SIGINT", onSignal);
        tracker.start();
        const progress = makeProgress(plan.valid.length);
        try {
          return await runImport(tracker, store, plan, {
            signal: controller.signal,
            onProgress: progress.update,
            storeConcurrency: 16,
          });
        } finally {
          progress.stop();
          stopWatch();
          process.off("SIGINT", onSignal);
          await tracker.close();
        }
      });
      if (summary.failedLines.length > 0)
        writeFileSync(failedPath, summary.failedLines.map((l) => JSON.stringify(l)).join("\n") + "\n");
      else if (existsSync(failedPath)) rmSync(failedPath);
      printSummary(summary, (t) => process.stdout.write(t));
      process.stdout.write(`batch:   ${batchId}\n`);
      if (summary.failedLines.length > 0) process.stdout.write(`failed and invalid lines: ${failedPath}\n`);
      if (summary.unfinished > 0)
        process.stderr.write("sending stopped before the end (token refused or interrupted); the rest stays queued\n");
      process.exitCode = summary.failedLines.length === 0 ? 0 : 1;
    },
  );

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

  storeOptions(
    events
      .command("resume")
      .description(
        "Lift a pause of outbound sending (after Intercom refused the token with 401/403) for every instance on this store",
      ),
  ).action(async (flags: StoreFlags) => {
    await withStore(flags, async (store) => {
      const limiter = store.limiter(OUTBOX_LIMITER);
      const before = await limiter.state();
      await limiter.resume();
      process.stdout.write(
        before.pausedUntil !== null && before.pausedUntil > Date.now()
          ? `resumed (was paused: ${before.pauseReason ?? "?"})\n`
          : "not paused\n",
      );
    });
  });
}

/** ` | eta 1m05s` from the progress so far, or "" while there is none to go by (or nothing left). */
export function etaText(doneSoFar: number, elapsedMs: number, remaining: number): string {
  if (doneSoFar <= 0 || elapsedMs <= 0 || remaining <= 0) return "";
  const s = Math.ceil((remaining * elapsedMs) / doneSoFar / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const text =
    h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
  return ` | eta ${text}`;
}

/** Where {@link makeProgress} writes, and its clock; tests pass a fake terminal and fake time. */
export interface ProgressOptions {
  /** A terminal (`isTTY`) gets a redrawn bar, anything else a plain line every 2 s. @defaultValue process.stderr */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** @defaultValue Date.now */
  now?: () => number;
}

/** The import's progress on stderr: a bar with the sending ETA on a terminal, plain lines otherwise. */
export function makeProgress(
  total: number,
  options: ProgressOptions = {},
): {
  update: (p: { phase: string; done: number; total: number }) => void;
  stop: () => void;
} {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  if (stream.isTTY === true) {
    // cli-progress's own eta mixes the storing and sending phases and reads "eta NFs" before anything is sent; the
    // eta here is the sending rate so far, shown once some events have been sent. Its payload key must not be one of
    // cli-progress's own ({eta}, {value}, {total}, …): those are merged over the payload.
    const bar = new cliProgress.SingleBar(
      { format: "{phase} [{bar}] {value}/{total} {percentage}%{etaText}", stream },
      cliProgress.Presets.shades_classic,
    );
    let sending: { from: number; atMs: number } | null = null;
    bar.start(total, 0, { phase: "storing", etaText: "" });
    return {
      update: (p) => {
        if (p.phase === "sending" && sending === null) sending = { from: p.done, atMs: now() };
        const eta = sending ? etaText(p.done - sending.from, now() - sending.atMs, p.total - p.done) : "";
        bar.update(p.done, { phase: p.phase, etaText: eta });
      },
      stop: () => bar.stop(),
    };
  }
  let lastAt = 0;
  let lastLine = "";
  return {
    update: (p) => {
      const line = `${p.phase}: ${p.done}/${p.total}`;
      const at = now();
      if (line !== lastLine && (at - lastAt >= 2_000 || p.done === p.total)) {
        lastAt = at;
        lastLine = line;
        stream.write(`progress ${line}\n`);
      }
    },
    stop: () => undefined,
  };
}
