import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { ServerResponse } from "node:http";
import { ConfigError, IntercomBridgeError, type ErrorCode } from "../core/errors.js";
import { bodyErrorCode, STATUS_BY_CODE, toErrorResponse, type ErrorBody } from "../http/status.js";
import { createLogger, type Logger } from "../core/logger.js";
import type { JobFilter, JobState, QueueName } from "../queue/types.js";
import { isAuthorizedAdmin } from "../service/admin-auth.js";
import type { Store } from "../store/store.js";
import type { RetentionStatus } from "../store/retention.js";
import { createLiveFeed, type LiveFeed, type ReceivedEventSource } from "./live-feed.js";
import { DEFAULT_PAGE_SIZE, parseFilter, type FilterParam, type ParsedFilter } from "./parse-filter.js";
import {
  presentDelivery,
  presentDeliveryDetail,
  presentNotification,
  isPauseWait,
  lastIntercomError,
  presentOutbound,
  presentRecordDetail,
} from "./present.js";
import { EVENT_STATE_FILTER_NAMES } from "../outbound/event-states.js";
import { DEFAULT_ASSETS_DIR, loadStaticAssets, type StaticAsset } from "./static-assets.js";

/**
 * What the outbound side reports for the overview; the outbox's `EventTracker.status()` satisfies it. Every field is
 * optional: the overview shows what it gets and passes the whole object through as `outbound.status`.
 */
export interface OutboundStatus {
  /**
   * `sending`, or why nothing is sent (`paused-rate-limited`, `paused-unauthorized`, `paused`). The overview reports
   * `off` when no status source is given at all.
   */
  state?: string;
  /** Requests allowed per window (from `X-RateLimit-Limit` once seen, else the configured budget). */
  perWindow?: number;
  /** Window length, ms (Intercom: 10 000, facts §2.6). */
  windowMs?: number;
}

/** Options of {@link registerDashboard}. */
export interface DashboardOptions {
  /** The store to read and requeue through (memory, SQLite or Redis). */
  store: Store;
  /** The bearer token every `/api/` request must carry; compared in constant time. Must not be empty. */
  adminToken: string;
  /** Where warnings go (a failed stream poll, missing assets); `serve` passes fastify's pino. @defaultValue silent */
  log?: Partial<Logger>;
  /**
   * Source of `"received"` notices pushed to `GET /api/stream`. Without it the stream polls the store once per
   * `streamPollMs` while a browser is connected.
   */
  events?: ReceivedEventSource;
  /**
   * Poll the store for new notifications even when `events` is given, so a browser connected to this process also
   * sees what other processes on the same store received (several `serve` instances on one Redis prefix or one SQLite
   * file). Records seen both ways are sent once.
   * @defaultValue true unless the store is the in-process memory store (`store.kind === "memory"`)
   */
  streamPollsStore?: boolean;
  /** Outbound rate budget and pause details for the overview. */
  outboundStatus?: () => Promise<OutboundStatus>;
  /** The retention the service applies and what it purged, for the overview (`serve` passes its own). */
  retention?: () => RetentionStatus;
  /** Name of the store limiter the outbox uses. @defaultValue "intercom-events" */
  limiterName?: string;
  /** Poll interval of the stream (without `events`, or with `streamPollsStore`), ms. @defaultValue 1_000 */
  streamPollMs?: number;
  /** Interval of `: keep-alive` comments on the stream, ms (proxies close idle connections). @defaultValue 15_000 */
  streamHeartbeatMs?: number;
  /** How long one overview answer is reused for every caller, ms; 0 disables. @defaultValue 5_000 */
  overviewCacheMs?: number;
  /** Folder of index.html, app.js, app.css. @defaultValue the `assets/` folder next to this module */
  assetsDir?: URL | string;
  /** Epoch ms; inject for tests. @defaultValue Date.now */
  now?: () => number;
}

