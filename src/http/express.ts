/**
 * The Express adapter (`intercom-bridge/express`, Express 4 and 5): the Node request hooks (`node-io.ts`) with
 * Express's mount-relative path and a clearer message for the most common mistake, `express.json()` mounted first.
 * Imports `core/` and this folder only; Express comes in as types.
 */
import type { ServerResponse } from "node:http";
import type { NextFunction, Request, Response } from "express";
import { createLogger, type Logger } from "../core/logger.js";
import type { Receiver } from "../core/receiver.js";
import type { WebhookResponse } from "./handle-webhook.js";
import { NODE_REQUEST_HOOKS, send, type NodeRequest } from "./node-io.js";
import { createRequestFlow } from "./request-flow.js";

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
  const flow = createRequestFlow<NodeRequest, ServerResponse, void>({
    ...NODE_REQUEST_HOOKS,
    rawBodyUnavailableMessage: EXPRESS_RAW_BODY_MESSAGE,
    send(res, r) {
      if (r.code === "IB_ERR_RAW_BODY_UNAVAILABLE" && !hasWarned) {
        hasWarned = true;
        log.error({ code: "IB_ERR_RAW_BODY_UNAVAILABLE", path }, EXPRESS_RAW_BODY_MESSAGE);
      }
      send(res, r);
    },
  });
  return async (req, res, next) => {
    // `req.path` is relative to a mount point (app.use("/hooks", mw)); `originalUrl` would not be.
    if (req.path !== path) {
      next();
      return;
    }
    await flow(receiver, req, res as ServerResponse);
  };
}

const expressResponseFlow = createRequestFlow<NodeRequest, void, WebhookResponse & { rawBodyUnavailable: boolean }>({
  ...NODE_REQUEST_HOOKS,
  rawBodyUnavailableMessage: EXPRESS_RAW_BODY_MESSAGE,
  send: (_res, r) => ({ ...r, rawBodyUnavailable: r.code === "IB_ERR_RAW_BODY_UNAVAILABLE" }),
});

/**
 * Reads the raw body (or finds the Buffer `express.raw()` left) and runs the shared request flow; reports a body
 * already parsed by another middleware with {@link EXPRESS_RAW_BODY_MESSAGE}.
 * @example
 * ```ts
 * app.post("/webhooks/intercom", async (req, res) => {
 *   const r = await handleExpressRequest(webhooks, req);
 *   res.status(r.status).set(r.headers).send(r.body);
 * });
 * ```
 */
export function handleExpressRequest(
  receiver: Receiver,
  req: NodeRequest,
): Promise<WebhookResponse & { rawBodyUnavailable: boolean }> {
  return expressResponseFlow(receiver, req, undefined);
}
