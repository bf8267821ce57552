/**
 * The Data Events route module of `fake-intercom` (facts §2.3, §2.5): `POST /events` (validation, the 10-key metadata
 * rule, unknown contacts, the event-name cap, dedupe on contact + name + `created_at`), `GET /events` as an
 * `event.list` or, with `summary=true`, an `event.summary`, and `POST /events/summaries`. Shapes follow Intercom's
 * OpenAPI description and the `intercom-client` v7 types. Imports only the fake's route contract.
 */
import {
  errorReply,
  intercomIdOf,
  jsonReply,
  normalizeEventName,
  type FakeReply,
  type FakeRouteContext,
  type FakeRouteModule,
  type FakeStoredEvent,
  type FakeWorkspace,
} from "./fake-intercom-api.js";
import { randomUUID } from "node:crypto";

/** An identified contact as an event or query names it. */
export interface FakeContactRef {
  user_id?: string;
  id?: string;
  email?: string;
}

/** Options of {@link dataEventsRoutes}. */
export interface DataEventsRoutesOptions {
  /** Distinct event names accepted before 422. */
  maxEventNames: number;
  /** Whether a contact exists; unknown contacts get 404 `not_found`. */
  contactExists: (contact: FakeContactRef) => boolean;
}

/** Intercom's timestamp text in summaries, e.g. `2014-01-16T23:12:21.000+00:00`. */
function isoSeconds(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace("Z", "+00:00");
}

function isMetadataValue(v: unknown): boolean {
  return (
    typeof v === "string" ||
    typeof v === "number" ||
    (typeof v === "object" &&
      v !== null &&
      !Array.isArray(v) &&
      ["amount,currency", "url,value"].includes(Object.keys(v).sort().join(",")))
  );
}

function createEvent(ctx: FakeRouteContext, options: DataEventsRoutesOptions): FakeReply {
  const e = ctx.json as Partial<FakeStoredEvent> | null;
  if (typeof e !== "object" || e === null || typeof e.event_name !== "string" || e.event_name === "")
    return errorReply(400, "parameter_not_found", "event_name not specified");
  if (typeof e.created_at !== "number") return errorReply(400, "parameter_not_found", "created_at not specified");
  const c: FakeContactRef = {};
  if (typeof e.user_id === "string") c.user_id = e.user_id;
  if (typeof e.id === "string") c.id = e.id;
  if (typeof e.email === "string") c.email = e.email;
  const ident =
    c.user_id !== undefined
      ? `u:${c.user_id}`
      : c.id !== undefined
        ? `i:${c.id}`
        : c.email !== undefined
          ? `e:${c.email}`
          : null;
  if (ident === null) return errorReply(400, "parameter_not_found", "user_id, id or email required");
  let metadata: Record<string, unknown> | undefined;
  if (e.metadata !== undefined) {
    if (typeof e.metadata !== "object" || e.metadata === null || Array.isArray(e.metadata))
      return errorReply(400, "parameter_invalid", "Invalid metadata");
    const entries = Object.entries(e.metadata);
    if (!entries.every(([, v]) => isMetadataValue(v))) return errorReply(400, "parameter_invalid", "Invalid metadata");
    // Intercom keeps the first 10 keys and silently ignores the rest (facts §2.3).
    ctx.count("metadataKeysDropped", Math.max(0, entries.length - 10));
    metadata = Object.fromEntries(entries.slice(0, 10));
  }
  if (!options.contactExists(c)) return errorReply(404, "not_found", "User Not Found");
  const ws = ctx.workspace;
  const name = normalizeEventName(e.event_name);
  if (!ws.eventNames.has(name) && ws.eventNames.size >= options.maxEventNames)
    return errorReply(422, "422", `Cannot have more than ${options.maxEventNames} active event names`);
  const key = `${ident}\u0000${name}\u0000${e.created_at}`;
  if (ws.eventKeys.has(key)) {
    ctx.count("duplicates");
    return { status: 202, body: "" };
  }
  ws.eventKeys.add(key);
  ws.eventNames.add(name);
  ctx.count("accepted");
  ws.events.push({
    ...c,
    event_name: e.event_name,
    created_at: e.created_at,
    ...(metadata ? { metadata } : {}),
    receivedAtMs: ctx.nowMs,
    eventId: randomUUID(),
    intercom_user_id: intercomIdOf(c),
  });
  return { status: 202, body: "" };
}