const LIST_PARAMS: readonly FilterParam[] = [
  "state",
  "topic",
  "since",
  "until",
  "q",
  "notificationId",
  "itemId",
  "appId",
  "limit",
  "cursor",
];
const DEAD_FILTER_PARAMS: readonly FilterParam[] = [
  "queue",
  "topic",
  "target",
  "since",
  "until",
  "appId",
  "notificationId",
  "itemId",
];
const DEAD_LIST_PARAMS: readonly FilterParam[] = [...DEAD_FILTER_PARAMS, "limit", "cursor"];
const OUTBOUND_PARAMS: readonly FilterParam[] = ["state", "topic", "since", "until", "q", "limit", "cursor"];
const REPLAYABLE: readonly JobState[] = ["dead", "failed", "done"];
const ID_RE = /^[A-Za-z0-9_.~-]{1,200}$/;
const MINUTE_MS = 60_000;
// Intercom's rate-limit window (facts §2.6), for the budget when the outbound status does not say.
const DEFAULT_WINDOW_MS = 10_000;
const MAX_WINDOW_MINUTES = 24 * 60;

/**
 * The operator dashboard as a fastify plugin: the static single-page app under `/dashboard` and its JSON API under
 * `/api/` (documented in docs/dashboard-api.md). Every `/api/` route requires `Authorization: Bearer <adminToken>`;
 * the pages themselves hold no data and are public. Reads go through the {@link Store} contract only, with the
 * store's cursor pagination (no offsets, no count per page), so the tables stay fast with millions of records.
 *
 * @example
 * const app = fastify();
 * await registerDashboard(app, { store: createMemoryStore(), adminToken: process.env.INTERCOM_BRIDGE_ADMIN_TOKEN! });
 * await app.listen({ port: 8080 }); // open http://localhost:8080/dashboard
 */
export async function registerDashboard(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  await app.register(dashboardPlugin, options);
}

/** The plugin {@link registerDashboard} registers; use it with `app.register(dashboardPlugin, options)`. */
export const dashboardPlugin: FastifyPluginAsync<DashboardOptions> = async (app, options) => {
  if (typeof options.adminToken !== "string" || options.adminToken.length === 0) {
    throw new ConfigError("dashboard adminToken must be a non-empty string");
  }
  const log = createLogger(options.log);
  const assets = await loadStaticAssets(options.assetsDir ?? DEFAULT_ASSETS_DIR);
  if (!assets.has("index.html")) {
    log.warn(
      { assetsDir: String(options.assetsDir ?? DEFAULT_ASSETS_DIR) },
      "dashboard assets not found; GET /dashboard will answer 500",
    );
  }
  registerPages(app, assets);
  await app.register((api, _opts, done) => {
    registerApi(api, options, log);
    done();
  });
};

function registerPages(app: FastifyInstance, assets: Map<string, StaticAsset>): void {
  const send = (name: string, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const asset = assets.get(name);
    if (!asset) {
      if (name === "index.html") {
        return sendError(reply, "IB_ERR_CONFIG", "Dashboard assets are missing from this build; run `npm run build`");
      }
      return sendError(reply, "IB_ERR_NOT_FOUND", `No dashboard file named "${name}"`);
    }
    reply
      .header("content-type", asset.contentType)
      .header("etag", asset.etag)
      .header("cache-control", "no-cache")
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .header("x-frame-options", "DENY")
      // Everything is same-origin and there is no inline script or style; the API is called with fetch.
      .header(
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      );
    if (req.headers["if-none-match"] === asset.etag) return reply.code(304).send();
    return reply.send(asset.body);
  };
  // The page loads its files and the API by relative URLs (so a prefix in front of /dashboard works), which resolve
  // against the folder only with the trailing slash: send "/dashboard" there with a relative Location, which keeps
  // whatever prefix the browser saw.
  const page = (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const [path = "", query] = req.url.split("?", 2);
    if (path.endsWith("/") || !assets.has("index.html")) return send("index.html", req, reply);
    return reply.redirect(`dashboard/${query === undefined ? "" : `?${query}`}`, 308);
  };
  app.get("/dashboard", page);
  // With `ignoreTrailingSlash` the first route already answers "/dashboard/", and registering it again would throw.
  if (!app.hasRoute({ method: "GET", url: "/dashboard/" })) app.get("/dashboard/", page);
  app.get<{ Params: { file: string } }>("/dashboard/:file", (req, reply) => send(req.params.file, req, reply));
}

