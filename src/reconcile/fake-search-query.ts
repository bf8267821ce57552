/**
 * How `fake-intercom` evaluates the query of `POST /conversations/search`, `/contacts/search` and `/tickets/search`
 * with Intercom's documented semantics (intercom-openapi 2.15): `AND`/`OR` groups nested at most 2 deep with at most
 * 15 filters each; dotted fields; conversations and tickets compare dates to the second; contacts match dates by
 * calendar day in the workspace's timezone (`=` the whole day, `>` from the start of the next day, `<` before the
 * start of the day) and refuse `!=`, `>=`, `<=`, `IN` and `NIN` on a date. Pure: no I/O.
 */

import type { SearchResource } from "./resources.js";

/** A query the fake cannot evaluate: answered 400 with Intercom's `error.list`. */
export class SearchQueryError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "SearchQueryError";
  }
}

/** A compiled query: true when an item matches. */
export type ItemPredicate = (item: Record<string, unknown>) => boolean;

/** Date fields of each resource (Date (UNIX timestamp) in the endpoints' "Accepted Fields" tables). */
const DATE_FIELDS: Record<SearchResource, ReadonlySet<string>> = {
  contacts: new Set([
    "created_at",
    "signed_up_at",
    "updated_at",
    "last_seen_at",
    "last_contacted_at",
    "last_replied_at",
    "last_email_opened_at",
    "last_email_clicked_at",
    "ios_last_seen_at",
    "android_last_seen_at",
  ]),
  conversations: new Set([
    "created_at",
    "updated_at",
    "waiting_since",
    "snoozed_until",
    "statistics.first_contact_reply_at",
    "statistics.first_assignment_at",
    "statistics.first_admin_reply_at",
    "statistics.first_close_at",
    "statistics.last_assignment_at",
    "statistics.last_assignment_admin_reply_at",
    "statistics.last_contact_reply_at",
    "statistics.last_admin_reply_at",
    "statistics.last_close_at",
    "conversation_rating.requested_at",
    "conversation_rating.replied_at",
  ]),
  tickets: new Set(["created_at", "updated_at", "snoozed_until"]),
};

const OPERATORS = new Set(["=", "!=", "IN", "NIN", "<", "<=", ">", ">=", "~", "!~", "^", "$"]);
const MAX_NESTING = 2;
const MAX_FILTERS_PER_GROUP = 15;
const DAY_MS = 86_400_000;

/** Options of {@link compileSearchQuery}. */
export interface CompileOptions {
  /** IANA timezone of the workspace: where contacts' calendar days begin. @defaultValue "UTC" */
  timezone?: string;
}

/**
 * Compiles a `search_request.query` for `resource` into a predicate.
 * @throws {SearchQueryError} for a malformed query, an unknown operator, too deep or too wide a nesting, or an
 * operator a contacts date field does not support.
 */
export function compileSearchQuery(
  resource: SearchResource,
  query: unknown,
  options: CompileOptions = {},
): ItemPredicate {
  const timezone = options.timezone ?? "UTC";
  const compile = (node: unknown, depth: number): ItemPredicate => {
    if (typeof node !== "object" || node === null || Array.isArray(node))
      throw new SearchQueryError("parameter_invalid", "query must be an object");
    const q = node as Record<string, unknown>;
    if (q["operator"] === "AND" || q["operator"] === "OR") {
      if (depth >= MAX_NESTING + 1)
        throw new SearchQueryError("parameter_invalid", `There's a limit of max ${MAX_NESTING} nested filters`);
      const value = q["value"];
      if (!Array.isArray(value) || value.length === 0)
        throw new SearchQueryError("parameter_invalid", "AND/OR value must be a non-empty array of filters");
      if (value.length > MAX_FILTERS_PER_GROUP)
        throw new SearchQueryError(
          "parameter_invalid",
          `There's a limit of max ${MAX_FILTERS_PER_GROUP} filters for each AND or OR group`,
        );
      const parts = value.map((v) => compile(v, depth + 1));
      return q["operator"] === "AND" ? (item) => parts.every((p) => p(item)) : (item) => parts.some((p) => p(item));
    }
    return compileFilter(resource, q, timezone);
  };
  return compile(query, 0);
}

function compileFilter(resource: SearchResource, q: Record<string, unknown>, timezone: string): ItemPredicate {
  const field = q["field"];
  const operator = q["operator"];
  const value = q["value"];
  if (typeof field !== "string" || field === "")
    throw new SearchQueryError("parameter_invalid", "Each filter needs a field");
  if (typeof operator !== "string" || !OPERATORS.has(operator))
    throw new SearchQueryError("parameter_invalid", `Operator "${String(operator)}" is not supported`);
  const isDate = DATE_FIELDS[resource].has(field);
  if (isDate) return compileDateFilter(resource, field, operator, value, timezone);
  if (operator === "IN" || operator === "NIN") {
    if (!Array.isArray(value)) throw new SearchQueryError("parameter_invalid", `${operator} needs an array value`);
    const set = new Set(value.map((v) => String(v)));
    const has = (item: Record<string, unknown>): boolean => valuesAt(item, field).some((v) => set.has(String(v)));
    return operator === "IN" ? has : (item) => !has(item);
  }
  if (Array.isArray(value)) throw new SearchQueryError("parameter_invalid", `${operator} needs a single value`);
  const anyMatches =
    (test: (v: unknown) => boolean): ItemPredicate =>
    (item) =>
      valuesAt(item, field).some(test);
  const text = String(value);
  switch (operator) {
    case "=":
      return anyMatches((v) => sameValue(v, value));
    case "!=":
      return (item) => !valuesAt(item, field).some((v) => sameValue(v, value));
    case "~":
      return anyMatches((v) => typeof v === "string" && v.includes(text));
    case "!~":
      return (item) => !valuesAt(item, field).some((v) => typeof v === "string" && v.includes(text));
    case "^":
      return anyMatches((v) => typeof v === "string" && v.startsWith(text));
    case "$":
      return anyMatches((v) => typeof v === "string" && v.endsWith(text));
    default: {
      const n = toNumber(value, field);
      return anyMatches((v) => typeof v === "number" && compareNumbers(v, operator, n));
    }
  }
}

