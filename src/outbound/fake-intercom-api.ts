/**
 * The plug-in contract of `fake-intercom`: a route module is a list of API routes (method + path + handler) that the
 * fake serves behind its bearer-token check, `X-RateLimit-*` windows and fault injection, sharing one fake workspace
 * (contacts and data events). The Data Events module (`fake-intercom-events.ts`) is one; more API areas plug in the
 * same way through `startFakeIntercom({ routes: [...] })`. Also the `error.list` helpers every module answers with.
 * Imports only Node built-ins.
 */
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** One accepted event as the fake stored it. */
export interface FakeStoredEvent {
  /** As sent (the fake compares names case-insensitively, with `.`/`$` as `-`, like Intercom). */
  event_name: string;
  /** As sent, unix seconds. */
  created_at: number;
  /** The contact's external id, when sent. */
  user_id?: string;
  /** The Intercom contact id, when sent. */
  id?: string;
  /** The contact's email, when sent. */
  email?: string;
  /** The first 10 metadata keys (Intercom ignores the rest). */
  metadata?: Record<string, unknown>;
  /** Epoch ms the request arrived. */
  receivedAtMs: number;
  /** The event's own id, as `GET /events` lists it. */
  eventId: string;
  /** The Intercom id of the contact the event belongs to (the sent `id`, or one the fake assigned). */
  intercom_user_id: string;
}

/** A summary recorded through `POST /events/summaries`. */
export interface FakeEventSummary {
  /** Intercom id of the contact. */
  intercom_user_id: string;
  /** Normalised event name. */
  name: string;
  /** How many times it occurred. */
  count: number;
  /** First occurrence, unix seconds. */
  first: number;
  /** Last occurrence, unix seconds. */
  last: number;
}

/** The fake workspace every route module reads and writes. */
export interface FakeWorkspace {
  /** Accepted events, in arrival order. */
  events: FakeStoredEvent[];
  /** Dedupe keys of accepted events: (contact, normalised name, `created_at`). */
  eventKeys: Set<string>;
  /** Normalised event names seen (Intercom keeps 120 active ones). */
  eventNames: Set<string>;
  /** Summaries recorded through `POST /events/summaries`. */
  summaries: FakeEventSummary[];
}

/** An empty {@link FakeWorkspace}. */
export function emptyWorkspace(): FakeWorkspace {
  return { events: [], eventKeys: new Set(), eventNames: new Set(), summaries: [] };
}

/** What a route handler answers: a status and a body (JSON text, or empty). */
export interface FakeReply {
  status: number;
  body: string;
}

/** Counters a route module may raise (see `FakeIntercomStats`). */
export type FakeCounter = "accepted" | "duplicates" | "metadataKeysDropped";

/** What a route handler gets. */
export interface FakeRouteContext {
  /** The request (headers, method). */
  req: IncomingMessage;
  /** The parsed URL (query parameters). */
  url: URL;
  /** The parsed JSON body of a POST or PUT (the fake answers 400 `parameter_invalid` to one that is not JSON). */
  json: unknown;
  /** Arrival time, epoch ms. */
  nowMs: number;
  /** The shared fake workspace. */
  workspace: FakeWorkspace;
  /** Raises a counter of `GET /_fake/stats`. */
  count(counter: FakeCounter, by?: number): void;
}

/** One API route of a module. */
export interface FakeRoute {
  /** HTTP method. */
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Exact path, e.g. `/events/summaries`. */
  path: string;
  /** Answers the request (auth and rate limiting already passed). */
  handle(ctx: FakeRouteContext): Promise<FakeReply> | FakeReply;
  /** Injected failures (`failNext`, `failRate`) and lost answers apply to this route. @defaultValue false */
  faultInjectable?: boolean;
}

/** A group of routes served together (one API area). */
export interface FakeRouteModule {
  /** A short name for `--help` and errors, e.g. `data-events`. */
  name: string;
  /** Its routes. */
  routes: readonly FakeRoute[];
}

/** An `error.list` answer, as Intercom sends every error (facts §2.4). */
export function errorReply(status: number, code: string, message: string): FakeReply {
  return {
    status,
    body: JSON.stringify({ type: "error.list", request_id: randomUUID(), errors: [{ code, message }] }),
  };
}

/** A JSON answer. */
export function jsonReply(status: number, value: unknown): FakeReply {
  return { status, body: JSON.stringify(value) };
}

/** How Intercom names an event internally: case-insensitive, `.` and `$` become `-` (facts §2.3). */
export function normalizeEventName(name: string): string {
  return name.toLowerCase().replace(/[.$]/g, "-");
}

/** The Intercom id of a contact: the `id` sent, else a stable 24-hex id derived from `user_id` or `email`. */
export function intercomIdOf(c: { user_id?: string; id?: string; email?: string }): string {
  if (c.id !== undefined) return c.id;
  const key = c.user_id !== undefined ? `u:${c.user_id}` : `e:${c.email ?? ""}`;
  return createHash("sha256").update(key).digest("hex").slice(0, 24);
}

/** The `error.list` code and message Intercom uses for each status (facts §2.4), for injected failures. */
const INJECTED_ERRORS: Record<number, [code: string, message: string]> = {
  400: ["parameter_invalid", "Injected bad request"],
  401: ["unauthorized", "Access Token Invalid"],
  403: ["forbidden", "Injected forbidden: the token may not use this API"],
  404: ["not_found", "User Not Found"],
  406: ["unsupported", "Injected unsupported Accept header"],
  408: ["request_timeout", "Injected request timeout"],
  409: ["conflict", "Injected conflict"],
  422: ["unprocessable_entity", "Injected unprocessable entity"],
  429: ["rate_limit_exceeded", "Injected rate limit exceeded"],
  500: ["server_error", "Injected server error"],
  502: ["server_error", "Injected bad gateway"],
  503: ["service_unavailable", "Injected service unavailable"],
  504: ["request_timeout", "Injected gateway timeout"],
};

/** The injected `error.list` for `status`: Intercom's code for it, else `client_error` / `server_error`. */
export function injectedError(status: number): FakeReply {
  const known = INJECTED_ERRORS[status];
  if (known) return errorReply(status, known[0], known[1]);
  return status >= 500
    ? errorReply(status, "server_error", `Injected server error ${status}`)
    : errorReply(status, "client_error", `Injected client error ${status}`);
}
