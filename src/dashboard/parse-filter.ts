/**
 * Validates the query parameters (and replay body filters) of the dashboard and events APIs into a store
 * `JobFilter`: every parameter checked by name, unknown or repeated ones refused with a message naming them. Pure; no
 * store, no fastify.
 */
import { JOB_STATES, type JobFilter, type JobState, type QueueName } from "../delivery/types.js";

/** A query parameter the dashboard API understands. Each endpoint allows a subset. */
export type FilterParam =
  | "state"
  | "topic"
  | "since"
  | "until"
  | "q"
  | "notificationId"
  | "itemId"
  | "appId"
  | "target"
  | "queue"
  | "limit"
  | "cursor";

/** A validated filter, plus the free-text search (`q`) that the caller resolves itself. */
export interface ParsedFilter {
  filter: JobFilter;
  /** Notification id or item id to search for; `undefined` when absent. */
  q: string | undefined;
}

/** The outcome of {@link parseFilter}: a filter, or the message of a 400 naming the parameter. */
export type ParseFilterResult = { ok: true; value: ParsedFilter } | { ok: false; message: string };

/** Options of {@link parseFilter}. */
export interface ParseFilterOptions {
  /**
   * Other names of parameters, e.g. `{ event_name: "topic" }` for `GET /api/events`. Messages name the parameter as
   * the client spelled it.
   */
  aliases?: Readonly<Record<string, FilterParam>>;
  /**
   * The state names `state` accepts and the job state each means, e.g. the outbound names (`sent`, `retrying`, …).
   * @defaultValue each job state as itself (`pending`, `running`, `failed`, `done`, `dead`)
   */
  states?: Readonly<Record<string, JobState>>;
}

/** Largest page the API serves; the Store contract caps pages at 500 too. */
export const MAX_PAGE_SIZE = 500;
/** Page size when `limit` is absent. */
export const DEFAULT_PAGE_SIZE = 50;

const MAX_TEXT_LENGTH = 256;
const MAX_CURSOR_LENGTH = 1024;
// Exact topic or event name, "group.*" or "*". Event names may contain more than topics do (facts §2.3), so only
// whitespace, control characters and a misplaced "*" are refused.
const TOPIC_RE = /^(?:\*|[^\s*\p{Cc}]+(?:\.\*)?)$/u;
const CURSOR_RE = /^[\x21-\x7e]+$/;
const QUEUES: readonly QueueName[] = ["inbound", "outbox"];
const JOB_STATE_NAMES: Readonly<Record<string, JobState>> = Object.freeze(
  Object.fromEntries(JOB_STATES.map((s) => [s, s])),
);

/**
 * Validates dashboard query parameters (as fastify parses them) into a {@link JobFilter}. Unknown or repeated
 * parameters and malformed values are refused with a message naming the parameter, so a typo never silently widens
 * a bulk replay.
 *
 * - `state`: one state or a comma-separated list (`dead,failed`).
 * - `topic`: an exact topic, `group.*` or `*`.
 * - `since`, `until`: epoch milliseconds or an ISO 8601 date; `since` must be before `until`.
 * - `limit`: 1–500; `cursor`: the opaque `nextCursor` of a previous page.
 *
 * @example parseFilter({ state: "dead", topic: "conversation.*" }, ["state", "topic"])
 */
export function parseFilter(
  query: unknown,
  allowed: readonly FilterParam[],
  options: ParseFilterOptions = {},
): ParseFilterResult {
  const input = (typeof query === "object" && query !== null ? query : {}) as Record<string, unknown>;
  const aliases = options.aliases ?? {};
  const stateNames = options.states ?? JOB_STATE_NAMES;
  const filter: JobFilter = {};
  let q: string | undefined;
  for (const [key, raw] of Object.entries(input)) {
    const param = (Object.hasOwn(aliases, key) ? aliases[key] : key) as FilterParam;
    // A parameter with an alias is known by the alias only: one name per parameter.
    const isRenamed = param === key && Object.values(aliases).includes(param);
    if (!(allowed as readonly string[]).includes(param) || isRenamed) {
      const names = allowed.map((a) => Object.keys(aliases).find((k) => aliases[k] === a) ?? a);
      return fail(`Unknown parameter "${key}"; expected one of: ${names.join(", ")}`);
    }
    if (Array.isArray(raw)) return fail(`Parameter "${key}" must be given once`);
    if (raw === undefined || raw === null) continue;
    // JSON bodies (bulk replay) may carry numbers for since/until/limit.
    if (typeof raw !== "string" && !(typeof raw === "number" && Number.isFinite(raw))) {
      return fail(`Parameter "${key}" must be a string`);
    }
    const value = String(raw).trim();
    if (value === "") continue; // empty form fields mean "no filter"
    switch (param) {
      case "state": {
        const states: JobState[] = [];
        for (const s of value.split(",").map((x) => x.trim())) {
          const state = Object.hasOwn(stateNames, s) ? stateNames[s] : undefined;
          if (state === undefined) {
            return fail(`Unknown ${key} "${s}"; expected one of: ${Object.keys(stateNames).join(", ")}`);
          }
          if (!states.includes(state)) states.push(state);
        }
        filter.state = states.length === 1 && states[0] !== undefined ? states[0] : states;
        break;
      }
      case "topic":
        if (value.length > MAX_TEXT_LENGTH || !TOPIC_RE.test(value)) {
          return fail(`${key} must be an exact name, a "group.*" pattern or "*"`);
        }
        filter.topic = value;
        break;
      case "since":
      case "until": {
        const ms = parseTime(value);
        if (ms === undefined) return fail(`${key} must be epoch milliseconds or an ISO 8601 date`);
        filter[param] = ms;
        break;
      }
      case "limit": {
        if (!/^\d+$/.test(value)) return fail(`${key} must be an integer from 1 to ${MAX_PAGE_SIZE}`);
        const n = Number(value);
        if (n < 1 || n > MAX_PAGE_SIZE) return fail(`${key} must be an integer from 1 to ${MAX_PAGE_SIZE}`);
        filter.limit = n;
        break;
      }
      case "cursor":
        if (value.length > MAX_CURSOR_LENGTH || !CURSOR_RE.test(value)) {
          return fail(`${key} must be the nextCursor value of a previous page`);
        }
        filter.cursor = value;
        break;
      case "queue":
        if (!(QUEUES as readonly string[]).includes(value)) return fail(`${key} must be one of: ${QUEUES.join(", ")}`);
        filter.queue = value as QueueName;
        break;
      case "q":
      case "notificationId":
      case "itemId":
      case "appId":
      case "target":
        if (value.length > MAX_TEXT_LENGTH) return fail(`${key} must be at most ${MAX_TEXT_LENGTH} characters`);
        if (param === "q") q = value;
        else filter[param] = value;
        break;
      default: {
        const unreachable: never = param;
        return fail(`Unknown parameter "${String(unreachable)}"`);
      }
    }
  }
  if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
    return fail("since must be before until");
  }
  return { ok: true, value: { filter, q } };
}

/** Epoch ms from digits or an ISO 8601 date; `undefined` when neither. */
function parseTime(value: string): number | undefined {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  // Date.parse accepts many loose formats; insist on something that starts like ISO 8601.
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function fail(message: string): ParseFilterResult {
  return { ok: false, message };
}
