/**
 * The engine of `intercom-bridge events import`: parses NDJSON or CSV into events, validates every line (reporting each
 * invalid one with its line number), plans what a previous run already sent or failed, then stores the rest through the
 * outbox and waits until each is sent or failed. Knows no store backend: it uses the contract's parts only.
 */
import { createHash } from "node:crypto";
import type { EventValidationIssue } from "../core/errors.js";
import type { JobId, JobSummary } from "../delivery/types.js";
import type { StoreAdmin, StoreCoordination, StoreReader } from "../store/store.js";
import { DEFAULT_MAX_EVENT_NAMES } from "./event-names.js";
import { eventDedupeKey, type EventTracker } from "./outbox.js";
import { canonicalEventName, checkEvent, type DataEvent, type ValidateEventOptions } from "./validate-event.js";

/** Input formats of {@link parseImportFile}. */
export type ImportFormat = "ndjson" | "csv";

/** One non-empty line (NDJSON) or row (CSV) of an import file. */
export interface ImportLine {
  /** 1-based line number in the file (for CSV, the row's first line). */
  line: number;
  /** The line as written (CSV: the row). */
  raw: string;
  /** The parsed object, when parsing worked. */
  value?: unknown;
  /** Why the line could not be parsed. */
  parseError?: string;
}

/** A line that passed validation, with its store key. */
export interface PlannedEvent {
  /** 1-based line number in the file (for CSV, the row's first line). */
  line: number;
  /** The line as written. */
  raw: string;
  /** The line as parsed, before validation. */
  value: unknown;
  /** The validated event that is stored and sent, `created_at` stamped. */
  event: DataEvent;
  /** Stable across runs of the same batch, so a re-run skips what was sent. */
  dedupeKey: string;
  /** Things Intercom accepts but may not do as expected (rewritten names, lines it would merge, the name limit). */
  warnings: EventValidationIssue[];
}

/** A line that cannot be sent, with every reason. */
export interface InvalidLine {
  /** 1-based line number in the file (for CSV, the row's first line). */
  line: number;
  /** The line as written. */
  raw: string;
  /** Every reason; field `(line)` when the line could not be parsed at all. */
  issues: EventValidationIssue[];
}

/** Every line sorted into valid and invalid, before anything is sent. */
export interface ImportPlan {
  /** Lines to send, in file order. */
  valid: PlannedEvent[];
  /** Lines that cannot be sent, in file order. */
  invalid: InvalidLine[];
}

/** One line that was not sent, for `<file>.failed.ndjson`. */
export interface FailedLine {
  line: number;
  /** `invalid`, or the failure reason such as `404 not_found`. */
  reason: string;
  /** Details: every validation issue, or Intercom's message. */
  error: string;
  /**
   * A line that was stored: the event as stored and sent, `created_at` stamped (the first run's stamp), so importing
   * these events again is keyed by Intercom's own identity and cannot make second events. An invalid line: the line's
   * object, or its raw text when it was not JSON.
   */
  event: unknown;
}

/** The outcome of {@link runImport}. */
export interface ImportSummary {
  /** Lines read (excluding blank lines and the CSV header). */
  total: number;
  /** Sent in this run. */
  sent: number;
  /** Sent by an earlier run (same store key); not sent again. */
  skipped: number;
  /** Failed lines per reason (`404 not_found`, `422 …`, `5xx after 10 attempts`, …). */
  failed: Record<string, number>;
  /** Lines that did not pass validation. */
  invalid: number;
  /** Still waiting when the import stopped (e.g. sending paused because the token was refused). */
  unfinished: number;
  /** Every line not sent, in line order. */
  failedLines: FailedLine[];
}

/** Progress of {@link runImport}. */
export interface ImportProgress {
  /** `storing`: valid events are being stored; `sending`: waiting until each is sent or failed. */
  phase: "storing" | "sending";
  /** Events stored (storing), or sent, failed or skipped (sending), so far. */
  done: number;
  /** Valid events in the plan. */
  total: number;
}

