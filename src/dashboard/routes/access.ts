/**
 * What every dashboard API request goes through: the admin-token check (and `Cache-Control: no-store`), the error
 * handler that turns thrown errors into the API's error body, `GET /api/session` for the sign-in form, and the 404 of
 * unknown `/api/` paths (after the token check, so they reveal nothing without it). Imports no store implementation.
 */
import type { FastifyInstance } from "fastify";
import { ConfigError, IntercomBridgeError } from "../../core/errors.js";
import { bodyErrorCode, STATUS_BY_CODE, toErrorResponse } from "../../http/status.js";
import { isAuthorizedAdmin } from "../admin-auth.js";
import { errorBody, sendError, type ApiContext } from "./context.js";

/** Registers the token hook, the error handler, `GET /api/session` and the unknown-path answer on `api`. */
export function registerAccessRoutes(api: FastifyInstance, { store, options, log }: ApiContext): void {
  const { adminToken } = options;
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

  api.get("/api/session", (_req, reply) => reply.send({ authenticated: true, store: store.kind }));

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
}
