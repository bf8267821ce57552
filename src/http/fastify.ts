/**
 * The fastify adapter (`intercom-bridge/fastify`): a plugin whose route hands fastify's raw-buffer body to the shared
 * request flow, and refuses what can be refused before fastify reads the body (an `onRequest` hook). Imports `core/`
 * and this folder only; fastify comes in as types.
 */
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { IntercomBridgeError } from "../core/errors.js";
import type { Receiver } from "../core/receiver.js";
import { bodyTooLargeError, errorResponse, refuseBeforeBody, type WebhookResponse } from "./handle-webhook.js";
import { createRequestFlow } from "./request-flow.js";

/** Options of {@link createFastifyPlugin}. */
export interface FastifyPluginOptions {
  /** The webhook route, relative to the plugin's `prefix`. @defaultValue "/webhooks/intercom" */
  path?: string;
}

// Every method goes to the shared handler, so a GET answers 405 with `Allow` as on the other adapters. OPTIONS is left
// to the app (CORS plugins register it).
const METHODS = ["POST", "HEAD", "GET", "PUT", "PATCH", "DELETE"] as const;

/**
 * A fastify (v5) plugin that registers the Intercom webhook route. The route gets the raw request bytes through a
 * content-type parser (`parseAs: "buffer"`) registered inside the plugin's own encapsulated context, so the app's JSON
 * parsing on every other route is untouched. `bodyLimit` is the receiver's `maxBodyBytes`; HEAD answers 200 (Intercom's
 * URL check). Responses come from the shared handler and status table, as on every other adapter.
 *
 * Register it without `fastify-plugin` wrapping (it is not wrapped): the raw-body parser must stay scoped.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { createIntercomWebhooks } from "intercom-bridge";
 * import { createFastifyPlugin } from "intercom-bridge/fastify";
 *
 * const webhooks = createIntercomWebhooks({ secret: process.env.INTERCOM_CLIENT_SECRET! });
 * const app = Fastify();
 * await app.register(createFastifyPlugin(webhooks, { path: "/webhooks/intercom" }));
 * ```
 */
export function createFastifyPlugin(receiver: Receiver, options: FastifyPluginOptions = {}): FastifyPluginAsync {
  const path = options.path ?? "/webhooks/intercom";
  const bodyLimit = receiver.settings.maxBodyBytes;
  return function intercomWebhooks(instance: FastifyInstance): Promise<void> {
    // Scoped to this plugin's context: the app's own application/json and text/plain parsers stay as they are.
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser("*", { parseAs: "buffer", bodyLimit }, (_request, body, done) => done(null, body));
    instance.setErrorHandler((error: FastifyError, request, reply) =>
      reply_(reply, errorResponse(fromFastifyError(error, request, bodyLimit))),
    );
    instance.route({
      method: [...METHODS],
      url: path,
      bodyLimit,
      exposeHeadRoute: false,
      // Before fastify reads the body: an unsigned or wrongly typed request never makes it buffer one.
      onRequest: (request, reply, done) => {
        const early = refuseBeforeBody(request.method, request.headers);
        if (early) reply_(reply, early);
        else done();
      },
      handler: (request, reply) => fastifyFlow(receiver, request, reply),
    });
    return Promise.resolve();
  };
}

const fastifyFlow = createRequestFlow<FastifyRequest, FastifyReply, FastifyReply>({
  method: (request) => request.method,
  headers: (request) => request.headers,
  // Fastify skips parsing when a request has neither a content type nor a body: that is an empty body.
  payload: (request) => Promise.resolve(Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)),
  send: (reply, r) => reply_(reply, r),
});

function reply_(reply: FastifyReply, r: WebhookResponse): FastifyReply {
  // No payload at all for an empty body: send("") would add a text/plain content type the other adapters do not.
  const replied = reply.code(r.status).headers(r.headers);
  return r.body === "" ? replied.send() : replied.send(r.body);
}

/** Maps fastify's own body errors onto our codes, so the status table and the bodies match the other adapters. */
function fromFastifyError(error: FastifyError, request: FastifyRequest, maxBytes: number): unknown {
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE": {
      const declared = Number(request.headers["content-length"]);
      return bodyTooLargeError(Number.isFinite(declared) ? declared : null, maxBytes);
    }
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new IntercomBridgeError("IB_ERR_UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json", {
        cause: error,
      });
    default:
      if (error.statusCode === 400) {
        return new IntercomBridgeError("IB_ERR_PAYLOAD_INVALID", error.message, { cause: error });
      }
      return error;
  }
}
