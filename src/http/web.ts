/**
 * The Web-standard adapter (`intercom-bridge/web`): maps a `Request` onto the shared request flow and its answer onto
 * a `Response`, for Next.js route handlers, Bun, Deno and Hono. The request hooks live in `web-io.ts`, which the Hono
 * adapter shares. Imports `core/` and this folder only.
 */
import { IntercomBridgeError } from "../core/errors.js";
import type { Receiver } from "../core/receiver.js";
import { errorResponse, type WebhookResponse } from "./handle-webhook.js";
import { createRequestFlow } from "./request-flow.js";
import { WEB_REQUEST_HOOKS, toWebResponse } from "./web-io.js";

export { readWebBody, toWebResponse, WEB_REQUEST_HOOKS } from "./web-io.js";

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
