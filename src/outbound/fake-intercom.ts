/**
 * `fake-intercom`: a local stand-in for Intercom's REST API for development, tests and benches. This file is the
 * server: bearer-token check, `X-RateLimit-*` windows announced through `X-RateLimit-Reset` as Intercom does (429
 * `rate_limit_exceeded` past the budget), fault injection (errors, slow answers, answers lost after the request was
 * processed), control endpoints, and dispatch to route modules. The Data Events routes live in
 * `fake-intercom-events.ts`; other API areas plug in as extra route modules (`fake-intercom-api.ts`). Imports only
 * Node built-ins and its own modules.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash, timingSafeEqual } from "node:crypto";
import {
  emptyWorkspace,
  errorReply,
  injectedError,
  type FakeCounter,
  type FakeReply,
  type FakeRoute,
  type FakeRouteModule,
  type FakeStoredEvent,
  type FakeWorkspace,
} from "./fake-intercom-api.js";
import { dataEventsRoutes } from "./fake-intercom-events.js";
import {
  createFakeWorkspace as createSearchWorkspace,
  type FakeWorkspace as FakeSearchWorkspace,
} from "../reconcile/fake-workspace.js";

export type {
  FakeEventSummary,
  FakeReply,
  FakeRoute,
  FakeRouteContext,
  FakeRouteModule,
  FakeStoredEvent,
  FakeWorkspace,
} from "./fake-intercom-api.js";
export { errorReply, jsonReply } from "./fake-intercom-api.js";

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
  /**
   * Window length, ms. Windows start at `windowOffsetMs` past multiples of it since the epoch, and every answer
   * announces the end of the current one in `X-RateLimit-Reset` (unix seconds, as Intercom sends it).
   * @defaultValue 10_000
   */
  windowMs?: number;
  /** Where windows start within `windowMs`, ms (Intercom's windows need not sit on epoch multiples). @defaultValue 0 */
  windowOffsetMs?: number;
  /** Distinct event names accepted before 422 (facts §2.3). @defaultValue 120 */
  maxEventNames?: number;
  /**
   * Decides whether a contact exists; unknown contacts get 404 `not_found`.
   * @defaultValue identifiers starting with `missing` are unknown
   */
  contactExists?: (identifier: { user_id?: string; id?: string; email?: string }) => boolean;
  /**
   * More API areas to serve, behind the same token check, rate limit and fault injection, sharing the same workspace.
   * The Data Events module is always served. @defaultValue none
   */
  routes?: readonly FakeRouteModule[];
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
  /**
   * The next N requests to a fault-injectable route (`POST /events`) are processed (the event is recorded) and then
   * their connection is reset instead of answered, as on a volatile network where the 202 is lost. @defaultValue 0
   */
  loseAnswerNext?: number;
  /** Fraction (0–1) of those requests whose answer is lost that way, at random. @defaultValue 0 */
  loseAnswerRate?: number;
  /** Replace the accepted token (to simulate a revoked token). */
  token?: string;
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
  /** Requests processed whose answer was lost on purpose (`loseAnswerNext`, `loseAnswerRate`). */
  answersLost: number;
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
  /** Clears events, counters and faults (not the search workspace's items). */
  reset(): void;
  /**
   * The seeded conversations, contacts and tickets behind `GET /me` and the search endpoints (seed them with
   * `POST /_fake/items/<resource>` or `seedWorkspace`); searches share the token check and rate limit of `/events`.
   */
  readonly workspace: FakeSearchWorkspace;
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
  answersLost: 0,
});

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

type Faults = Required<Omit<FakeIntercomFaults, "token">>;
const NO_FAULTS: Faults = {
  failNext: 0,
  failStatus: 500,
  failRate: 0,
  delayMs: 0,
  loseAnswerNext: 0,
  loseAnswerRate: 0,
};

/**
 * `GET /me` (who the token belongs to: the token check `intercom-bridge doctor` makes, and the `app.id_code` that
 * `reconcile` reads) and the conversations, contacts and tickets search endpoints, over the seeded search workspace.
 */
function searchRoutes(ws: FakeSearchWorkspace): FakeRouteModule {
  const route = (method: "GET" | "POST", path: string): FakeRoute => ({
    method,
    path,
    handle: (ctx) => ws.answer(path, ctx.json === undefined ? "" : JSON.stringify(ctx.json)),
  });
  return {
    name: "workspace",
    routes: [
      route("GET", "/me"),
      route("POST", "/conversations/search"),
      route("POST", "/contacts/search"),
      route("POST", "/tickets/search"),
    ],
  };
}

