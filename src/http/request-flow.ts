/**
 * The one request flow every adapter runs (the shape of @octokit/webhooks' `createMiddleware`): refuse what can be
 * refused before the body is read, read the exact body, hand it to the receiver, turn whatever is thrown into the
 * status table's answer, and write it. An adapter supplies only small hooks that map its framework's request and
 * response. Imports `core/` and this folder only: no framework, no driver.
 */
import { IntercomBridgeError } from "../core/errors.js";
import type { Receiver, ReceiveInput } from "../core/receiver.js";
import type { RawBody } from "../core/signature.js";
import { errorResponse, receiveBody, refuseBeforeBody, type WebhookResponse } from "./handle-webhook.js";

/** What an adapter tells the flow about its framework. */
export interface RequestFlowHooks<Req, Res, Out> {
  /** The request method. */
  method(req: Req): string;
  /** The request headers (a plain object or a `Headers`). */
  headers(req: Req): ReceiveInput["headers"];
  /**
   * The exact body bytes, refusing more than `maxBytes` (`IB_ERR_BODY_TOO_LARGE`) and reporting a client that went away
   * (`IB_ERR_CLIENT_ABORTED`); undefined when something else already consumed the body.
   */
  payload(req: Req, maxBytes: number): Promise<RawBody | undefined>;
  /** Writes (or converts) the answer. */
  send(res: Res, response: WebhookResponse, req: Req): Out;
  /** The message of the 500 answered when `payload` gives undefined. @defaultValue RAW_BODY_UNAVAILABLE_MESSAGE */
  rawBodyUnavailableMessage?: string;
  /** Told about anything thrown that is not an {@link IntercomBridgeError} (answered 500 `IB_ERR_INTERNAL`). */
  unexpectedError?(error: unknown, req: Req): void;
}

/** A request flow bound to an adapter's hooks; `res` is whatever `send` writes to (nothing for Web handlers). */
export type RequestFlow<Req, Res, Out> = (receiver: Receiver, req: Req, res: Res) => Promise<Out>;

/**
 * Builds an adapter's request flow from its hooks.
 * @example
 * const flow = createRequestFlow<Request, void, Response>({
 *   method: (r) => r.method,
 *   headers: (r) => r.headers,
 *   payload: (r, max) => readWebBody(r, max),
 *   send: (_res, r) => toWebResponse(r),
 * });
 * const response = await flow(webhooks, request, undefined);
 */
export function createRequestFlow<Req, Res, Out>(hooks: RequestFlowHooks<Req, Res, Out>): RequestFlow<Req, Res, Out> {
  return async (receiver, req, res) => {
    let response: WebhookResponse;
    try {
      const headers = hooks.headers(req);
      response =
        refuseBeforeBody(hooks.method(req), headers) ??
        (await receiveBody(
          receiver,
          headers,
          await hooks.payload(req, receiver.settings.maxBodyBytes),
          hooks.rawBodyUnavailableMessage,
        ));
    } catch (error) {
      if (!(error instanceof IntercomBridgeError)) hooks.unexpectedError?.(error, req);
      response = errorResponse(error);
    }
    return hooks.send(res, response, req);
  };
}
