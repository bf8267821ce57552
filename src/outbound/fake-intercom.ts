import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createFakeWorkspace, isWorkspacePath, type FakeWorkspace } from "../reconcile/fake-workspace.js";

function tokensEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

/** Options of {@link startFakeIntercom}. */
export interface FakeIntercomOptions {
  /** Port to listen on; 0 picks a free one. @defaultValue 0 */
  port?: number;
  /** Host to bind. @defaultValue "127.0.0.1" */
  host?: string;
  /** The only bearer token accepted. @defaultValue "test-token" */
  token?: string;
  /** Requests allowed per window (`X-RateLimit-Limit`). @defaultValue 1666 (10,000/min over 10 s windows) */
  limitPerWindow?: number;
  /** Window length, ms. Windows start at multiples of it since the epoch. @defaultValue 10_000 */
  windowMs?: number;
  /** Distinct event names accepted before 422 (facts §2.3). @defaultValue 120 */
  maxEventNames?: number;
  /**
   * Decides whether a contact exists; unknown contacts get 404 `not_found`.
   * @defaultValue identifiers starting with `missing` are unknown
   */
  contactExists?: (identifier: { user_id?: string; id?: string; email?: string }) => boolean;
  /** `app.id_code` answered by `GET /me`. @defaultValue "fakeapp1" */
  appId?: string;
  /** IANA timezone of the workspace: where contacts search's calendar days begin. @defaultValue "UTC" */
  timezone?: string;
}

/** Fault injection, settable at runtime (programmatically or via `POST /_fake/control`). */
export interface FakeIntercomFaults {
  /** The next N `POST /events` answer `failStatus` (after auth and rate limiting). @defaultValue 0 */
  failNext?: number;
  /**
   * Status used by `failNext` and `failRate`, answered with an `error.list` body carrying Intercom's code for it
   * (400 `parameter_invalid`, 401 `unauthorized`, 403 `forbidden`, 404 `not_found`, 422 `unprocessable_entity`, 429
   * `rate_limit_exceeded`, 503 `service_unavailable`, other 5xx `server_error`, other 4xx `client_error`).
   * @defaultValue 500
   */
  failStatus?: number;
  /** Fraction (0–1) of `POST /events` answering `failStatus`, at random. @defaultValue 0 */
  failRate?: number;
  /**
   * Delay before answering every request, ms; the request itself is processed at once, like a slow Intercom that
   * stored the event but answered late. Set above the client timeout to simulate a hang. @defaultValue 0
   */
  delayMs?: number;
  /** Replace the accepted token (to simulate a revoked token). */
  token?: string;
}

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
}

/** Counters for assertions and benches. */
export interface FakeIntercomStats {
  /** New events stored (202). */
  accepted: number;
  /** Duplicates on (contact, name, created_at): 202 but not stored again. */
  duplicates: number;
  /** 429 answers. */
  rateLimited: number;
  /** 429 answers per window start (epoch ms). */
  rateLimitedByWindow: Record<string, number>;
  /** Answers per status. */
  byStatus: Record<string, number>;
  /** All `POST /events` requests. */
  requests: number;
  /** Metadata keys silently dropped past the 10th. */
  metadataKeysDropped: number;
  /** Requests per window start (epoch ms). */
  requestsByWindow: Record<string, number>;
  /** `POST /events` per `Intercom-Version` header value (`(none)` when absent). */
  intercomVersions: Record<string, number>;
}

/** A running fake Intercom. */
export interface FakeIntercom {
  /** Base URL, e.g. `http://127.0.0.1:53124`. */
  readonly url: string;
  /** The port it listens on (useful with `port: 0`). */
  readonly port: number;
  /** A snapshot of the counters. */
  stats(): FakeIntercomStats;
  /** Every stored event, in arrival order. */
  events(): FakeStoredEvent[];
  /** Changes fault injection; omitted fields keep their value. */
  setFaults(faults: FakeIntercomFaults): void;
  /** Clears events, counters and faults (not the workspace's items). */
  reset(): void;
  /**
   * The seeded conversations, contacts and tickets behind `GET /me` and the search endpoints. Searches and `/me`
   * share the bearer token and the rate-limit window of `/events`.
   */
  readonly workspace: FakeWorkspace;
  /** Stops listening and drops open connections (in-flight requests get no answer). */
  close(): Promise<void>;
}

