import type { IncomingMessage, ServerResponse } from "node:http";
import type { NextFunction, Request, Response } from "express";
import { IntercomBridgeError } from "../core/errors.js";
import { createLogger, type Logger } from "../core/logger.js";
import type { Receiver } from "../core/receiver.js";
import { errorResponse, handleWebhook, type WebhookResponse } from "./handle-webhook.js";
import { readRawBody, send } from "./node.js";

/** Options of {@link createExpressMiddleware}. */
export interface ExpressMiddlewareOptions {
  /** The webhook path; requests to other paths go to `next()`. @defaultValue "/webhooks/intercom" */
  path?: string;
  /**
   * Where the "a body parser ate the raw body" misconfiguration is reported (once, at `error` level).
   * @defaultValue `console`
   */
  log?: Partial<Logger>;
}

/** Express middleware for Intercom webhooks. Structurally also a `node:http` handler plus `next`. */
export type ExpressMiddleware = (req: Request, res: Response, next: NextFunction) => Promise<void>;

/**
 * What the Express adapter answers (500, `IB_ERR_RAW_BODY_UNAVAILABLE`) when `express.json()` or another body parser
 * already consumed the request: the signature is over the exact bytes Intercom sent, and they are gone.
 */
export const EXPRESS_RAW_BODY_MESSAGE =
  "express.json() (or another body parser) consumed the request body before intercom-bridge could read the raw bytes, " +
  "so the X-Hub-Signature cannot be verified. Fix: mount the intercom-bridge middleware before app.use(express.json()), " +
  'or give the webhook route the raw bytes with express.raw({ type: "application/json" }).';

/**
 * Express (4 and 5) middleware for Intercom webhooks: answers on `path` and calls `next()` for every other path.
 * Responses come from the shared handler and status table, so they are the same as every other adapter's.
 *
 * It needs the raw request bytes. Mount it **before** `express.json()`, or put
 * `express.raw({ type: "application/json" })` in front of it. When a parser already consumed the body, it answers
 * 500 `IB_ERR_RAW_BODY_UNAVAILABLE` with a message that says so ({@link EXPRESS_RAW_BODY_MESSAGE}) and logs it once.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { createIntercomWebhooks } from "intercom-bridge";
 * import { createExpressMiddleware } from "intercom-bridge/express";
 *
 * const webhooks = createIntercomWebhooks({ secret: process.env.INTERCOM_CLIENT_SECRET! });
 * const app = express();
 * app.use(createExpressMiddleware(webhooks, { path: "/webhooks/intercom" })); // before express.json()
 * app.use(express.json());
 * ```
 */
export function createExpressMiddleware(receiver: Receiver, options: ExpressMiddlewareOptions = {}): ExpressMiddleware {
  const path = options.path ?? "/webhooks/intercom";
  const log = createLogger(options.log ?? console);
  let hasWarned = false;
  return async (req, res, next) => {
    // `req.path` is relative to a mount point (app.use("/hooks", mw)); `originalUrl` would not be.
    if (req.path !== path) {
      next();
      return;
    }
    const r = await handleExpressRequest(receiver, req);
    if (r.rawBodyUnavailable && !hasWarned) {
      hasWarned = true;
      log.error({ code: "IB_ERR_RAW_BODY_UNAVAILABLE", path }, EXPRESS_RAW_BODY_MESSAGE);
    }
    send(res as ServerResponse, r);
  };
}

/**
 * Reads the raw body (or finds the Buffer `express.raw()` left) and runs the shared handler; reports a body already
 * parsed by another middleware with {@link EXPRESS_RAW_BODY_MESSAGE}.
 * @example
 * ```ts
 * app.post("/webhooks/intercom", async (req, res) => {
 *   const r = await handleExpressRequest(webhooks, req);
 *   res.status(r.status).set(r.headers).send(r.body);
 * });
 * ```
 */
export async function handleExpressRequest(
  receiver: Receiver,
  req: IncomingMessage & { body?: unknown; rawBody?: unknown },
): Promise<WebhookResponse & { rawBodyUnavailable: boolean }> {
  const method = req.method ?? "GET";
  let body: Buffer | undefined;
  if (method === "POST") {
    try {
      body = await readRawBody(req, receiver.settings.maxBodyBytes);
    } catch (error) {
      return { ...errorResponse(error), rawBodyUnavailable: false };
    }
  } else {
    body = Buffer.alloc(0);
  }
  // With no body, handleWebhook still answers 405/415 first and never calls receive().
  const r = await handleWebhook(receiver, { method, headers: req.headers, body });
  if (body === undefined && errorCodeOf(r) === "IB_ERR_RAW_BODY_UNAVAILABLE") {
    const error = new IntercomBridgeError("IB_ERR_RAW_BODY_UNAVAILABLE", EXPRESS_RAW_BODY_MESSAGE);
    return { ...errorResponse(error), rawBodyUnavailable: true };
  }
  return { ...r, rawBodyUnavailable: false };
}

/** The `error.code` of a JSON error response, if it is one. */
function errorCodeOf(r: WebhookResponse): string | undefined {
  if (r.status < 400 || r.body === "") return undefined;
  return (JSON.parse(r.body) as { error?: { code?: string } }).error?.code;
}
