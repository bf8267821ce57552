/**
 * The Hono adapter (`intercom-bridge/hono`): the Web-standard request hooks (`web-io.ts`) on `c.req.raw`, plus
 * Hono's body cache when an earlier middleware already read the body. Imports `core/` and this folder only; Hono
 * comes in as types.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Receiver } from "../core/receiver.js";
import type { RawBody } from "../core/signature.js";
import { createRequestFlow } from "./request-flow.js";
import { WEB_REQUEST_HOOKS, readWebBody, toWebResponse } from "./web-io.js";

/** Options of {@link createHonoMiddleware}. */
export interface HonoMiddlewareOptions {
  /** The webhook path; requests to other paths go to `next()`. @defaultValue "/webhooks/intercom" */
  path?: string;
}

/**
 * A Hono (v4) middleware for Intercom webhooks: on `path` it answers from `c.req.raw` through the Web-standard
 * handler (`intercom-bridge/web`) and the shared status table; every other path goes to `next()`. Works on every
 * runtime Hono runs on.
 *
 * When an earlier middleware already read the body with `c.req.text()`, `c.req.arrayBuffer()` or `c.req.json()`
 * (Hono caches what it read), the cached body is used: `arrayBuffer()` keeps the exact bytes; text is re-encoded as
 * UTF-8, which matches the signed bytes for every body Intercom sends (UTF-8 JSON without a byte-order mark). A body
 * consumed outside Hono's cache answers 500 `IB_ERR_RAW_BODY_UNAVAILABLE`.
 *
 * `path` is compared with the full request path (`c.req.path`), also inside a sub-app mounted with
 * `app.route("/hooks", sub)`: there, pass `path: "/hooks/intercom"`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createIntercomWebhooks } from "intercom-bridge";
 * import { createHonoMiddleware } from "intercom-bridge/hono";
 *
 * const webhooks = createIntercomWebhooks({ secret: process.env.INTERCOM_CLIENT_SECRET! });
 * const app = new Hono();
 * app.use(createHonoMiddleware(webhooks, { path: "/webhooks/intercom" }));
 * ```
 */
export function createHonoMiddleware(receiver: Receiver, options: HonoMiddlewareOptions = {}): MiddlewareHandler {
  const path = options.path ?? "/webhooks/intercom";
  return async (c, next) => {
    if (c.req.path !== path) {
      await next();
      return;
    }
    return honoFlow(receiver, c, undefined);
  };
}

const honoFlow = createRequestFlow<Context, void, Response>({
  method: (c) => WEB_REQUEST_HOOKS.method(c.req.raw),
  headers: (c) => WEB_REQUEST_HOOKS.headers(c.req.raw),
  payload: (c, maxBytes) => (c.req.raw.bodyUsed ? cachedBody(c.req.bodyCache) : readWebBody(c.req.raw, maxBytes)),
  send: (_res, r) => toWebResponse(r),
});

/**
 * Hono caches what `c.req.text()` / `arrayBuffer()` / `json()` read (json() reads through text()). An ArrayBuffer is the
 * exact bytes; text is re-encoded as UTF-8. A cache holding only a parsed value gives nothing.
 */
async function cachedBody(cache: object): Promise<RawBody | undefined> {
  const c = cache as { arrayBuffer?: Promise<ArrayBuffer>; text?: Promise<string> };
  if (c.arrayBuffer) return new Uint8Array(await c.arrayBuffer);
  if (c.text) return await c.text;
  return undefined;
}
