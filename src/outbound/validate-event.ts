/**
 * Validation of one outbound Data Event against Intercom's rules: required fields, the event name, `created_at` in
 * seconds, at most 10 metadata keys and the metadata value types (strings, numbers, dates, rich links, money).
 * `checkEvent` lists every problem at once; `validateEvent` throws them as one `EventValidationError`. Pure: no I/O.
 */
import { EventValidationError, type EventValidationIssue } from "../core/errors.js";

/** A rich link metadata value (facts §2.3). */
export interface RichLinkValue {
  /** The link target, an http(s) URL. */
  url: string;
  /** The text Intercom shows for the link. */
  value: string;
}

/** A monetary amount metadata value: `amount` in cents (positive integer), `currency` an ISO 4217 code (facts §2.3). */
export interface MonetaryValue {
  /** Amount in the currency's smallest unit (cents), a positive integer: 3499 is 34.99. */
  amount: number;
  /** ISO 4217 currency code, e.g. `eur`. */
  currency: string;
}

/** Every metadata value type Intercom accepts: string (also links), number, `*_date` unix seconds, rich link, money. */
export type MetadataValue = string | number | RichLinkValue | MonetaryValue;

/**
 * An outbound Data Event as the API names its fields (snake_case). At least one of `user_id`, `id`, `email` is
 * required; `created_at` defaults to now when absent.
 */
export interface DataEventInput {
  /** Required, non-empty. Lowercase past-tense verb-noun recommended (`invited-friend`). */
  event_name: string;
  /** UTC unix seconds. @defaultValue now, stamped once when the event is validated */
  created_at?: number;
  /** Your external user id. */
  user_id?: string;
  /** Intercom contact id (required for Leads). */
  id?: string;
  /** Only if email identifies users uniquely. */
  email?: string;
  /** At most 10 flat keys (facts §2.3). */
  metadata?: Record<string, MetadataValue>;
}

/** A validated event, ready to store: `created_at` is set and nothing unknown remains. */
export interface DataEvent extends DataEventInput {
  created_at: number;
}

/** Options of {@link validateEvent} and {@link checkEvent}. */
export interface ValidateEventOptions {
  /**
   * What to do with more than {@link MAX_METADATA_KEYS} metadata keys: `"error"` refuses the event; `"truncate"` keeps
   * the first 10 (as Intercom would, silently) and reports a warning.
   * @defaultValue "error"
   */
  metadataOverflow?: "error" | "truncate";
  /**
   * What to do with metadata keys that differ only in case (`Plan` and `plan`), which Intercom treats as one key:
   * `"warn"` accepts the event with a warning, `"error"` refuses it.
   * @defaultValue "warn"
   */
  metadataKeyCase?: "warn" | "error";
  /** Current time, epoch ms, used to default `created_at`. @defaultValue Date.now() */
  nowMs?: number;
}

/** The outcome of {@link checkEvent}: every error and warning at once. */
export type EventCheck =
  | { ok: true; event: DataEvent; warnings: EventValidationIssue[] }
  | { ok: false; issues: EventValidationIssue[]; warnings: EventValidationIssue[] };

/** Intercom tracks at most this many metadata keys per event and silently ignores the rest (facts §2.3). */
export const MAX_METADATA_KEYS = 10;
/** Longest metadata string, in characters (help article 175, facts §2.3). */
export const MAX_METADATA_STRING_CHARS = 255;
/**
 * `created_at` values above this are taken for milliseconds: 10^11 seconds is the year 5138, while 10^11 ms is
 * March 1973.
 */
export const MILLISECONDS_THRESHOLD = 100_000_000_000;