/** Options of {@link runImport}. */
export interface RunImportOptions {
  /** Enqueues at once, for throughput on stores with per-write latency. @defaultValue 16 */
  storeConcurrency?: number;
  /** Called as events are stored and as they are settled. */
  onProgress?: (p: ImportProgress) => void;
  /** Stops waiting (e.g. on Ctrl-C or a paused token); stored events stay queued for the next run. */
  signal?: AbortSignal;
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** Parses NDJSON: one JSON object per line; blank lines are ignored. */
export function parseNdjson(text: string): ImportLine[] {
  const out: ImportLine[] = [];
  splitLines(text).forEach((raw, i) => {
    if (raw.trim() === "") return;
    try {
      out.push({ line: i + 1, raw, value: JSON.parse(raw) as unknown });
    } catch (e) {
      out.push({ line: i + 1, raw, parseError: `not valid JSON: ${(e as Error).message}` });
    }
  });
  return out;
}

/** Splits CSV text into rows of cells (RFC 4180: quoted cells, `""` escapes, newlines inside quotes). */
function csvRows(text: string): { line: number; raw: string; cells: string[] }[] {
  const rows: { line: number; raw: string; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let rowStart = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === "\n") line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === ",") {
      cells.push(cell);
      cell = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      cells.push(cell);
      rows.push({ line: rowLine, raw: text.slice(rowStart, i).replace(/\r$/, ""), cells });
      cells = [];
      cell = "";
      line++;
      rowLine = line;
      rowStart = i + 1;
    } else cell += ch;
  }
  if (cell !== "" || cells.length > 0) {
    cells.push(cell);
    rows.push({ line: rowLine, raw: text.slice(rowStart), cells });
  }
  return rows.filter((r) => r.cells.some((c) => c.trim() !== ""));
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;

/**
 * A numeric-looking cell as a number, unless that would change it: a leading zero (a zip code) or an integer part
 * beyond `Number.MAX_SAFE_INTEGER` (an id of 17+ digits would lose its last digits) keeps the text.
 */
function csvValue(cell: string): string | number {
  const t = cell.trim();
  if (!NUMBER.test(t)) return cell;
  const integerPart = t.replace(/^-/, "").split(".")[0] as string;
  if (BigInt(integerPart) > BigInt(Number.MAX_SAFE_INTEGER)) return cell;
  return Number(t);
}