function registerApi(api: FastifyInstance, options: DashboardOptions, log: Logger): void {
  const { store, adminToken } = options;
  const now = options.now ?? Date.now;
  const limiterName = options.limiterName ?? "intercom-events";
  const heartbeatMs = options.streamHeartbeatMs ?? 15_000;
  const overviewCacheMs = options.overviewCacheMs ?? 5_000;
  const feed: LiveFeed = createLiveFeed({
    store,
    events: options.events,
    pollWithEvents: options.streamPollsStore ?? store.kind !== "memory",
    log,
    now,
    ...(options.streamPollMs !== undefined ? { pollMs: options.streamPollMs } : {}),
  });
  const streams = new Set<ServerResponse>();

  api.addHook("onRequest", (req, reply, done) => {
    // Answers carry notification payloads (names, emails): no browser or proxy may keep a copy.
    reply.header("cache-control", "no-store");
    if (isAuthorizedAdmin(req.headers.authorization, adminToken)) return done();
    reply.header("www-authenticate", 'Bearer realm="intercom-bridge"');
    sendError(reply, "IB_ERR_UNAUTHORIZED", "Missing or invalid admin token: send Authorization: Bearer <token>");
  });

  api.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    // The store checks what the request handed it (a forged cursor, an id): its ConfigError is the client's mistake.
    if (err instanceof ConfigError) return sendError(reply, "IB_ERR_QUERY_INVALID", err.message);
    if (err instanceof IntercomBridgeError) {
      if (STATUS_BY_CODE[err.code] >= 500) log.error({ err }, "dashboard API request failed");
      return sendError(reply, err.code, err.message);
    }
    // fastify's own client errors: malformed JSON body, unsupported content type, body too large.
    if (typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send(errorBody(bodyErrorCode(err.statusCode), err.message));
    }
    log.error({ err }, "dashboard API request failed");
    const { status, body } = toErrorResponse(err);
    return reply.code(status).send(body);
  });

  api.addHook("preClose", (done) => {
    feed.close();
    for (const res of streams) res.end();
    streams.clear();
    done();
  });

  api.get("/api/session", (_req, reply) => reply.send({ authenticated: true, store: store.kind }));

  // Shared by every open dashboard for `overviewCacheMs`: the histogram scans every record of the window, so N browsers
  // refreshing must not mean N scans (1M records in the window take seconds on SQLite).
  const overviewCache = new Map<number, { at: number; value: Promise<unknown> }>();
  const overview = (windowMinutes: number): Promise<unknown> => {
    const cached = overviewCache.get(windowMinutes);
    if (cached && now() - cached.at < overviewCacheMs) return cached.value;
    const value = buildOverview(windowMinutes);
    overviewCache.set(windowMinutes, { at: now(), value });
    value.catch(() => overviewCache.delete(windowMinutes));
    return value;
  };
  const buildOverview = async (windowMinutes: number) => {
    const at = now();
    const since = Math.floor((at - windowMinutes * MINUTE_MS) / MINUTE_MS) * MINUTE_MS;
    const [stats, buckets, limiter, status] = await Promise.all([
      store.stats(),
      store.receivedHistogram("inbound", since, MINUTE_MS),
      store.limiter(limiterName).state(),
      readOutboundStatus(options.outboundStatus, log),
    ]);
    const totals = new Map<string, number>();
    for (const b of buckets) totals.set(b.topic, (totals.get(b.topic) ?? 0) + b.count);
    const ageOf = (q: QueueName): number | null => {
      const due = stats.oldestDueAt[q];
      return due === null ? null : Math.max(0, at - due);
    };
    const out = stats.counts.outbox;
    const paused = limiter.pausedUntil !== null && limiter.pausedUntil > at;
    // The limiter keeps the last window's usage until the next request starts a new one: once that window is over,
    // nothing of the current window has been used yet.
    const windowMs = typeof status?.windowMs === "number" && status.windowMs > 0 ? status.windowMs : DEFAULT_WINDOW_MS;
    const isWindowOver = at - limiter.windowStart >= windowMs;
    return {
      now: at,
      counts: stats.counts,
      dead: { inbound: stats.counts.inbound.dead, outbox: out.dead, total: stats.counts.inbound.dead + out.dead },
      oldestPendingAgeMs: { inbound: ageOf("inbound"), outbox: ageOf("outbox") },
      received: {
        since,
        until: at,
        bucketMs: MINUTE_MS,
        topics: [...totals].sort((a, b) => b[1] - a[1]).map(([topic, total]) => ({ topic, total })),
        buckets,
      },
      outbound: {
        sent: out.done,
        failed: out.failed,
        dead: out.dead,
        pending: out.pending + out.running,
        paused,
        // No status source: this service sends nothing (serve without INTERCOM_ACCESS_TOKEN).
        state:
          typeof status?.state === "string"
            ? status.state
            : options.outboundStatus === undefined
              ? "off"
              : paused
                ? "paused"
                : "sending",
        pausedUntil: paused ? limiter.pausedUntil : null,
        pauseReason: paused ? limiter.pauseReason : null,
        budget: {
          used: isWindowOver ? 0 : limiter.used,
          // Every store aligns the limiter's windows to multiples of the window length since the epoch.
          windowStart: isWindowOver
            ? limiter.windowStart + Math.floor((at - limiter.windowStart) / windowMs) * windowMs
            : limiter.windowStart,
          maxPerWindow: typeof status?.perWindow === "number" ? status.perWindow : null,
          windowMs: typeof status?.windowMs === "number" ? status.windowMs : null,
        },
        status,
      },
      retention: options.retention ? options.retention() : null,
    };
  };

  api.get<{ Querystring: Record<string, unknown> }>("/api/overview", async (req, reply) => {
    const extra = Object.keys(req.query).filter((k) => k !== "windowMinutes");
    if (extra.length > 0)
      return sendError(reply, "IB_ERR_QUERY_INVALID", `Unknown parameter "${extra[0]}"; expected: windowMinutes`);
    const rawWindow = req.query["windowMinutes"];
    const windowMinutes = rawWindow === undefined ? 60 : Number(rawWindow);
    if (
      typeof rawWindow === "object" ||
      !Number.isInteger(windowMinutes) ||
      windowMinutes < 1 ||
      windowMinutes > MAX_WINDOW_MINUTES
    ) {
      return sendError(
        reply,
        "IB_ERR_QUERY_INVALID",
        `windowMinutes must be an integer from 1 to ${MAX_WINDOW_MINUTES}`,
      );
    }
    return overview(windowMinutes);
  });

  api.get<{ Querystring: Record<string, unknown> }>("/api/notifications", async (req, reply) => {
    const parsed = parseFilter(req.query, LIST_PARAMS);
    if (!parsed.ok) return sendError(reply, "IB_ERR_QUERY_INVALID", parsed.message);
    const result = await listNotifications(store, parsed.value);
    if ("error" in result) return sendError(reply, "IB_ERR_QUERY_INVALID", result.error);
    return result;
  });

  api.get<{ Params: { id: string } }>("/api/notifications/:id", async (req, reply) => {
    const detail = ID_RE.test(req.params.id) ? await store.getRecord(req.params.id) : undefined;
    if (!detail || detail.record.queue !== "inbound")
      return sendError(reply, "IB_ERR_NOT_FOUND", `No notification with id "${req.params.id}"`);
    return presentRecordDetail(detail);
  });

  api.post<{ Params: { id: string } }>("/api/notifications/:id/replay", async (req, reply) => {
    const detail = ID_RE.test(req.params.id) ? await store.getRecord(req.params.id) : undefined;
    if (!detail || detail.record.queue !== "inbound")
      return sendError(reply, "IB_ERR_NOT_FOUND", `No notification with id "${req.params.id}"`);
    if (detail.jobs.length === 0)
      return sendError(
        reply,
        "IB_ERR_CONFLICT",
        "This notification has no deliveries to replay (no handler matched its topic)",
      );
    if (!detail.jobs.some((j) => REPLAYABLE.includes(j.state))) {
      return sendError(
        reply,
        "IB_ERR_CONFLICT",
        "Every delivery of this notification is pending or running; replay it once they finish",
      );
    }
    const requeued = await store.requeueMany({
      queue: "inbound",
      recordId: detail.record.id,
      limit: detail.jobs.length,
    });
    return { requeued };
  });

  api.get<{ Params: { id: string } }>("/api/deliveries/:id", async (req, reply) => {
    const job = ID_RE.test(req.params.id) ? await store.getJob(req.params.id) : undefined;
    if (!job) return sendError(reply, "IB_ERR_NOT_FOUND", `No delivery with id "${req.params.id}"`);
    const { record, payload, rawBody, headers } = presentRecordDetail({ record: job.record, jobs: [] });
    return { ...presentDeliveryDetail(job), record, payload, rawBody, headers };
  });

  api.post<{ Params: { id: string } }>("/api/deliveries/:id/replay", async (req, reply) => {
    const id = req.params.id;
    const result = ID_RE.test(id) ? await store.requeue(id) : "not-found";
    switch (result) {
      case "not-found":
        return sendError(reply, "IB_ERR_NOT_FOUND", `No delivery with id "${id}"`);
      case "conflict": {
        const job = await store.getJob(id);
        return sendError(
          reply,
          "IB_ERR_CONFLICT",
          `Delivery "${id}" is ${job?.state ?? "in progress"}; only dead, failed or done deliveries can be replayed`,
        );
      }
      case "requeued": {
        const job = await store.getJob(id);
        return { status: "requeued", delivery: job ? presentDelivery(job) : null };
      }
    }
  });

  api.get<{ Querystring: Record<string, unknown> }>("/api/dead-letters", async (req, reply) => {
    const parsed = parseFilter(req.query, DEAD_LIST_PARAMS);
    if (!parsed.ok) return sendError(reply, "IB_ERR_QUERY_INVALID", parsed.message);
    const page = await store.listJobs({
      ...parsed.value.filter,
      state: "dead",
      limit: parsed.value.filter.limit ?? DEFAULT_PAGE_SIZE,
    });
    return { items: page.items.map(presentDelivery), nextCursor: page.nextCursor };
  });

  api.get<{ Querystring: Record<string, unknown> }>("/api/dead-letters/count", async (req, reply) => {
    const parsed = parseFilter(req.query, DEAD_FILTER_PARAMS);
    if (!parsed.ok) return sendError(reply, "IB_ERR_QUERY_INVALID", parsed.message);
    return { count: await store.countJobs({ ...parsed.value.filter, state: "dead" }) };
  });

  api.post<{ Body: unknown }>("/api/dead-letters/replay", async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body !== "object" || Array.isArray(body))
      return sendError(
        reply,
        "IB_ERR_BODY_INVALID",
        'Body must be a JSON object: { "filter": {…}, "expectedCount": N }',
      );
    const extra = Object.keys(body).filter((k) => k !== "filter" && k !== "expectedCount");
    if (extra.length > 0)
      return sendError(
        reply,
        "IB_ERR_BODY_INVALID",
        `Unknown body field "${extra[0]}"; expected: filter, expectedCount`,
      );
    const rawFilter = body["filter"] ?? {};
    if (typeof rawFilter !== "object" || rawFilter === null || Array.isArray(rawFilter)) {
      return sendError(
        reply,
        "IB_ERR_BODY_INVALID",
        "filter must be an object of the same fields GET /api/dead-letters/count takes",
      );
    }
    const parsed = parseFilter(rawFilter, DEAD_FILTER_PARAMS);
    if (!parsed.ok) return sendError(reply, "IB_ERR_BODY_INVALID", `filter: ${parsed.message}`);
    const expected = body["expectedCount"];
    const filter: JobFilter = { ...parsed.value.filter, state: "dead" };
    if (expected !== undefined) {
      if (typeof expected !== "number" || !Number.isInteger(expected) || expected < 0) {
        return sendError(reply, "IB_ERR_BODY_INVALID", "expectedCount must be an integer >= 0");
      }
      // The operator confirmed "Replay N deliveries?"; do not replay a different number than they agreed to.
      const count = await store.countJobs(filter);
      if (count !== expected) {
        return sendError(
          reply,
          "IB_ERR_CONFLICT",
          `The filter now selects ${count} dead deliveries, not ${expected}; check the count and confirm again`,
        );
      }
      if (expected === 0) return { requeued: 0 };
      // Dead letters arriving between the count and the requeue must not ride along: replay at most what was confirmed.
      filter.limit = expected;
    }
    return { requeued: await store.requeueMany(filter) };
  });

  api.get<{ Querystring: Record<string, unknown> }>("/api/outbound", async (req, reply) => {
    const parsed = parseFilter(req.query, OUTBOUND_PARAMS, { states: EVENT_STATE_FILTER_NAMES });
    if (!parsed.ok) return sendError(reply, "IB_ERR_QUERY_INVALID", parsed.message);
    const { filter, q } = parsed.value;
    const page = await store.listJobs({
      ...filter,
      queue: "outbox",
      ...(q !== undefined ? { itemId: q } : {}),
      limit: filter.limit ?? DEFAULT_PAGE_SIZE,
    });
    // An event that only waited for a paused outbox recorded the wait; the cause (a 401, a 429) is in its history.
    const items = await Promise.all(
      page.items.map(async (job) => {
        if (!job.lastError || !isPauseWait(job.lastError)) return presentOutbound(job);
        const detail = await store.getJob(job.id);
        return presentOutbound(job, detail ? lastIntercomError(detail.history) : undefined);
      }),
    );
    return { items, nextCursor: page.nextCursor };
  });

  // After the token check (the hook above), so unknown paths reveal nothing to a caller without it.
  api.all("/api/*", (req, reply) => {
    const path = req.url.split("?", 1)[0] ?? "";
    // serve registers the outbound events API only with an access token: say so rather than "no such endpoint".
    const hint =
      path === "/api/events" || path.startsWith("/api/events/")
        ? " (the outbound events API is off: set INTERCOM_ACCESS_TOKEN to send Data Events to Intercom)"
        : "";
    return sendError(reply, "IB_ERR_NOT_FOUND", `No API endpoint ${req.method} ${path}${hint}`);
  });

  api.get("/api/stream", (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store, no-transform",
      connection: "keep-alive",
      // nginx buffers responses unless told otherwise.
      "x-accel-buffering": "no",
    });
    res.write(`retry: 3000\nevent: ready\ndata: {"at":${now()}}\n\n`);
    streams.add(res);
    const unsubscribe = feed.subscribe((row) => {
      res.write(`event: received\nid: ${row.id}\ndata: ${JSON.stringify(row)}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), heartbeatMs);
    heartbeat.unref();
    req.raw.once("close", () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
      // Ending our side marks the connection idle, so server.close() does not wait for the client's keep-alive.
      if (!res.writableEnded) res.destroy();
    });
  });
}

type NotificationsResult =
  | {
      items: ReturnType<typeof presentNotification>[];
      nextCursor: string | null;
      match: "notificationId" | "itemId" | null;
    }
  | { error: string };

/**
 * One page of notifications. `q` is an exact notification id or item id: the notification id is tried first (it
 * selects at most a handful of records), then the item id. The mode is carried in the cursor (`n~` / `i~`) so later
 * pages keep searching the same field.
 */
async function listNotifications(store: Store, parsed: ParsedFilter): Promise<NotificationsResult> {
  const { q } = parsed;
  const base: JobFilter = { ...parsed.filter, queue: "inbound", limit: parsed.filter.limit ?? DEFAULT_PAGE_SIZE };
  if (q === undefined) {
    const page = await store.listRecords(base);
    return { items: page.items.map(presentNotification), nextCursor: page.nextCursor, match: null };
  }
  let mode: "n" | "i" | undefined;
  let cursor: string | undefined;
  if (base.cursor !== undefined) {
    const m = /^([ni])~(.+)$/.exec(base.cursor);
    if (!m) return { error: "cursor does not belong to this search; start again without a cursor" };
    mode = m[1] as "n" | "i";
    cursor = m[2];
  }
  const run = async (field: "n" | "i") => {
    const filter: JobFilter = { ...base, ...(field === "n" ? { notificationId: q } : { itemId: q }) };
    if (cursor !== undefined) filter.cursor = cursor;
    else delete filter.cursor;
    const page = await store.listRecords(filter);
    return {
      items: page.items.map(presentNotification),
      nextCursor: page.nextCursor === null ? null : `${field}~${page.nextCursor}`,
      match: field === "n" ? ("notificationId" as const) : ("itemId" as const),
    };
  };
  if (mode !== undefined) return run(mode);
  const byNotification = await run("n");
  if (byNotification.items.length > 0) return byNotification;
  const byItem = await run("i");
  // Neither field matched: say so, rather than "matched by item id" over an empty table.
  return byItem.items.length > 0 ? byItem : { ...byItem, match: null };
}

async function readOutboundStatus(
  source: DashboardOptions["outboundStatus"],
  log: Logger,
): Promise<OutboundStatus | null> {
  if (!source) return null;
  try {
    return await source();
  } catch (err) {
    log.warn({ err }, "dashboard could not read the outbound status");
    return null;
  }
}

function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

function sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  return reply.code(STATUS_BY_CODE[code]).send(errorBody(code, message));
}