function listEvents(ctx: FakeRouteContext): FakeReply {
  const q = ctx.url.searchParams;
  if (q.get("type") !== "user") return errorReply(400, "parameter_invalid", "type must be user");
  const uid = q.get("user_id");
  const email = q.get("email");
  const iid = q.get("intercom_user_id");
  if (uid === null && email === null && iid === null)
    return errorReply(400, "parameter_not_found", "user_id, email or intercom_user_id required");
  const perPage = q.get("per_page") === null ? Number.POSITIVE_INFINITY : Number(q.get("per_page"));
  if (!(perPage >= 1)) return errorReply(400, "parameter_invalid", "per_page must be a positive integer");
  const who: Record<string, string> = {};
  if (uid !== null) who.user_id = uid;
  if (email !== null) who.email = email;
  if (iid !== null) who.intercom_user_id = iid;
  const mine = ctx.workspace.events.filter(
    (e) =>
      (uid !== null && e.user_id === uid) ||
      (email !== null && e.email === email) ||
      (iid !== null && e.intercom_user_id === iid),
  );
  if (q.get("summary") === "true") return jsonReply(200, summarize(ctx.workspace, mine, who));
  const events = mine.slice(0, perPage).map((e) => ({
    type: "event",
    id: e.eventId,
    event_name: e.event_name,
    created_at: e.created_at,
    ...(e.user_id !== undefined ? { user_id: e.user_id } : {}),
    ...(e.email !== undefined ? { email: e.email } : {}),
    intercom_user_id: e.intercom_user_id,
    metadata: e.metadata ?? {},
  }));
  return jsonReply(200, { type: "event.list", events, pages: { next: null, since: null } });
}

/** `event.summary`: per event name, the first and last occurrence and the count, summaries included. */
function summarize(ws: FakeWorkspace, mine: readonly FakeStoredEvent[], who: Record<string, string>): unknown {
  const byName = new Map<string, { first: number; last: number; count: number }>();
  const add = (name: string, first: number, last: number, count: number): void => {
    const s = byName.get(name);
    if (s === undefined) byName.set(name, { first, last, count });
    else {
      s.first = Math.min(s.first, first);
      s.last = Math.max(s.last, last);
      s.count += count;
    }
  };
  for (const e of mine) add(normalizeEventName(e.event_name), e.created_at, e.created_at, 1);
  const ids = new Set(mine.map((e) => e.intercom_user_id));
  if (who.intercom_user_id !== undefined) ids.add(who.intercom_user_id);
  if (who.user_id !== undefined) ids.add(intercomIdOf({ user_id: who.user_id }));
  for (const s of ws.summaries) if (ids.has(s.intercom_user_id)) add(s.name, s.first, s.last, s.count);
  return {
    type: "event.summary",
    ...who,
    events: [...byName].map(([name, s]) => ({
      name,
      first: isoSeconds(s.first),
      last: isoSeconds(s.last),
      count: s.count,
      description: "",
    })),
  };
}

function createSummaries(ctx: FakeRouteContext, options: DataEventsRoutesOptions): FakeReply {
  const body = ctx.json as { user_id?: unknown; event_summaries?: unknown } | null;
  if (typeof body !== "object" || body === null || typeof body.user_id !== "string" || body.user_id === "")
    return errorReply(400, "parameter_not_found", "user_id not specified");
  const s = body.event_summaries as { event_name?: unknown; count?: unknown; first?: unknown; last?: unknown };
  if (typeof s !== "object" || s === null || typeof s.event_name !== "string" || s.event_name === "")
    return errorReply(400, "parameter_not_found", "event_summaries.event_name not specified");
  const int = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;
  if (!int(s.count) || !int(s.first) || !int(s.last) || s.first > s.last)
    return errorReply(400, "parameter_invalid", "event_summaries needs integer count, first and last (first <= last)");
  if (!options.contactExists({ user_id: body.user_id })) return errorReply(404, "not_found", "User Not Found");
  ctx.workspace.summaries.push({
    intercom_user_id: intercomIdOf({ user_id: body.user_id }),
    name: normalizeEventName(s.event_name),
    count: s.count,
    first: s.first,
    last: s.last,
  });
  return { status: 200, body: "" };
}

/** The Data Events route module. */
export function dataEventsRoutes(options: DataEventsRoutesOptions): FakeRouteModule {
  return {
    name: "data-events",
    routes: [
      { method: "POST", path: "/events", faultInjectable: true, handle: (ctx) => createEvent(ctx, options) },
      { method: "GET", path: "/events", handle: listEvents },
      { method: "POST", path: "/events/summaries", handle: (ctx) => createSummaries(ctx, options) },
    ],
  };
}