/**
 * Dates. Conversations and tickets: to the second; `>` and `<` include the value itself ("Greater (or equal) than",
 * "Lower (or equal) than" in their operator tables). Contacts: by calendar day in the workspace's timezone.
 */
function compileDateFilter(
  resource: SearchResource,
  field: string,
  operator: string,
  value: unknown,
  timezone: string,
): ItemPredicate {
  if (resource === "contacts") {
    if (!["=", "<", ">"].includes(operator))
      throw new SearchQueryError(
        "parameter_invalid",
        `The ${operator} operator is not supported on Date fields (${field}); use =, < or >`,
      );
    const dayStart = startOfDay(toNumber(value, field) * 1000, timezone);
    const nextDayStart = startOfDay(dayStart + DAY_MS + 6 * 3_600_000, timezone);
    const test =
      operator === "="
        ? (ms: number) => ms >= dayStart && ms < nextDayStart
        : operator === ">"
          ? (ms: number) => ms >= nextDayStart
          : (ms: number) => ms < dayStart;
    return (item) => valuesAt(item, field).some((v) => typeof v === "number" && test(v * 1000));
  }
  if (operator === "IN" || operator === "NIN") {
    if (!Array.isArray(value)) throw new SearchQueryError("parameter_invalid", `${operator} needs an array value`);
    const set = new Set(value.map((v) => toNumber(v, field)));
    const has = (item: Record<string, unknown>): boolean =>
      valuesAt(item, field).some((v) => typeof v === "number" && set.has(v));
    return operator === "IN" ? has : (item) => !has(item);
  }
  if (["~", "!~", "^", "$"].includes(operator))
    throw new SearchQueryError("parameter_invalid", `The ${operator} operator is not supported on Date fields`);
  const n = toNumber(value, field);
  const inclusive = operator === ">" ? ">=" : operator === "<" ? "<=" : operator;
  const test = (item: Record<string, unknown>): boolean =>
    valuesAt(item, field).some((v) => typeof v === "number" && compareNumbers(v, inclusive, n));
  return operator === "!=" ? (item) => !valuesAt(item, field).some((v) => v === n) : test;
}

function compareNumbers(v: number, operator: string, n: number): boolean {
  switch (operator) {
    case "<":
      return v < n;
    case "<=":
      return v <= n;
    case ">":
      return v > n;
    case ">=":
      return v >= n;
    case "=":
      return v === n;
    default:
      throw new SearchQueryError("parameter_invalid", `The ${operator} operator is not supported on numbers`);
  }
}

function toNumber(value: unknown, field: string): number {
  const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  if (!Number.isFinite(n))
    throw new SearchQueryError("parameter_invalid", `${field} accepts a number; got ${JSON.stringify(value)}`);
  return n;
}

function sameValue(actual: unknown, wanted: unknown): boolean {
  if (typeof actual === "number") return actual === Number(wanted);
  if (typeof actual === "boolean") return String(actual) === String(wanted);
  return typeof actual === "string" && actual === String(wanted);
}

/**
 * The values at a dotted path; arrays along the way are flattened, so `contacts.contacts.id` style paths and list
 * fields match when any element does. `contact_ids`, `tag_ids` and `teammate_ids` read the ids of the embedded lists.
 */
export function valuesAt(item: Record<string, unknown>, field: string): unknown[] {
  const aliases: Record<string, string> = {
    contact_ids: "contacts.contacts.id",
    tag_ids: "tags.tags.id",
    teammate_ids: "teammates.admins.id",
    tag_id: "tags.data.id",
  };
  const path = (aliases[field] ?? field).split(".");
  let current: unknown[] = [item];
  for (const key of path) {
    const next: unknown[] = [];
    for (const c of current) {
      if (c === null || typeof c !== "object") continue;
      const v = (c as Record<string, unknown>)[key];
      if (Array.isArray(v)) next.push(...(v as unknown[]));
      else if (v !== undefined) next.push(v);
    }
    current = next;
  }
  return current;
}

/** Epoch ms of the midnight, in `timezone`, that starts the calendar day containing `ms`. */
export function startOfDay(ms: number, timezone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(new Date(ms));
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value);
  const utcMidnight = Date.UTC(get("year"), get("month") - 1, get("day"));
  // The zone's offset at that midnight (twice: the first guess may sit on the other side of a DST change).
  let guess = utcMidnight - offsetMs(utcMidnight, timezone);
  guess = utcMidnight - offsetMs(guess, timezone);
  return guess;
}

function offsetMs(ms: number, timezone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: timezone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(ms));
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return asUtc - Math.floor(ms / 1000) * 1000;
}
