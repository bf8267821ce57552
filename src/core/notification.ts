/**
 * Parsing one webhook body into a notification: the envelope checks (`type`, `topic`, `created_at`, nesting depth), the
 * dedupe key (`app_id` + `id`, or a key from stable fields when `id` is null, as for `ping`) and the id of the item a
 * notification is about. Pure: must not import a store, a driver, a framework or `node:http`.
 */
import { createHash } from "node:crypto";
import { PayloadError } from "./errors.js";
import { rawBodyToBuffer, type RawBody } from "./signature.js";
import type { IntercomNotification } from "../topics/index.js";

/** The outcome of {@link parseNotification}: a notification, or a {@link PayloadError} with a stable `reason`. */
export type ParseResult = { ok: true; notification: IntercomNotification<string> } | { ok: false; error: PayloadError };

/** The largest `created_at` accepted: 9999-12-31T23:59:59Z in unix seconds. */
export const MAX_CREATED_AT = 253_402_300_799;

/** Nesting deeper than this is refused: no Intercom payload comes close, and deeper input would exhaust the stack. */
export const MAX_NOTIFICATION_DEPTH = 200;

/**
 * Parses and checks the envelope of a webhook body (facts §1.7): `type` is `"notification_event"`, `topic` a non-empty
 * string, `created_at` whole unix seconds up to year 9999, `id` a string or null, and `data` an object holding an `item` object; `app_id` and
 * `data.type`, sent on every captured payload but not documented, must be strings when present. Item shapes are not checked (facts §1.9: they drift);
 * unknown fields and unknown item types are kept as they are. A missing `id` becomes null (`ping` sends null).
 *
 * Never throws. Every failure is a {@link PayloadError}: `code` is always `"IB_ERR_PAYLOAD_INVALID"` (what the HTTP
 * layer maps to 400) and `reason` names the check that failed; both are stable, so branch on them, not on `message`.
 * @example
 * const result = parseNotification(rawBody);
 * if (!result.ok) console.error(result.error.reason, result.error.message); // e.g. "missing_topic"
 * else console.log(result.notification.topic, result.notification.data.item);
 */
export function parseNotification(raw: RawBody): ParseResult {
  const text = typeof raw === "string" ? raw : rawBodyToBuffer(raw).toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail("invalid_json", "Body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail("not_an_object", "Body must be a JSON object");
  }
  const n = value as Record<string, unknown>;
  if (n["type"] !== "notification_event") {
    return fail("not_a_notification", 'Body is not an Intercom notification: "type" must be "notification_event"');
  }
  if (typeof n["topic"] !== "string" || n["topic"].length === 0) {
    return fail("missing_topic", 'Notification has no "topic" string');
  }
  // app_id and data.type are in every captured payload but not in Intercom's documented envelope (facts §1.7): a
  // notification without them is accepted, since a 400 would lose it (Intercom retries once). A wrong type is refused.
  if (n["app_id"] !== undefined && (typeof n["app_id"] !== "string" || n["app_id"].length === 0)) {
    return fail("missing_app_id", 'Notification "app_id" must be a non-empty string (the workspace it comes from)');
  }
  const data = n["data"];
  if (typeof data !== "object" || data === null || Array.isArray(data) || !("item" in data)) {
    return fail("missing_item", 'Notification has no "data.item"');
  }
  const item = (data as Record<string, unknown>)["item"];
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    return fail("missing_item", 'Notification "data.item" must be an object');
  }
  const dataType = (data as Record<string, unknown>)["type"];
  if (dataType !== undefined && typeof dataType !== "string") {
    return fail("not_a_notification", 'Notification "data.type" must be a string ("notification_event_data")');
  }
  if (n["id"] !== null && n["id"] !== undefined && typeof n["id"] !== "string") {
    return fail("not_a_notification", 'Notification "id" must be a string or null');
  }
  const createdAt = n["created_at"];
  // A whole number of seconds a Date can hold up to year 9999: anything else (1e20, 1.5) would be accepted here and
  // break every tool that later turns it into a date.
  if (typeof createdAt !== "number" || !Number.isInteger(createdAt) || createdAt < 0 || createdAt > MAX_CREATED_AT) {
    return fail(
      "invalid_created_at",
      `Notification "created_at" must be a whole number of unix seconds between 0 and ${MAX_CREATED_AT} (year 9999)`,
    );
  }
  if (depthExceeds(n, MAX_NOTIFICATION_DEPTH)) {
    return fail("too_deep", `Notification is nested more than ${MAX_NOTIFICATION_DEPTH} levels deep`);
  }
  if (n["id"] === undefined) n["id"] = null;
  return { ok: true, notification: n as unknown as IntercomNotification<string> };
}

/** True when `value` nests objects/arrays more than `max` levels deep. Iterative, so it cannot overflow the stack. */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

function fail(reason: PayloadError["reason"], message: string): ParseResult {
  return { ok: false, error: new PayloadError(reason, message) };
}

/**
 * The dedupe key of a notification: `app_id` + `id`; when `id` is null (`ping`), a key derived from stable fields
 * (`app_id`, `topic`, `created_at` and a hash of `data`), never from the whole body, whose `delivery_attempts`
 * changes on Intercom's retry (facts §1.4, §1.5).
 */
export function dedupeKeyOf(n: IntercomNotification<string>): string {
  const app = typeof n.app_id === "string" ? n.app_id : "";
  if (typeof n.id === "string" && n.id.length > 0) return `${app}/${n.id}`;
  const hash = createHash("sha256")
    .update(JSON.stringify([n.topic, n.created_at ?? null, stableStringify(n.data)]))
    .digest("hex")
    .slice(0, 32);
  return `${app}/~${hash}`;
}

/** The id of the object a notification is about (`data.item.id`, or a nested ticket/conversation id), if any. */
export function itemIdOf(n: IntercomNotification<string>): string | null {
  const item = n.data?.item as Record<string, unknown> | null | undefined;
  if (!item || typeof item !== "object") return null;
  const direct = item["id"] ?? item["conversation_id"];
  if (typeof direct === "string" || typeof direct === "number") return String(direct);
  // `user` covers the legacy 1.x `user_tag` item ({user, tag}; facts §1.9).
  for (const key of ["ticket", "conversation", "contact", "user", "company"]) {
    const nested = item[key] as Record<string, unknown> | undefined;
    const id = nested && typeof nested === "object" ? nested["id"] : undefined;
    if (typeof id === "string" || typeof id === "number") return String(id);
  }
  return null;
}

/** JSON with sorted keys, so two equal objects hash the same whatever their key order. */
function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`).join(",")}}`;
}
