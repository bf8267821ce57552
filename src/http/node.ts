import type { IncomingMessage, ServerResponse } from "node:http";
import { IntercomBridgeError } from "../core/errors.js";
import type { Receiver } from "../core/receiver.js";
import { bodyTooLargeError, errorResponse, handleWebhook, type WebhookResponse } from "./handle-webhook.js";

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

/**
 * A `node:http` handler for Intercom webhooks; also Express middleware (calls `next()` when the path does not match).
 * @example
 * http.createServer(createNodeMiddleware(webhooks, { path: "/webhooks/intercom" })).listen(8080);
 */
export function createNodeMiddleware(receiver: Receiver, options: NodeMiddlewareOptions = {}): NodeMiddleware {
  const path = options.path ?? "/webhooks/intercom";
  return async (req, res, next) => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const pathname = q === -1 ? url : url.slice(0, q);
    if (pathname !== path) {
      if (next) return next();
      return send(res, errorResponse(new IntercomBridgeError("IB_ERR_NOT_FOUND", `No route for ${pathname}`)));
    }
    send(res, await handleNodeRequest(receiver, req));
  };
}

/**
 * Reads the raw body (stopping at `maxBodyBytes`) and runs the shared webhook handler. For adapters that already
 * parsed the body (Express with `express.json()`), the parsed body is detected and reported as unavailable.
 */
export async function handleNodeRequest(
  receiver: Receiver,
  req: IncomingMessage & { body?: unknown; rawBody?: unknown },
): Promise<WebhookResponse> {
  const method = req.method ?? "GET";
  if (method === "HEAD" || method !== "POST")
    return handleWebhook(receiver, { method, headers: req.headers, body: "" });
  let body: Buffer | undefined;
  try {
    body = await readRawBody(req, receiver.settings.maxBodyBytes);
  } catch (error) {
    return errorResponse(error);
  }
  return handleWebhook(receiver, { method, headers: req.headers, body });
}

/**
 * Resolves the exact request bytes, or undefined when an earlier body parser consumed the stream and left no raw
 * buffer. Rejects with `IB_ERR_BODY_TOO_LARGE` as soon as `maxBytes` is passed, without buffering the rest.
 */
export function readRawBody(
  req: IncomingMessage & { body?: unknown; rawBody?: unknown },
  maxBytes: number,
): Promise<Buffer | undefined> {
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
    req.once("error", reject);
  });
}

/** Writes a framework-neutral response. */
export function send(res: ServerResponse, r: WebhookResponse): void {
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}
