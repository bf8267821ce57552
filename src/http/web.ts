/**
 * The Web-standard adapter (`intercom-bridge/web`): maps a `Request` onto the shared request flow and its answer onto
 * a `Response`, for Next.js route handlers, Bun, Deno and Hono. Imports `core/` and this folder only.
 */
import { IntercomBridgeError } from "../core/errors.js";
import type { Receiver } from "../core/receiver.js";
import { bodyTooLargeError, clientAbortedError, errorResponse, type WebhookResponse } from "./handle-webhook.js";
import { createRequestFlow, type RequestFlowHooks } from "./request-flow.js";

/** Options of {@link createWebHandler}. */
export interface WebHandlerOptions {
  /**
   * Only answer on this path; any other path gets 404. Leave it out where the platform already routes (a Next.js
   * `route.ts`, a Hono route).
   * @defaultValue every path
   */
  path?: string;
}

/** A Web-standard request handler: Next.js route handlers, Bun, Deno, Cloudflare-style `fetch`, Hono. */
export type WebHandler = (request: Request) => Promise<Response>;

/**
 * A Web-standard `(Request) => Promise<Response>` handler for Intercom webhooks, for runtimes and frameworks built on
 * `fetch` types: Next.js route handlers, Bun, Deno, Hono. Responses come from the shared handler and status table.
 *
 * @example
 * ```ts
 * // app/api/intercom/route.ts (Next.js, Node runtime)
 * import { createIntercomWebhooks } from "intercom-bridge";
 * import { createWebHandler } from "intercom-bridge/web";
 *
 * const webhooks = createIntercomWebhooks({ secret: process.env.INTERCOM_CLIENT_SECRET! });
 * const handler = createWebHandler(webhooks);
 * export { handler as POST, handler as HEAD };
 * ```
 */
export function createWebHandler(receiver: Receiver, options: WebHandlerOptions = {}): WebHandler {
  const path = options.path;
  return async (request) => {
    if (path !== undefined) {
      const pathname = new URL(request.url).pathname;
      if (pathname !== path) {
        return toWebResponse(errorResponse(new IntercomBridgeError("IB_ERR_NOT_FOUND", `No route for ${pathname}`)));
      }
    }
    return webFlow(receiver, request, undefined);
  };
}

/**
 * The request side of the Web adapter's flow hooks; the Hono adapter reuses them with its own body cache.
 */
export const WEB_REQUEST_HOOKS: Pick<
  RequestFlowHooks<Request, unknown, unknown>,
  "method" | "headers" | "payload"
> = Object.freeze({
  method: (request: Request) => request.method,
  headers: (request: Request) => request.headers,
  payload: (request: Request, maxBytes: number) =>
    request.bodyUsed ? Promise.resolve(undefined) : readWebBody(request, maxBytes),
});

const webFlow = createRequestFlow<Request, void, Response>({
  ...WEB_REQUEST_HOOKS,
  send: (_res, r) => toWebResponse(r),
});
const webResponseFlow = createRequestFlow<Request, void, WebhookResponse>({
  ...WEB_REQUEST_HOOKS,
  send: (_res, r) => r,
});

/**
 * Runs the shared request flow over a Web `Request` and returns the answer: reads the exact body bytes (stopping at
 * `maxBodyBytes`) unless the request can be refused first; a body something else already read is reported as
 * `IB_ERR_RAW_BODY_UNAVAILABLE`.
 * @example
 * ```ts
 * const r = await handleWebRequest(webhooks, request);
 * return new Response(r.body, { status: r.status, headers: r.headers });
 * ```
 */
export function handleWebRequest(receiver: Receiver, request: Request): Promise<WebhookResponse> {
  return webResponseFlow(receiver, request, undefined);
}

/**
 * Reads a request body as bytes, refusing more than `maxBytes`: first by `Content-Length`, without reading, then
 * while streaming (chunked bodies), cancelling the stream as soon as the limit is passed.
 * @throws {IntercomBridgeError} `IB_ERR_BODY_TOO_LARGE`; `IB_ERR_CLIENT_ABORTED` when the body stream fails (the client
 * went away)
 * @example
 * ```ts
 * const bytes = await readWebBody(request, 1_048_576);
 * ```
 */
export async function readWebBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await request.body?.cancel().catch(() => undefined);
    throw bodyTooLargeError(declared, maxBytes);
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch (error) {
      throw clientAbortedError(error);
    }
    const { done, value } = next;
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw bodyTooLargeError(null, maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Converts a framework-neutral response to a Web `Response` (no body for HEAD-style empty bodies).
 * @example
 * ```ts
 * return toWebResponse(await handleWebhook(webhooks, { method, headers, body }));
 * ```
 */
export function toWebResponse(r: WebhookResponse): Response {
  return new Response(r.body === "" ? null : r.body, { status: r.status, headers: r.headers });
}