const EMPTY_STATS = (): FakeIntercomStats => ({
  accepted: 0,
  duplicates: 0,
  rateLimited: 0,
  rateLimitedByWindow: {},
  byStatus: {},
  requests: 0,
  metadataKeysDropped: 0,
  requestsByWindow: {},
  intercomVersions: {},
});

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
function injectedError(status: number): { code: string; message: string } {
  const known = INJECTED_ERRORS[status];
  if (known) return { code: known[0], message: known[1] };
  return status >= 500
    ? { code: "server_error", message: `Injected server error ${status}` }
    : { code: "client_error", message: `Injected client error ${status}` };
}

function errorList(code: string, message: string): string {
  return JSON.stringify({ type: "error.list", request_id: randomUUID(), errors: [{ code, message }] });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Starts a local stand-in for Intercom's `POST /events`, `GET /events` and `GET /me` (facts §2): bearer-token check,
 * `error.list`
 * errors, the 10-key metadata rule, dedupe on (contact, name, `created_at`), `X-RateLimit-*` windows with 429
 * `rate_limit_exceeded`, and injectable 5xx and slow answers. Control endpoints: `GET /_fake/stats`,
 * `GET /_fake/events`, `POST /_fake/control` (a {@link FakeIntercomFaults} body), `POST /_fake/reset`. It also serves
 * `GET /me` and the conversations, contacts and tickets search endpoints over a seeded workspace (see
 * `reconcile/fake-workspace.ts`: `POST /_fake/items/<resource>`, `POST /_fake/search-control`).
 * @example
 * const fake = await startFakeIntercom({ token: "t", limitPerWindow: 500, windowMs: 2_000 });
 * // … point INTERCOM_API_BASE_URL at fake.url …
 * await fake.close();
 */
export async function startFakeIntercom(options: FakeIntercomOptions = {}): Promise<FakeIntercom> {
  const limit = options.limitPerWindow ?? 1666;
  const windowMs = options.windowMs ?? 10_000;
  const maxEventNames = options.maxEventNames ?? 120;
  const contactExists =
    options.contactExists ??
    ((c: { user_id?: string; id?: string; email?: string }) =>
      ![c.user_id, c.id, c.email].some((v) => v?.startsWith("missing")));
  let token = options.token ?? "test-token";
  let faults: Required<Omit<FakeIntercomFaults, "token">> = { failNext: 0, failStatus: 500, failRate: 0, delayMs: 0 };
  let stats = EMPTY_STATS();
  let stored: FakeStoredEvent[] = [];
  let keys = new Set<string>();
  let names = new Set<string>();
  let windowStart = 0;
  let windowCount = 0;
  const workspace = createFakeWorkspace({
    ...(options.appId !== undefined ? { appId: options.appId } : {}),
    ...(options.timezone !== undefined ? { timezone: options.timezone } : {}),
  });

  const count = (status: number): void => {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  };
  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
    count(status);
    const write = (): void => {
      if (res.destroyed) return;
      res.writeHead(status, { ...(body ? { "content-type": "application/json" } : {}), ...headers });
      res.end(body);
    };
    // A slow answer: the request is processed at once (as a slow Intercom may have done) and answered late.
    if (faults.delayMs > 0 && !(res.req.url ?? "").startsWith("/_fake/")) setTimeout(write, faults.delayMs);
    else write();
  };

  /**
   * The bearer-token check and the rate-limit window every API request goes through. Returns the `X-RateLimit-*`
   * headers to answer with, or null when it already answered (401, 406, 429).
   */
  const admit = (req: IncomingMessage, res: ServerResponse): Record<string, string> | null => {
    const auth = req.headers.authorization;
    const given = typeof auth === "string" ? /^Bearer\s+(\S+)$/i.exec(auth)?.[1] : undefined;
    if (given === undefined || !tokensEqual(given, token)) {
      // No rate-limit headers without valid credentials (facts §2.6).
      if (req.method === "POST" && (req.url ?? "").startsWith("/events")) stats.requests++;
      send(res, 401, errorList("unauthorized", "Access Token Invalid"));
      return null;
    }
    const now = Date.now();
    const ws = Math.floor(now / windowMs) * windowMs;
    if (ws !== windowStart) {
      windowStart = ws;
      windowCount = 0;
    }
    windowCount++;
    const rl = {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - windowCount)),
      // Unix seconds as Intercom sends; fractional only when a test window is not whole seconds.
      "x-ratelimit-reset": String((ws + windowMs) / 1000),
    };
    if (req.method === "POST" && (req.url ?? "").startsWith("/events")) {
      stats.requests++;
      stats.requestsByWindow[ws] = (stats.requestsByWindow[ws] ?? 0) + 1;
      const version = typeof req.headers["intercom-version"] === "string" ? req.headers["intercom-version"] : "(none)";
      stats.intercomVersions[version] = (stats.intercomVersions[version] ?? 0) + 1;
    }
    // A missing or incompatible Accept header can produce 406 (facts §2.1).
    const accept = req.headers.accept;
    if (typeof accept === "string" && !/application\/json|\*\/\*/.test(accept)) {
      send(res, 406, errorList("unsupported", "Accept must allow application/json"), rl);
      return null;
    }
    if (windowCount > limit) {
      stats.rateLimited++;
      stats.rateLimitedByWindow[ws] = (stats.rateLimitedByWindow[ws] ?? 0) + 1;
      send(
        res,
        429,
        errorList("rate_limit_exceeded", `Exceeded rate limit of ${limit} in ${windowMs / 1000}_seconds`),
        rl,
      );
      return null;
    }
    return rl;
  };

  const handleEvents = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const rl = admit(req, res);
    if (rl === null) return;
    const now = Date.now();
    const ws = Math.floor(now / windowMs) * windowMs;
    if (req.method === "GET") {
      if (url.searchParams.get("type") !== "user")
        return send(res, 400, errorList("parameter_invalid", "type must be user"), rl);
      const uid = url.searchParams.get("user_id");
      const email = url.searchParams.get("email");
      const iid = url.searchParams.get("intercom_user_id");
      if (uid === null && email === null && iid === null)
        return send(res, 400, errorList("parameter_not_found", "user_id, email or intercom_user_id required"), rl);
      const list = stored
        .filter(
          (e) =>
            (uid !== null && e.user_id === uid) ||
            (email !== null && e.email === email) ||
            (iid !== null && e.id === iid),
        )
        .map(({ receivedAtMs: _r, ...e }) => ({ type: "event", ...e }));
      return send(
        res,
        200,
        JSON.stringify({ type: "event.list", events: list, pages: { next: null, since: null } }),
        rl,
      );
    }

    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return send(res, 400, errorList("parameter_invalid", "Request body is not valid JSON"), rl);
    }
    if (faults.failNext > 0 || (faults.failRate > 0 && Math.random() < faults.failRate)) {
      if (faults.failNext > 0) faults.failNext--;
      if (faults.failStatus === 429) {
        stats.rateLimited++;
        stats.rateLimitedByWindow[ws] = (stats.rateLimitedByWindow[ws] ?? 0) + 1;
      }
      const injected = injectedError(faults.failStatus);
      return send(res, faults.failStatus, errorList(injected.code, injected.message), rl);
    }
    const e = body as Partial<FakeStoredEvent> | null;
    if (typeof e !== "object" || e === null || typeof e.event_name !== "string" || e.event_name === "") {
      return send(res, 400, errorList("parameter_not_found", "event_name not specified"), rl);
    }
    if (typeof e.created_at !== "number")
      return send(res, 400, errorList("parameter_not_found", "created_at not specified"), rl);
    const ident =
      typeof e.user_id === "string"
        ? `u:${e.user_id}`
        : typeof e.id === "string"
          ? `i:${e.id}`
          : typeof e.email === "string"
            ? `e:${e.email}`
            : null;
    if (ident === null) return send(res, 400, errorList("parameter_not_found", "user_id, id or email required"), rl);
    let metadata: Record<string, unknown> | undefined;
    if (e.metadata !== undefined) {
      if (typeof e.metadata !== "object" || e.metadata === null || Array.isArray(e.metadata)) {
        return send(res, 400, errorList("parameter_invalid", "Invalid metadata"), rl);
      }
      const entries = Object.entries(e.metadata);
      for (const [, v] of entries) {
        const ok =
          typeof v === "string" ||
          typeof v === "number" ||
          (typeof v === "object" &&
            v !== null &&
            !Array.isArray(v) &&
            ["amount,currency", "url,value"].includes(Object.keys(v).sort().join(",")));
        if (!ok) return send(res, 400, errorList("parameter_invalid", "Invalid metadata"), rl);
      }
      // Intercom keeps the first 10 keys and silently ignores the rest (facts §2.3).
      stats.metadataKeysDropped += Math.max(0, entries.length - 10);
      metadata = Object.fromEntries(entries.slice(0, 10));
    }
    const c: { user_id?: string; id?: string; email?: string } = {};
    if (typeof e.user_id === "string") c.user_id = e.user_id;
    if (typeof e.id === "string") c.id = e.id;
    if (typeof e.email === "string") c.email = e.email;
    if (!contactExists(c)) return send(res, 404, errorList("not_found", "User Not Found"), rl);
    const name = e.event_name.toLowerCase().replace(/[.$]/g, "-");
    if (!names.has(name) && names.size >= maxEventNames) {
      return send(res, 422, errorList("422", `Cannot have more than ${maxEventNames} active event names`), rl);
    }
    const key = `${ident}\u0000${name}\u0000${e.created_at}`;
    if (keys.has(key)) {
      stats.duplicates++;
      return send(res, 202, "", rl);
    }
    keys.add(key);
    names.add(name);
    stats.accepted++;
    stored.push({
      ...c,
      event_name: e.event_name,
      created_at: e.created_at,
      ...(metadata ? { metadata } : {}),
      receivedAtMs: now,
    });
    return send(res, 202, "", rl);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const run = async (): Promise<void> => {
      if (url.pathname.startsWith("/_fake/")) {
        const controlBody = req.method === "GET" ? "" : await readBody(req);
        const control = workspace.control(req.method, url.pathname, controlBody);
        if (control) return send(res, control.status, control.body);
        if (url.pathname === "/_fake/stats") return send(res, 200, JSON.stringify(stats));
        if (url.pathname === "/_fake/events") return send(res, 200, JSON.stringify(stored));
        if (url.pathname === "/_fake/reset" && req.method === "POST") {
          fake.reset();
          return send(res, 204, "");
        }
        if (url.pathname === "/_fake/control" && req.method === "POST") {
          try {
            fake.setFaults(JSON.parse(controlBody) as FakeIntercomFaults);
          } catch {
            return send(res, 400, errorList("parameter_invalid", "control body must be JSON"));
          }
          return send(res, 200, JSON.stringify({ ...faults, limitPerWindow: limit, windowMs }));
        }
        return send(res, 404, errorList("not_found", "Unknown control endpoint"));
      }
      if (url.pathname === "/events" && (req.method === "POST" || req.method === "GET"))
        return handleEvents(req, res, url);
      if (isWorkspacePath(req.method, url.pathname)) {
        const rl = admit(req, res);
        if (rl === null) return;
        const answer = workspace.answer(url.pathname, req.method === "POST" ? await readBody(req) : "");
        return send(res, answer.status, answer.body, rl);
      }
      return send(res, 404, errorList("not_found", "Resource Not Found"));
    };
    run().catch(() => {
      if (!res.headersSent) send(res, 500, errorList("server_error", "fake-intercom failed"));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const fake: FakeIntercom = {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    port,
    stats: () => structuredClone(stats),
    events: () => stored.slice(),
    workspace,
    setFaults(f) {
      if (f.token !== undefined) token = f.token;
      faults = {
        failNext: f.failNext ?? faults.failNext,
        failStatus: f.failStatus ?? faults.failStatus,
        failRate: f.failRate ?? faults.failRate,
        delayMs: f.delayMs ?? faults.delayMs,
      };
    },
    reset() {
      stats = EMPTY_STATS();
      stored = [];
      keys = new Set();
      names = new Set();
      faults = { failNext: 0, failStatus: 500, failRate: 0, delayMs: 0 };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
