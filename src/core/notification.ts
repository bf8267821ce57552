import { createHash } from "node:crypto";
import { PayloadError } from "./errors.js";
import { rawBodyToBuffer, type RawBody } from "./signature.js";
import type { IntercomNotification } from "../topics/index.js";

/** The outcome of {@link parseNotification}: a notification, or a {@link PayloadError} with a stable `reason`. */
export type ParseResult = { ok: true; notification: IntercomNotification<string> } | { ok: false; error: PayloadError };

/**
 * Parses and checks the envelope of a webhook body. Only the envelope is validated (facts §1.9: item shapes drift);
 * unknown fields and unknown item types are kept as they are. `id` may be null (`ping`).
 * Never throws.
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
  const data = n["data"];
  if (typeof data !== "object" || data === null || !("item" in data)) {
    return fail("missing_item", 'Notification has no "data.item"');
  }
  if (n["id"] !== null && n["id"] !== undefined && typeof n["id"] !== "string") {
    return fail("not_a_notification", 'Notification "id" must be a string or null');
  }
  if (n["created_at"] !== undefined && (typeof n["created_at"] !== "number" || !Number.isFinite(n["created_at"]))) {
    return fail("invalid_created_at", 'Notification "created_at" must be a number of unix seconds');
  }
  if (n["id"] === undefined) n["id"] = null;
  return { ok: true, notification: n as unknown as IntercomNotification<string> };
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