/**
 * Starts a local stand-in for Intercom's REST API: the Data Events routes (`POST /events`, `GET /events` with and
 * without `summary=true`, `POST /events/summaries`; facts §2), `GET /me` (the token check `intercom-bridge doctor` makes), plus any
 * extra route modules, behind a bearer-token
 * check, `error.list` errors, `X-RateLimit-*` windows with 429 `rate_limit_exceeded`, and injectable errors, slow
 * answers and lost answers. Control endpoints: `GET /_fake/stats`, `GET /_fake/events`, `POST /_fake/control` (a
 * {@link FakeIntercomFaults} body), `POST /_fake/reset`.
 * @example
 * const fake = await startFakeIntercom({ token: "t", limitPerWindow: 500, windowMs: 2_000 });
 * // … point INTERCOM_API_BASE_URL at fake.url …
 * await fake.close();
 */
export async function startFakeIntercom(options: FakeIntercomOptions = {}): Promise<FakeIntercom> {
  const limit = options.limitPerWindow ?? 1666;
  const windowMs = options.windowMs ?? 10_000;
  const offsetMs = (((options.windowOffsetMs ?? 0) % windowMs) + windowMs) % windowMs;
  const contactExists =
    options.contactExists ??
    ((c: { user_id?: string; id?: string; email?: string }) =>
      ![c.user_id, c.id, c.email].some((v) => v?.startsWith("missing")));
  const searchWorkspace = createSearchWorkspace({
    ...(options.appId !== undefined ? { appId: options.appId } : {}),
    ...(options.timezone !== undefined ? { timezone: options.timezone } : {}),
  });
  const modules = [
    dataEventsRoutes({ maxEventNames: options.maxEventNames ?? 120, contactExists }),
    searchRoutes(searchWorkspace),
    ...(options.routes ?? []),
  ];
  const routes = new Map<string, FakeRoute>();
  for (const m of modules)
    for (const r of m.routes) {
      const key = `${r.method} ${r.path}`;
      if (routes.has(key)) throw new Error(`fake-intercom: route ${key} of module "${m.name}" is already served`);
      routes.set(key, r);
    }
  const paths = new Set([...routes.values()].map((r) => r.path));
  let token = options.token ?? "test-token";
  let faults: Faults = { ...NO_FAULTS };
  let stats = EMPTY_STATS();
  let workspace: FakeWorkspace = emptyWorkspace();
  let windowStart = 0;
  let windowCount = 0;

  const count = (status: number): void => {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  };
  const send = (res: ServerResponse, reply: FakeReply, headers: Record<string, string> = {}): void => {
    count(reply.status);
    const write = (): void => {
      if (res.destroyed) return;
      res.writeHead(reply.status, { ...(reply.body ? { "content-type": "application/json" } : {}), ...headers });
      res.end(reply.body);
    };
    // A slow answer: the request is processed at once (as a slow Intercom may have done) and answered late.
    if (faults.delayMs > 0 && !(res.req.url ?? "").startsWith("/_fake/")) setTimeout(write, faults.delayMs);
    else write();
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL, route: FakeRoute): Promise<void> => {
    const isEventPost = req.method === "POST" && url.pathname === "/events";
    const auth = req.headers.authorization;
    const given = typeof auth === "string" ? /^Bearer\s+(\S+)$/i.exec(auth)?.[1] : undefined;
    if (given === undefined || !tokensEqual(given, token)) {
      // No rate-limit headers without valid credentials (facts §2.6).
      if (isEventPost) stats.requests++;
      return send(res, errorReply(401, "unauthorized", "Access Token Invalid"));
    }
    const now = Date.now();
    const ws = now - ((now - offsetMs) % windowMs);
    if (ws !== windowStart) {
      windowStart = ws;
      windowCount = 0;
    }
    windowCount++;
    const rl = {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - windowCount)),
      // Unix seconds as Intercom sends; fractional only when a test window or offset is not whole seconds.
      "x-ratelimit-reset": String((ws + windowMs) / 1000),
    };
    if (isEventPost) {
      stats.requests++;
      stats.requestsByWindow[ws] = (stats.requestsByWindow[ws] ?? 0) + 1;
      const version = typeof req.headers["intercom-version"] === "string" ? req.headers["intercom-version"] : "(none)";
      stats.intercomVersions[version] = (stats.intercomVersions[version] ?? 0) + 1;
    }
    // A missing or incompatible Accept header can produce 406 (facts §2.1).
    const accept = req.headers.accept;
    if (typeof accept === "string" && !/application\/json|\*\/\*/.test(accept)) {
      return send(res, errorReply(406, "unsupported", "Accept must allow application/json"), rl);
    }
    if (windowCount > limit) {
      stats.rateLimited++;
      stats.rateLimitedByWindow[ws] = (stats.rateLimitedByWindow[ws] ?? 0) + 1;
      return send(
        res,
        errorReply(429, "rate_limit_exceeded", `Exceeded rate limit of ${limit} in ${windowMs / 1000}_seconds`),
        rl,
      );
    }
    let json: unknown;
    if (req.method === "POST" || req.method === "PUT") {
      try {
        json = JSON.parse(await readBody(req));
      } catch {
        return send(res, errorReply(400, "parameter_invalid", "Request body is not valid JSON"), rl);
      }
    }
    if (route.faultInjectable && (faults.failNext > 0 || (faults.failRate > 0 && Math.random() < faults.failRate))) {
      if (faults.failNext > 0) faults.failNext--;
      if (faults.failStatus === 429) {
        stats.rateLimited++;
        stats.rateLimitedByWindow[ws] = (stats.rateLimitedByWindow[ws] ?? 0) + 1;
      }
      return send(res, injectedError(faults.failStatus), rl);
    }
    const reply = await route.handle({
      req,
      url,
      json,
      nowMs: now,
      workspace,
      count: (counter: FakeCounter, by = 1) => {
        stats[counter] += by;
      },
    });
    const loseAnswer =
      route.faultInjectable &&
      reply.status < 300 &&
      (faults.loseAnswerNext > 0 || (faults.loseAnswerRate > 0 && Math.random() < faults.loseAnswerRate));
    if (loseAnswer) {
      // Processed, then the connection drops before any answer: the client cannot tell whether it worked.
      if (faults.loseAnswerNext > 0) faults.loseAnswerNext--;
      stats.answersLost++;
      req.socket.resetAndDestroy();
      return;
    }
    return send(res, reply, rl);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const run = async (): Promise<void> => {
      if (url.pathname.startsWith("/_fake/")) {
        const controlBody = req.method === "GET" ? "" : await readBody(req);
        const control = searchWorkspace.control(req.method, url.pathname, controlBody);
        if (control) return send(res, control);
        if (url.pathname === "/_fake/stats") return send(res, { status: 200, body: JSON.stringify(stats) });
        if (url.pathname === "/_fake/events") return send(res, { status: 200, body: JSON.stringify(workspace.events) });
        if (url.pathname === "/_fake/reset" && req.method === "POST") {
          fake.reset();
          return send(res, { status: 204, body: "" });
        }
        if (url.pathname === "/_fake/control" && req.method === "POST") {
          try {
            fake.setFaults(JSON.parse(controlBody) as FakeIntercomFaults);
          } catch {
            return send(res, errorReply(400, "parameter_invalid", "control body must be JSON"));
          }
          return send(res, {
            status: 200,
            body: JSON.stringify({ ...faults, limitPerWindow: limit, windowMs, windowOffsetMs: offsetMs }),
          });
        }
        return send(res, errorReply(404, "not_found", "Unknown control endpoint"));
      }
      const route = routes.get(`${req.method ?? "GET"} ${url.pathname}`);
      if (route !== undefined) return handleApi(req, res, url, route);
      // Intercom answers 404 for an unsupported method too (facts §2.4).
      return send(
        res,
        errorReply(404, "not_found", paths.has(url.pathname) ? "Unsupported method" : "Resource Not Found"),
      );
    };
    run().catch(() => {
      if (!res.headersSent) send(res, errorReply(500, "server_error", "fake-intercom failed"));
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
    events: () => workspace.events.slice(),
    workspace: searchWorkspace,
    setFaults(f) {
      if (f.token !== undefined) token = f.token;
      faults = {
        failNext: f.failNext ?? faults.failNext,
        failStatus: f.failStatus ?? faults.failStatus,
        failRate: f.failRate ?? faults.failRate,
        delayMs: f.delayMs ?? faults.delayMs,
        loseAnswerNext: f.loseAnswerNext ?? faults.loseAnswerNext,
        loseAnswerRate: f.loseAnswerRate ?? faults.loseAnswerRate,
      };
    },
    reset() {
      stats = EMPTY_STATS();
      workspace = emptyWorkspace();
      faults = { ...NO_FAULTS };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
