/**
 * The framework-neutral webhook exchange: what a request must look like before its body is read (method, content
 * type, a well-formed `X-Hub-Signature`), what the receiver says about the body, and the response every adapter
 * writes. Adapters reach it through `request-flow.ts`; frameworks without an adapter call {@link handleWebhook}.
 * Imports `core/` only: no `node:http`, no framework.
 */
import { IntercomBridgeError, SignatureVerificationError, type ErrorCode } from "../core/errors.js";
import { getHeader, type Receiver, type ReceiveInput } from "../core/receiver.js";
import { isWellFormedSignatureHeader, type RawBody } from "../core/signature.js";
import { toErrorResponse } from "./status.js";

/** A framework-neutral response. */
export interface WebhookResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON text, or empty for HEAD. */
  body: string;
  /**
   * The `error.code` of a refusal, so callers (logs, metrics, adapters) branch on it without parsing `body`;
   * absent on 200. `IB_ERR_INTERNAL` is an unexpected failure, answered 500 without its message.
   */
  code?: ErrorCode | "IB_ERR_INTERNAL";
}

/** A framework-neutral request. `body` is undefined when the framework already consumed it. */
export interface WebhookRequest {
  method: string;
  headers: ReceiveInput["headers"];
  body: RawBody | undefined;
}

/**
 * What every adapter answers (500, `IB_ERR_RAW_BODY_UNAVAILABLE`) when something read the request body before
 * intercom-bridge could: the signature is over the exact bytes, so they must reach it untouched. The Express adapter
 * says more ({@link EXPRESS_RAW_BODY_MESSAGE} in `intercom-bridge/express`).
 */
export const RAW_BODY_UNAVAILABLE_MESSAGE =
  "The raw request body is not available: something read or parsed it before intercom-bridge, so the X-Hub-Signature " +
  "cannot be verified. Hand the webhook route the untouched request (no body parser in front of it).";

/**
 * The 413 every adapter gives. `declaredBytes` is the request's Content-Length, or null when a streamed (chunked)
 * body passed the limit before it ended.
 */
export function bodyTooLargeError(declaredBytes: number | null, maxBytes: number): IntercomBridgeError {
  const size = declaredBytes === null ? `more than ${maxBytes} bytes` : `${declaredBytes} bytes`;
  return new IntercomBridgeError("IB_ERR_BODY_TOO_LARGE", `Body is ${size}; the limit is ${maxBytes} (maxBodyBytes)`);
}

/** What a body read answers when the client closes the connection before the whole body arrived. */
export function clientAbortedError(cause?: unknown): IntercomBridgeError {
  return new IntercomBridgeError(
    "IB_ERR_CLIENT_ABORTED",
    "The client closed the connection before the whole body arrived",
    cause === undefined ? undefined : { cause },
  );
}

const JSON_HEADERS = Object.freeze({ "content-type": "application/json; charset=utf-8" });
const ACCEPTED = JSON.stringify({ received: true });
const DUPLICATE = JSON.stringify({ received: true, duplicate: true });
/**
 * The answer a request gets before its body is read, or undefined when its body should be read: HEAD → 200 (Intercom
 * validates the URL with HEAD when a subscription is saved, facts §1.2), another method → 405, a content type other
 * than JSON → 415, a missing or malformed `X-Hub-Signature` → 401. Refusing these first means an unauthenticated
 * client never makes the server buffer a body.
 * @example
 * const early = refuseBeforeBody(req.method, req.headers);
 * if (early) return early; // no body read
 */
export function refuseBeforeBody(method: string, headers: ReceiveInput["headers"]): WebhookResponse | undefined {
  const m = method.toUpperCase();
  if (m === "POST") {
    const contentType = getHeader(headers, "content-type");
    if (typeof contentType !== "string" || !/^application\/json\s*(;|$)/i.test(contentType.trim())) {
      return errorResponse(
        new IntercomBridgeError("IB_ERR_UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json"),
      );
    }
    const signature = getHeader(headers, "x-hub-signature");
    if (signature === undefined || signature === "") {
      return errorResponse(
        new SignatureVerificationError("IB_ERR_SIGNATURE_MISSING", "Missing X-Hub-Signature header"),
      );
    }
    // The same message as a signature that does not match: a malformed one is just a wrong one.
    if (!isWellFormedSignatureHeader(signature)) {
      return errorResponse(new SignatureVerificationError("IB_ERR_SIGNATURE_INVALID", "No matching signature found"));
    }
    return undefined;
  }
  if (m === "HEAD") return { status: 200, headers: {}, body: "" };
  return errorResponse(
    new IntercomBridgeError("IB_ERR_METHOD_NOT_ALLOWED", `Method ${m} is not allowed; Intercom sends POST`),
  );
}

/**
 * Hands a POST's exact body to the receiver (size → signature → parse → store) and turns the result into the 200
 * answer. An undefined body (something consumed it) answers `IB_ERR_RAW_BODY_UNAVAILABLE` with
 * `rawBodyUnavailableMessage`. Throws what the receiver throws; callers map it with {@link errorResponse}.
 */
export async function receiveBody(
  receiver: Receiver,
  headers: ReceiveInput["headers"],
  body: RawBody | undefined,
  rawBodyUnavailableMessage: string = RAW_BODY_UNAVAILABLE_MESSAGE,
): Promise<WebhookResponse> {
  if (body === undefined) throw new IntercomBridgeError("IB_ERR_RAW_BODY_UNAVAILABLE", rawBodyUnavailableMessage);
  const result = await receiver.receive({ body, headers });
  return { status: 200, headers: { ...JSON_HEADERS }, body: result.status === "duplicate" ? DUPLICATE : ACCEPTED };
}

/**
 * The one request handler for a request whose body is already in hand: method → content type → signature header →
 * receive (size → signature → parse → store) → status. Handlers never run inside the request.
 */
export async function handleWebhook(receiver: Receiver, req: WebhookRequest): Promise<WebhookResponse> {
  try {
    return refuseBeforeBody(req.method, req.headers) ?? (await receiveBody(receiver, req.headers, req.body));
  } catch (error) {
    return errorResponse(error);
  }
}

/** Builds the JSON error response for anything thrown (adds `Allow` on 405). */
export function errorResponse(error: unknown): WebhookResponse {
  const { status, body } = toErrorResponse(error);
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (status === 405) headers["allow"] = "POST, HEAD";
  return { status, headers, body: JSON.stringify(body), code: body.error.code as ErrorCode | "IB_ERR_INTERNAL" };
}