const KNOWN_FIELDS = new Set(["event_name", "created_at", "user_id", "id", "email", "metadata"]);
/** Common spellings from older SDKs and blog posts (pre-Fern camelCase, facts §3.2) and what to use instead. */
const ALIASES: Record<string, string> = {
  eventname: "event_name",
  createdat: "created_at",
  userid: "user_id",
  intercomuserid: "id",
  contactid: "id",
  emailaddress: "email",
  meta: "metadata",
};
/** Forbidden in metadata key names: `.`, `$`, `` ~`!@#%^&*'{}|\" `` and NUL (help article 175, facts §2.3). */
// eslint-disable-next-line no-control-regex -- NUL is one of the forbidden characters
const FORBIDDEN_KEY_CHARS = /[.$~`!@#%^&*'{}|\\"\u0000]/;
const LINK = /^https?:\/\/\S+$/i;
/** Lowercase words joined by `-`, `_` or spaces, at least two of them (verb-noun). */
const VERB_NOUN = /^[a-z0-9]+(?:[-_ ][a-z0-9]+)+$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

function snakeCase(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

function checkUnixSeconds(value: unknown, field: string, issues: EventValidationIssue[]): boolean {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    const hint = typeof value === "string" && value.trim() !== "" ? " (a number, not a string)" : "";
    issues.push({ field, message: `must be an integer of unix seconds${hint}; got ${describe(value)}` });
    return false;
  }
  if (value >= MILLISECONDS_THRESHOLD) {
    issues.push({
      field,
      message: `${value} looks like milliseconds; Intercom expects unix seconds: use Math.floor(${value} / 1000) = ${Math.floor(value / 1000)}`,
    });
    return false;
  }
  if (value < 0) {
    issues.push({ field, message: "must be unix seconds >= 0" });
    return false;
  }
  return true;
}

function checkMetadataValue(key: string, value: unknown, issues: EventValidationIssue[]): void {
  const field = `metadata.${key}`;
  if (key.endsWith("_date")) {
    // A `*_date` key is a Date: its value must be unix seconds (facts §2.3).
    checkUnixSeconds(value, field, issues);
    return;
  }
  if (typeof value === "string") {
    const chars = [...value].length;
    if (chars > MAX_METADATA_STRING_CHARS) {
      issues.push({
        field,
        message: `string is ${chars} characters; Intercom allows at most ${MAX_METADATA_STRING_CHARS}`,
      });
    }
    return;
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) issues.push({ field, message: "number must be finite" });
    return;
  }
  if (typeof value === "boolean") {
    issues.push({ field, message: `booleans are not a metadata type; send the string "${String(value)}" instead` });
    return;
  }
  if (value === null) {
    issues.push({ field, message: "null is not a metadata value; leave the key out instead" });
    return;
  }
  if (Array.isArray(value)) {
    issues.push({ field, message: "arrays are not allowed in metadata (flat values only)" });
    return;
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort().join(",");
    if (keys === "url,value") {
      if (typeof value.url !== "string" || !LINK.test(value.url))
        issues.push({ field: `${field}.url`, message: "rich link url must be an http(s) URL" });
      if (typeof value.value !== "string")
        issues.push({ field: `${field}.value`, message: "rich link value must be a string" });
      else if ([...value.value].length > MAX_METADATA_STRING_CHARS) {
        issues.push({
          field: `${field}.value`,
          message: `string is longer than ${MAX_METADATA_STRING_CHARS} characters`,
        });
      }
      return;
    }
    if (keys === "amount,currency") {
      if (typeof value.amount !== "number" || !Number.isInteger(value.amount) || value.amount <= 0) {
        issues.push({
          field: `${field}.amount`,
          message: "monetary amount must be a positive integer number of cents (34999 for 349.99)",
        });
      }
      if (typeof value.currency !== "string" || !/^[A-Za-z]{3}$/.test(value.currency)) {
        issues.push({ field: `${field}.currency`, message: 'currency must be a 3-letter ISO 4217 code such as "eur"' });
      }
      return;
    }
    issues.push({
      field,
      message:
        "nested objects are not allowed in metadata; only a rich link {url, value} or a monetary amount {amount, currency}",
    });
    return;
  }
  issues.push({ field, message: `${describe(value)} is not a metadata value` });
}

/**
 * Checks one outbound event against every rule of facts §2.3 and returns all problems together, plus warnings for
 * things Intercom accepts but rewrites. Never throws. `created_at` is stamped with the current time when absent.
 */
export function checkEvent(input: unknown, options: ValidateEventOptions = {}): EventCheck {
  const issues: EventValidationIssue[] = [];
  const warnings: EventValidationIssue[] = [];
  if (!isPlainObject(input)) {
    return {
      ok: false,
      issues: [{ field: "(event)", message: `an event must be a JSON object; got ${describe(input)}` }],
      warnings,
    };
  }

  for (const key of Object.keys(input)) {
    if (KNOWN_FIELDS.has(key)) continue;
    const snake = ALIASES[key] ?? ALIASES[key.toLowerCase()] ?? snakeCase(key);
    if (KNOWN_FIELDS.has(snake)) {
      issues.push({ field: snake, message: `found "${key}"; Intercom's field is snake_case "${snake}"` });
    } else {
      issues.push({ field: key, message: `unknown field; allowed: ${[...KNOWN_FIELDS].join(", ")}` });
    }
  }

  const name = input.event_name;
  if (typeof name !== "string" || name.trim() === "") {
    if (!("eventName" in input))
      issues.push({ field: "event_name", message: name === undefined ? "is required" : "must be a non-empty string" });
  } else {
    if (/[.$]/.test(name))
      warnings.push({ field: "event_name", message: `contains "." or "$", which Intercom rewrites to "-"` });
    if (name !== name.toLowerCase()) {
      warnings.push({ field: "event_name", message: "is not lowercase; Intercom treats names case-insensitively" });
    }
    if (!VERB_NOUN.test(name.toLowerCase().replace(/[.$]/g, "-"))) {
      warnings.push({ field: "event_name", message: 'is not a verb-noun name such as "invited-friend"' });
    }
  }

  let createdAt = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (input.created_at !== undefined) {
    if (checkUnixSeconds(input.created_at, "created_at", issues)) createdAt = input.created_at as number;
  }

  const identifiers = ["user_id", "id", "email"] as const;
  let hasIdentifier = false;
  for (const f of identifiers) {
    const v = input[f];
    if (v === undefined) continue;
    if (typeof v !== "string" || v.trim() === "") {
      issues.push({
        field: f,
        message: `must be a non-empty string; got ${typeof v === "number" ? `the number ${v} (send it as a string)` : describe(v)}`,
      });
    } else {
      hasIdentifier = true;
      if (f === "email" && !v.includes("@")) issues.push({ field: "email", message: "is not an email address" });
    }
  }
  const camelIdentifier = Object.keys(input).some((k) => ["userId", "intercomUserId", "contactId"].includes(k));
  if (!hasIdentifier && !camelIdentifier && !issues.some((i) => (identifiers as readonly string[]).includes(i.field))) {
    issues.push({ field: "user_id", message: "one of user_id, id or email is required (Leads need id)" });
  }

  let metadata: Record<string, MetadataValue> | undefined;
  if (input.metadata !== undefined) {
    if (!isPlainObject(input.metadata)) {
      issues.push({ field: "metadata", message: `must be a flat JSON object; got ${describe(input.metadata)}` });
    } else {
      const entries = Object.entries(input.metadata).filter(([, v]) => v !== undefined);
      let kept = entries;
      if (entries.length > MAX_METADATA_KEYS) {
        const extra = entries.slice(MAX_METADATA_KEYS).map(([k]) => k);
        if (options.metadataOverflow === "truncate") {
          kept = entries.slice(0, MAX_METADATA_KEYS);
          warnings.push({
            field: "metadata",
            message: `has ${entries.length} keys; dropped ${extra.join(", ")} (Intercom keeps the first ${MAX_METADATA_KEYS})`,
          });
        } else {
          issues.push({
            field: "metadata",
            message: `has ${entries.length} keys; Intercom keeps only the first ${MAX_METADATA_KEYS} and silently drops ${extra.join(", ")}`,
          });
        }
      }
      for (const [key, value] of kept) {
        if (key === "") issues.push({ field: "metadata", message: "has an empty key" });
        else if (FORBIDDEN_KEY_CHARS.test(key)) {
          issues.push({
            field: `metadata.${key}`,
            message: `key contains a character Intercom forbids (. $ ~ \` ! @ # % ^ & * ' { } | \\ " or NUL)`,
          });
        }
        checkMetadataValue(key, value, issues);
      }
      checkKeyCase(
        kept.map(([k]) => k),
        options.metadataKeyCase === "error" ? issues : warnings,
      );
      metadata = Object.fromEntries(kept) as Record<string, MetadataValue>;
    }
  }

  if (issues.length > 0) return { ok: false, issues, warnings };
  const event: DataEvent = { event_name: name as string, created_at: createdAt };
  for (const f of identifiers) {
    const v = input[f];
    if (typeof v === "string") event[f] = v;
  }
  if (metadata !== undefined) event.metadata = metadata;
  return { ok: true, event, warnings };
}