function describeJson(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** The `metadata` column's cell as an object, or why it is not one (the message names the column). */
function parseMetadataCell(cell: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(cell);
  } catch (e) {
    throw new Error(`metadata column: not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new Error(`metadata column: must be a JSON object such as {"plan":"pro"}, got ${describeJson(parsed)}`);
  for (const [key, v] of Object.entries(parsed)) {
    if (typeof v === "number" && Number.isInteger(v) && !Number.isSafeInteger(v))
      throw new Error(
        `metadata column: "${key}" is a number beyond ${Number.MAX_SAFE_INTEGER} and would lose digits; write it as a string`,
      );
  }
  return parsed as Record<string, unknown>;
}

/**
 * Parses CSV with a header row. Columns: `event_name`, `created_at`, `user_id`, `id`, `email`, `metadata` (a JSON
 * object; anything else makes the row invalid) and `metadata.<key>` (one key each). Empty cells are left out;
 * `created_at` and numeric `metadata.<key>` cells become numbers, except a cell with a leading zero (a zip code) or
 * an integer beyond `Number.MAX_SAFE_INTEGER` (a long id), which stays a string.
 */
export function parseCsv(text: string): ImportLine[] {
  const rows = csvRows(text);
  const header = rows.shift();
  if (!header) return [];
  const columns = header.cells.map((c) => c.trim());
  return rows.map((row) => {
    const value: Record<string, unknown> = {};
    const metadata: Record<string, unknown> = {};
    try {
      columns.forEach((col, c) => {
        const cell = row.cells[c];
        if (cell === undefined || cell === "") return;
        if (col === "metadata") Object.assign(metadata, parseMetadataCell(cell));
        else if (col.startsWith("metadata.")) metadata[col.slice("metadata.".length)] = csvValue(cell);
        else if (col === "created_at") value[col] = csvValue(cell);
        else value[col] = cell;
      });
    } catch (e) {
      return { line: row.line, raw: row.raw, parseError: (e as Error).message };
    }
    if (Object.keys(metadata).length > 0) value.metadata = metadata;
    return { line: row.line, raw: row.raw, value };
  });
}

/** Parses an import file's text in the given format. */
export function parseImportFile(text: string, format: ImportFormat): ImportLine[] {
  return format === "csv" ? parseCsv(text) : parseNdjson(text);
}

/** Options of {@link planImport}. */
export interface PlanImportOptions extends ValidateEventOptions {
  /**
   * The import's identity, part of the store key of every line without `created_at`: a re-run with the same batch id
   * finds what it stored before, while the same line under another batch id is a new event. The CLI uses the file's
   * absolute path with symlinks resolved (`realpath`) unless `--batch-id` is given, so a file moved or renamed before a
   * re-run skips what it sent only when the re-run passes the batch id the first run printed.
   * @defaultValue none: such lines are keyed by content and occurrence only
   */
  batchId?: string;
}

/**
 * The store key of an imported event. With its own `created_at` it is the key `track()` uses (contact, name,
 * `created_at`), whatever file it comes from. Without one, `created_at` is stamped at the first run, so the key is the
 * batch id, the line's content and its occurrence number in the batch: a re-run of the same batch finds the stored
 * event and keeps its original `created_at` (no second Intercom event); the same line in another batch is a new event.
 */
function importDedupeKey(
  value: unknown,
  event: DataEvent,
  batchId: string | undefined,
  occurrences: Map<string, number>,
): string {
  if ((value as { created_at?: unknown }).created_at !== undefined) return eventDedupeKey(event);
  const content = createHash("sha256")
    .update(JSON.stringify([batchId ?? null, value]))
    .digest("hex")
    .slice(0, 40);
  const n = (occurrences.get(content) ?? 0) + 1;
  occurrences.set(content, n);
  return `imp_${content}_${n}`;
}

/**
 * Validates every line; nothing is stored. Lines without `created_at` are all stamped with the same time (now), and
 * a line that Intercom would merge with an earlier one (same identifiers, `event_name` and `created_at`; facts §2.3)
 * gets a warning naming that line.
 */
export function planImport(lines: readonly ImportLine[], options: PlanImportOptions = {}): ImportPlan {
  const plan: ImportPlan = { valid: [], invalid: [] };
  const occurrences = new Map<string, number>();
  const firstLineOf = new Map<string, number>();
  const { batchId, ...validateOptions } = options;
  const nowMs = validateOptions.nowMs ?? Date.now();
  for (const l of lines) {
    if (l.parseError !== undefined) {
      plan.invalid.push({ line: l.line, raw: l.raw, issues: [{ field: "(line)", message: l.parseError }] });
      continue;
    }
    const checked = checkEvent(l.value, { ...validateOptions, nowMs });
    if (!checked.ok) plan.invalid.push({ line: l.line, raw: l.raw, issues: checked.issues });
    else {
      const dedupeKey = importDedupeKey(l.value, checked.event, batchId, occurrences);
      const identity = eventDedupeKey(checked.event);
      const first = firstLineOf.get(identity);
      if (first === undefined) firstLineOf.set(identity, l.line);
      else
        checked.warnings.push({
          field: "created_at",
          message: `same identifiers, event_name and created_at (${checked.event.created_at}) as line ${first}: Intercom keeps only one of lines ${first} and ${l.line}`,
        });
      plan.valid.push({
        line: l.line,
        raw: l.raw,
        value: l.value,
        event: checked.event,
        dedupeKey,
        warnings: checked.warnings,
      });
    }
  }
  return plan;
}

/**
 * Adds a warning to the first line of each event name that is new (not in `knownNames`, the names already sent from
 * this store) and would take the workspace past `maxEventNames` distinct names, where Intercom answers 422 (facts
 * §2.3). Names are compared the way Intercom does (case-insensitive, `.`/`$` as `-`). Changes `plan` in place.
 * @param knownNames - the store's name set (`store.setMembers(EVENT_NAMES_SET)`), canonical spelling
 * @param maxEventNames - distinct names allowed. @defaultValue 120
 */
export function checkImportEventNames(
  plan: ImportPlan,
  knownNames: Iterable<string>,
  maxEventNames = DEFAULT_MAX_EVENT_NAMES,
): void {
  const names = new Set(knownNames);
  for (const v of plan.valid) {
    const canonical = canonicalEventName(v.event.event_name);
    if (names.has(canonical)) continue;
    names.add(canonical);
    if (names.size > maxEventNames)
      v.warnings.push({
        field: "event_name",
        message: `"${canonical}" would be distinct event name number ${names.size}; Intercom keeps at most ${maxEventNames} active names per workspace and may answer 422 (archive unused events in Intercom)`,
      });
  }
}

/** A short reason for a failed delivery: `404 not_found`, `503 server_error`, `timeout`, … */
export function failureReason(job: JobSummary): string {
  const msg = job.lastError?.message ?? "";
  const m = /^Intercom (\d{3})(?: (\S+?):?)?(?::|$|\s)/.exec(msg);
  if (m) return m[2] ? `${m[1]} ${m[2]}` : (m[1] as string);
  if (/^timeout/.test(msg)) return "timeout";
  if (/^(network|aborted) error/.test(msg)) return "network error";
  return job.lastError?.code ?? job.lastError?.name ?? "failed";
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * Stores every valid event of a plan (skipping those a previous run sent, requeueing those it failed), then waits
 * until each is sent or failed. The tracker's worker must run (`tracker.start()`) in this or another process.
 */
export async function runImport(
  tracker: EventTracker,
  store: Pick<StoreReader, "getJob"> & Pick<StoreAdmin, "requeue"> & Pick<StoreCoordination, "setMembers">,
  plan: ImportPlan,
  options: RunImportOptions = {},
): Promise<ImportSummary> {
  const total = plan.valid.length + plan.invalid.length;
  const summary: ImportSummary = {
    total,
    sent: 0,
    skipped: 0,
    failed: {},
    invalid: plan.invalid.length,
    unfinished: 0,
    failedLines: [],
  };
  for (const i of plan.invalid) {
    summary.failedLines.push({
      line: i.line,
      reason: "invalid",
      error: i.issues.map((x) => `${x.field}: ${x.message}`).join("; "),
      event: i.issues[0]?.field === "(line)" ? i.raw : safeParse(i.raw),
    });
  }
  let stored = 0;
  const toWait: { planned: PlannedEvent; stored: DataEvent; jobId: JobId }[] = [];
  const results = await mapLimit(plan.valid, options.storeConcurrency ?? 16, async (planned) => {
    // The planned event, not the raw line: every line without created_at carries the plan's one stamp, the time the
    // duplicate check above used.
    const r = await tracker.track(planned.event, { dedupeKey: planned.dedupeKey });
    stored++;
    if (stored % 500 === 0 || stored === plan.valid.length)
      options.onProgress?.({ phase: "storing", done: stored, total: plan.valid.length });
    if (r.jobId === null) return { kind: "skipped" as const };
    // r.event is the event as stored: on a re-run, with the created_at the first run stamped.
    if (!r.isDuplicate) return { kind: "wait" as const, planned, stored: r.event, jobId: r.jobId };
    const job = await store.getJob(r.jobId);
    if (job?.state === "done") return { kind: "skipped" as const };
    // A previous run failed it: try again now.
    if (job?.state === "dead") await store.requeue(r.jobId);
    return { kind: "wait" as const, planned, stored: r.event, jobId: r.jobId };
  });
  for (const r of results) {
    if (r.kind === "skipped") summary.skipped++;
    else toWait.push(r);
  }
  const skipped = summary.skipped;
  options.onProgress?.({ phase: "sending", done: skipped, total: plan.valid.length });
  const jobs = await tracker.waitFor(
    toWait.map((w) => w.jobId),
    {
      onProgress: (settled) =>
        options.onProgress?.({ phase: "sending", done: skipped + settled, total: plan.valid.length }),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  const byId = new Map(jobs.map((j) => [j.id, j]));
  for (const w of toWait) {
    const job = byId.get(w.jobId);
    if (job?.state === "done") summary.sent++;
    else if (job?.state === "dead") {
      const reason = failureReason(job);
      summary.failed[reason] = (summary.failed[reason] ?? 0) + 1;
      summary.failedLines.push({
        line: w.planned.line,
        reason,
        error: job.lastError?.message ?? reason,
        event: w.stored,
      });
    } else {
      summary.unfinished++;
      summary.failedLines.push({
        line: w.planned.line,
        reason: "unfinished",
        error: "still queued when the import stopped; re-run to continue",
        event: w.stored,
      });
    }
  }
  summary.failedLines.sort((a, b) => a.line - b.line);
  return summary;
}

function safeParse(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
