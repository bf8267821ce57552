/**
 * The outbound Data Events HTTP API of `serve` (`POST /api/events`, `GET /api/events`, `POST /api/events/:id/retry`),
 * behind the admin token, validating every event before anything is stored and answering in the API's error shape.
 * Reads and writes through the store's read and admin parts only.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { EVENT_STATE_FILTER_NAMES, EVENT_STATE_NAMES } from "../outbound/event-states.js";
import { ConfigError, EventValidationError, type EventValidationIssue } from "../core/errors.js";
import { DEFAULT_PAGE_SIZE, parseFilter, type FilterParam } from "../dashboard/parse-filter.js";
import { bodyErrorCode, STATUS_BY_CODE, toErrorResponse } from "../http/status.js";
import { pathOf } from "../http/node-io.js";
import type { JobFilter, JobSummary } from "../delivery/types.js";
import type { StoreAdmin, StoreReader } from "../store/store.js";
import { failureReason } from "../outbound/bulk-import.js";
import type { EventTracker } from "../outbound/outbox.js";
import { checkEvent } from "../outbound/validate-event.js";
import { isAuthorizedAdmin } from "../dashboard/admin-auth.js";

/** Options of {@link registerEventsRoutes}. */
export interface EventsRoutesOptions {
  /** The outbox `POST /api/events` stores into. */
  tracker: EventTracker;
  /** `INTERCOM_BRIDGE_ADMIN_TOKEN`; every route requires `Authorization: Bearer <it>`. Empty: every request is refused. */
  adminToken: string;
  /** Enables `GET /api/events` and `POST /api/events/:id/retry` (dashboard). */
  store?: StoreReader & StoreAdmin;
  /** Largest array `POST /api/events` accepts. @defaultValue 1_000 */
  maxBatchEvents?: number;
  /**
   * More than 10 metadata keys: refuse the event (422), or accept it keeping the first 10 with a warning. Must match
   * the tracker's `metadataOverflow`. @defaultValue "error"
   */
  metadataOverflow?: "error" | "truncate";
  /** Metadata keys differing only in case: accept with a warning, or refuse (422). Must match the tracker's. @defaultValue "warn" */
  metadataKeyCase?: "warn" | "error";
}

const PRESENTED = EVENT_STATE_NAMES;
const LIST_PARAMS: readonly FilterParam[] = ["state", "topic", "since", "until", "limit", "cursor"];

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header("cache-control", "no-store").send(body);
}

function errorReply(
  reply: FastifyReply,
  code: "IB_ERR_UNAUTHORIZED" | "IB_ERR_NOT_FOUND" | "IB_ERR_CONFLICT" | "IB_ERR_BODY_INVALID" | "IB_ERR_QUERY_INVALID",
  message: string,
): FastifyReply {
  return send(reply, STATUS_BY_CODE[code], { error: { code, message } });
}

function present(j: JobSummary): Record<string, unknown> {
  return {
    id: j.id,
    recordId: j.recordId,
    state: PRESENTED[j.state],
    eventName: j.topic,
    contact: j.itemId,
    createdAt: j.createdAt,
    receivedAt: j.receivedAt,
    attempts: j.attempts,
    maxAttempts: j.maxAttempts,
    nextAttemptAt: j.runAt,
    reason: j.state === "dead" || j.state === "failed" ? failureReason(j) : null,
    lastError: j.lastError,
  };
}

/**
 * Outbound Data Events over HTTP, for `serve`:
 * - `POST /api/events`: one event or an array. Every event is validated first; any problem answers 422 with each
 *   problem per event index and stores nothing. Otherwise 202 with the stored ids (duplicates answer their first id).
 * - `GET /api/events?state=pending|sending|retrying|sent|failed&event_name=&since=&until=&limit=&cursor=` (with
 *   `store`); bad or unknown parameters answer 400 `IB_ERR_QUERY_INVALID` naming the parameter.
 * - `POST /api/events/:id/retry` (with `store`): a failed or sent event is sent again; 409 while pending or sending.
 *
 * All routes need `Authorization: Bearer $INTERCOM_BRIDGE_ADMIN_TOKEN` (401 otherwise).
 * @example
 * registerEventsRoutes(app, { tracker, adminToken: process.env.INTERCOM_BRIDGE_ADMIN_TOKEN!, store });
 */
export function registerEventsRoutes(app: FastifyInstance, options: EventsRoutesOptions): void {
  // A scope of their own: the token is checked before the body is read, and fastify's own body errors (malformed JSON,
  // wrong content type, too large) answer in this API's error shape without touching the app's other routes.
  void app.register((scope, _opts, done) => {
    defineEventsRoutes(scope, options);
    done();
  });
}