/** Reports every metadata key that differs from an earlier one only in case: Intercom keeps one of them. */
function checkKeyCase(keys: readonly string[], into: EventValidationIssue[]): void {
  const first = new Map<string, string>();
  for (const key of keys) {
    const folded = key.toLowerCase();
    const earlier = first.get(folded);
    if (earlier === undefined) first.set(folded, key);
    else
      into.push({
        field: `metadata.${key}`,
        message: `differs from "${earlier}" only in case; Intercom treats them as one key and keeps only one value`,
      });
  }
}

/**
 * Validates one outbound event (facts §2.3) and returns it with `created_at` stamped, plus warnings.
 * @throws {EventValidationError} listing every problem, each with its field.
 * @example
 * const { event } = validateEvent({ event_name: "invited-friend", user_id: "42", metadata: { plan: "pro" } });
 */
export function validateEvent(
  input: unknown,
  options: ValidateEventOptions = {},
): { event: DataEvent; warnings: EventValidationIssue[] } {
  const result = checkEvent(input, options);
  if (!result.ok) throw new EventValidationError(result.issues);
  return { event: result.event, warnings: result.warnings };
}

/**
 * Intercom's spelling of an event name for counting distinct names: case-insensitive, `.` and `$` become `-`
 * (facts §2.3).
 */
export function canonicalEventName(name: string): string {
  return name.toLowerCase().replace(/[.$]/g, "-");
}
