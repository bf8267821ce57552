/**
 * Reading Web-standard `Request`s and writing `Response`s for the shared request flow: the request hooks (method,
 * headers, the exact body bytes with the size limit and client-abort handling) and the conversion of a
 * {@link WebhookResponse} to a `Response`. Shared by the Web and Hono adapters, so neither imports the other. Imports
 * `core/` and this folder only: no framework, no driver.
 */
import { bodyTooLargeError, clientAbortedError, type WebhookResponse } from "./handle-webhook.js";
import type { RequestFlowHooks } from "./request-flow.js";

/**
 * The request side of the Web-standard flow hooks; the Web adapter uses them as they are, the Hono adapter with its
 * own body cache.
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
