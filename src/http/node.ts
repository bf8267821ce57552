/**
 * The `node:http` adapter (`intercom-bridge/node`): maps an `IncomingMessage` / `ServerResponse` onto the shared
 * request flow, and reads a raw body from a Node stream. Also the base of the Express adapter and of `serve`'s hot
 * path. Imports `core/` and this folder only (`node:http` types aside).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { IntercomBridgeError } from "../core/errors.js";
import type { Receiver } from "../core/receiver.js";
import { bodyTooLargeError, clientAbortedError, errorResponse, type WebhookResponse } from "./handle-webhook.js";
import { createRequestFlow, type RequestFlowHooks } from "./request-flow.js";

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

/** A Node request, possibly with a body an earlier middleware left (`express.raw()` leaves a Buffer). */
export type NodeRequest = IncomingMessage & { body?: unknown; rawBody?: unknown };

/**
 * The request side of the Node adapter's flow hooks: method, headers and the raw body of an `IncomingMessage`. The
 * Express adapter and `serve` reuse them with their own `send`.
 */
export const NODE_REQUEST_HOOKS: Pick<
  RequestFlowHooks<NodeRequest, unknown, unknown>,
  "method" | "headers" | "payload"
> = Object.freeze({
  method: (req: NodeRequest) => req.method ?? "GET",
  headers: (req: NodeRequest) => req.headers,
  payload: readRawBody,
});

const nodeFlow = createRequestFlow<NodeRequest, ServerResponse, void>({ ...NODE_REQUEST_HOOKS, send });
const nodeResponseFlow = createRequestFlow<NodeRequest, void, WebhookResponse>({
  ...NODE_REQUEST_HOOKS,
  send: (_res, r) => r,
});

/** The path of a request URL, without its query string. */
export function pathOf(url: string | undefined): string {
  const u = url ?? "/";
  const q = u.indexOf("?");
  return q === -1 ? u : u.slice(0, q);
}

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

/**
 * Resolves the exact request bytes, or undefined when an earlier body parser consumed the stream and left no raw
 * buffer. Rejects with `IB_ERR_BODY_TOO_LARGE` as soon as `maxBytes` is passed, without buffering the rest, and with
 * `IB_ERR_CLIENT_ABORTED` when the client closes the connection before the body ended.
 */
export function readRawBody(req: NodeRequest, maxBytes: number): Promise<Buffer | undefined> {
  if (Buffer.isBuffer(req.rawBody)) return Promise.resolve(req.rawBody);
  if (Buffer.isBuffer(req.body)) return Promise.resolve(req.body);
  // Whether the bytes are gone is a property of the stream, not of `req.body`: Express 4's parsers set `req.body = {}`
  // on requests they skip (express.urlencoded() in front of a JSON webhook) without reading anything.
  if (req.readableEnded || (req as { _body?: unknown })._body === true) {
    // express.json() or similar ran first: the bytes Intercom signed are gone.
    return Promise.resolve(undefined);
  }
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.reject(bodyTooLargeError(declared, maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off("data", onData);
        req.resume();
        reject(bodyTooLargeError(null, maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    // A client that goes away mid-body is its own doing, not a server fault: never a 500. Node reports it as an
    // "aborted" error (ECONNRESET), or only as "close" before "end"; both settle the read.
    req.once("error", (err) => reject(clientAbortedError(err)));
    req.once("close", () => {
      if (!req.complete) reject(clientAbortedError());
    });
  });
}

/**
 * Writes a framework-neutral response. A request answered before its body was read (refused up front, or too large)
 * also gets `Connection: close`: the client learns not to send the rest, and the connection is not kept for it.
 */
export function send(res: ServerResponse, r: WebhookResponse): void {
  if (res.req?.complete === false) res.setHeader("connection", "close");
  res.setHeader("content-length", Buffer.byteLength(r.body));
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}