function defineEventsRoutes(app: FastifyInstance, options: EventsRoutesOptions): void {
  const { tracker, adminToken, store } = options;
  const maxBatch = options.maxBatchEvents ?? 1_000;

  app.addHook("onRequest", (req, reply, done) => {
    if (isAuthorizedAdmin(req.headers.authorization, adminToken)) return done();
    void errorReply(reply, "IB_ERR_UNAUTHORIZED", "Authorization: Bearer <admin token> required");
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    if (typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500) {
      const code = bodyErrorCode(err.statusCode);
      return send(reply, STATUS_BY_CODE[code], { error: { code, message: err.message } });
    }
    req.log.error({ err: { name: err.name, message: err.message } }, `${req.method} ${pathOf(req.url)} failed`);
    const { status, body } = toErrorResponse(err);
    return send(reply, status, body);
  });

  app.post("/api/events", async (req, reply) => {
    const body: unknown = req.body;
    const isBatch = Array.isArray(body);
    const inputs: unknown[] = isBatch ? body : [body];
    if (inputs.length === 0) return errorReply(reply, "IB_ERR_BODY_INVALID", "the array is empty");
    if (inputs.length > maxBatch)
      return errorReply(reply, "IB_ERR_BODY_INVALID", `at most ${maxBatch} events per request`);
    const now = Date.now();
    const invalid: { index: number; issues: EventValidationIssue[] }[] = [];
    inputs.forEach((e, index) => {
      const c = checkEvent(e, {
        nowMs: now,
        metadataOverflow: options.metadataOverflow ?? "error",
        metadataKeyCase: options.metadataKeyCase ?? "warn",
      });
      if (!c.ok) invalid.push({ index, issues: c.issues });
    });
    if (invalid.length > 0) {
      const err = new EventValidationError(
        invalid.flatMap((i) => i.issues.map((x) => ({ field: `[${i.index}].${x.field}`, message: x.message }))),
      );
      const { status } = toErrorResponse(err);
      return send(reply, status, {
        error: {
          code: err.code,
          message: `${invalid.length} of ${inputs.length} events are invalid; nothing was stored`,
          events: invalid,
        },
      });
    }
    try {
      const results = await tracker.trackMany(inputs);
      const items = results.map((r, index) => ({
        index,
        id: r.jobId ?? r.id,
        recordId: r.id,
        isDuplicate: r.isDuplicate,
        createdAt: r.event.created_at,
        ...(r.warnings.length > 0 ? { warnings: r.warnings } : {}),
      }));
      return send(reply, 202, isBatch ? { events: items } : items[0]);
    } catch (error) {
      const { status, body: errBody } = toErrorResponse(error);
      req.log.error(
        { err: error instanceof Error ? { name: error.name, message: error.message } : String(error) },
        "POST /api/events failed",
      );
      return send(reply, status, errBody);
    }
  });

  if (!store) return;

  app.get("/api/events", async (req, reply) => {
    // The dashboard's parser: unknown or repeated parameters and malformed values answer 400 naming the parameter.
    const parsed = parseFilter(req.query, LIST_PARAMS, {
      aliases: { event_name: "topic" },
      states: EVENT_STATE_FILTER_NAMES,
    });
    if (!parsed.ok) return errorReply(reply, "IB_ERR_QUERY_INVALID", parsed.message);
    const filter: JobFilter = {
      ...parsed.value.filter,
      queue: "outbox",
      limit: parsed.value.filter.limit ?? DEFAULT_PAGE_SIZE,
    };
    try {
      const page = await store.listJobs(filter);
      return send(reply, 200, { items: page.items.map(present), nextCursor: page.nextCursor });
    } catch (error) {
      // The store refuses a cursor it did not issue with a ConfigError: the client's mistake, not the service's.
      if (error instanceof ConfigError) return errorReply(reply, "IB_ERR_QUERY_INVALID", `cursor: ${error.message}`);
      const { status, body: errBody } = toErrorResponse(error);
      return send(reply, status, errBody);
    }
  });

  app.post("/api/events/:id/retry", async (req, reply) => {
    const { id } = req.params as { id: string };
    const job = await store.getJob(id);
    if (job?.queue !== "outbox") return errorReply(reply, "IB_ERR_NOT_FOUND", `no outbound event ${id}`);
    const r = await store.requeue(id);
    if (r === "not-found") return errorReply(reply, "IB_ERR_NOT_FOUND", `no outbound event ${id}`);
    if (r === "conflict")
      return errorReply(
        reply,
        "IB_ERR_CONFLICT",
        `event ${id} is ${PRESENTED[job.state]}; only sent or failed events can be retried`,
      );
    return send(reply, 202, { id, state: "pending" });
  });
}
