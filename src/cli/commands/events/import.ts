/**
 * `events import <file>`: validate every line of an NDJSON or CSV file first, then store and send the valid ones paced
 * to the rate limit, with a progress bar; failed and invalid lines go to `<file>.failed.ndjson`. Re-runs skip what was
 * sent.
 */
import { existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { withStore } from "../../store-options.js";
import { Option, type Command } from "commander";
import cliProgress from "cli-progress";
import { ConfigError } from "../../../core/errors.js";
import {
  checkImportEventNames,
  parseImportFile,
  planImport,
  runImport,
  type ImportFormat,
} from "../../../outbound/bulk-import.js";
import {
  formatIssues,
  makeTracker,
  printSummary,
  sendOptions,
  storedEventNames,
  watchUnauthorized,
  type SendFlags,
} from "./shared.js";

/** Registers `events import` on the `events` command. */
export function registerImportCommand(events: Command): void {
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
