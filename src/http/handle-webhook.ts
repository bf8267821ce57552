import { IntercomBridgeError } from "../core/errors.js";
import { getHeader, type Receiver, type ReceiveInput } from "../core/receiver.js";
import type { RawBody } from "../core/signature.js";
import { toErrorResponse } from "./status.js";

/** A framework-neutral response. */
export interface WebhookResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON text, or empty for HEAD. */
  body: string;
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

const JSON_HEADERS = Object.freeze({ "content-type": "application/json; charset=utf-8" });
const ACCEPTED = JSON.stringify({ received: true });
const DUPLICATE = JSON.stringify({ received: true, duplicate: true });

/**
 * The one request handler every adapter wraps: method → content type → receive (size → signature → parse → store)
 * → status. Handlers never run inside the request.
 */
export async function handleWebhook(receiver: Receiver, req: WebhookRequest): Promise<WebhookResponse> {
  try {
    const method = req.method.toUpperCase();
    // Intercom validates the URL with HEAD when the subscription is saved (facts §1.2).
    if (method === "HEAD") return { status: 200, headers: {}, body: "" };
    if (method !== "POST") {
      throw new IntercomBridgeError(
        "IB_ERR_METHOD_NOT_ALLOWED",
        `Method ${method} is not allowed; Intercom sends POST`,
      );
    }
    const contentType = getHeader(req.headers, "content-type");
    if (typeof contentType !== "string" || !/^application\/json\s*(;|$)/i.test(contentType.trim())) {
      throw new IntercomBridgeError("IB_ERR_UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json");
    }
    if (req.body === undefined)
      throw new IntercomBridgeError("IB_ERR_RAW_BODY_UNAVAILABLE", RAW_BODY_UNAVAILABLE_MESSAGE);
    const result = await receiver.receive({ body: req.body, headers: req.headers });
    return { status: 200, headers: { ...JSON_HEADERS }, body: result.status === "duplicate" ? DUPLICATE : ACCEPTED };
  } catch (error) {
    return errorResponse(error);
  }
}

/** Builds the JSON error response for anything thrown (adds `Allow` on 405). */
export function errorResponse(error: unknown): WebhookResponse {
  const { status, body } = toErrorResponse(error);
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (status === 405) headers["allow"] = "POST, HEAD";
  return { status, headers, body: JSON.stringify(body) };
}
