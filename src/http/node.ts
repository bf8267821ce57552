/**
 * The `node:http` adapter (`intercom-bridge/node`): maps an `IncomingMessage` / `ServerResponse` onto the shared
 * request flow. The request hooks (reading the raw body from a Node stream, writing the answer) live in
 * `node-io.ts`, which the Express adapter and `serve`'s hot path share. Imports `core/` and this folder only
 * (`node:http` types aside).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { IntercomBridgeError } from "../core/errors.js";
import type { Receiver } from "../core/receiver.js";
import { errorResponse, type WebhookResponse } from "./handle-webhook.js";
import { NODE_REQUEST_HOOKS, pathOf, send, type NodeRequest } from "./node-io.js";
import { createRequestFlow } from "./request-flow.js";

export { NODE_REQUEST_HOOKS, pathOf, readRawBody, send, type NodeRequest } from "./node-io.js";

/** Options of {@link createNodeMiddleware}. */
export interface NodeMiddlewareOptions {
  /** The webhook path; other paths call `next()` or answer 404. @defaultValue "/webhooks/intercom" */
  path?: string;
}

/** A `node:http` request listener that is also valid Express/Connect middleware. */
export type NodeMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (err?: unknown) => void,
) => Promise<void>;

const nodeFlow = createRequestFlow<NodeRequest, ServerResponse, void>({ ...NODE_REQUEST_HOOKS, send });
const nodeResponseFlow = createRequestFlow<NodeRequest, void, WebhookResponse>({
  ...NODE_REQUEST_HOOKS,
  send: (_res, r) => r,
});

/**
 * A `node:http` handler for Intercom webhooks; also Express middleware (calls `next()` when the path does not match).
 * @example
 * http.createServer(createNodeMiddleware(webhooks, { path: "/webhooks/intercom" })).listen(8080);
 */
export function createNodeMiddleware(receiver: Receiver, options: NodeMiddlewareOptions = {}): NodeMiddleware {
  const path = options.path ?? "/webhooks/intercom";
  return async (req, res, next) => {
    const pathname = pathOf(req.url);
    if (pathname !== path) {
      if (next) return next();
      return send(res, errorResponse(new IntercomBridgeError("IB_ERR_NOT_FOUND", `No route for ${pathname}`)));
    }
    return nodeFlow(receiver, req, res);
  };
}

/**
 * Runs the shared request flow over a Node request and returns the answer instead of writing it: reads the raw body
 * (stopping at `maxBodyBytes`); a body an earlier parser consumed is reported as unavailable.
 * @example
 * const r = await handleNodeRequest(webhooks, req);
 * res.writeHead(r.status, r.headers).end(r.body);
 */
export function handleNodeRequest(receiver: Receiver, req: NodeRequest): Promise<WebhookResponse> {
  return nodeResponseFlow(receiver, req, undefined);
}
