/**
 * Reading and writing `node:http` messages for the shared request flow: the request hooks (method, headers, the exact
 * body bytes with the size limit and client-abort handling), writing a {@link WebhookResponse}, and the path of a
 * URL. Shared by the Node and Express adapters and by `serve`'s hot path, so no adapter imports another. Imports
 * `core/` and this folder only (`node:http` types aside): no framework, no driver.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { bodyTooLargeError, clientAbortedError, type WebhookResponse } from "./handle-webhook.js";
import type { RequestFlowHooks } from "./request-flow.js";

/** A Node request, possibly with a body an earlier middleware left (`express.raw()` leaves a Buffer). */
export type NodeRequest = IncomingMessage & { body?: unknown; rawBody?: unknown };

/**
 * The request side of the Node adapter's flow hooks: method, headers and the raw body of an `IncomingMessage`. The Node
 * and Express adapters and `serve` use them with their own `send`.
 */
export const NODE_REQUEST_HOOKS: Pick<
  RequestFlowHooks<NodeRequest, unknown, unknown>,
  "method" | "headers" | "payload"
> = Object.freeze({
  method: (req: NodeRequest) => req.method ?? "GET",
  headers: (req: NodeRequest) => req.headers,
  payload: readRawBody,
});

/** The path of a request URL, without its query string. */
export function pathOf(url: string | undefined): string {
  const u = url ?? "/";
  const q = u.indexOf("?");
  return q === -1 ? u : u.slice(0, q);
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
