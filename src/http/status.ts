/**
 * The one error-code → HTTP status table, and the JSON error body every adapter, the service and the dashboard answer
 * with; nothing else maps codes to statuses. Imports the error classes only.
 */
import { IntercomBridgeError, type ErrorCode } from "../core/errors.js";

/**
 * THE error-code → HTTP status table (STYLE §9); nothing else maps codes to statuses.
 * Never 410 and never 429 on the webhook route: 410 disables the Intercom subscription and 429 throttles all of it for
 * up to 2 h (facts §1.3). Overload and outages answer 503, which Intercom retries once.
 */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = Object.freeze({
  IB_ERR_SIGNATURE_MISSING: 401,
  IB_ERR_SIGNATURE_INVALID: 401,
  IB_ERR_PAYLOAD_INVALID: 400,
  IB_ERR_QUERY_INVALID: 400,
  IB_ERR_BODY_INVALID: 400,
  IB_ERR_BODY_TOO_LARGE: 413,
  IB_ERR_METHOD_NOT_ALLOWED: 405,
  IB_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  IB_ERR_STORE_UNAVAILABLE: 503,
  IB_ERR_SHUTTING_DOWN: 503,
  IB_ERR_RAW_BODY_UNAVAILABLE: 500,
  IB_ERR_CONFIG: 500,
  IB_ERR_EVENT_INVALID: 422,
  IB_ERR_UNAUTHORIZED: 401,
  IB_ERR_NOT_FOUND: 404,
  IB_ERR_CONFLICT: 409,
  // Outbound and handler codes never reach a webhook response; on the admin API they are server-side failures.
  IB_ERR_INTERCOM_API: 502,
  IB_ERR_RATE_LIMITED: 503,
  IB_ERR_HANDLER_MISSING: 500,
  IB_ERR_HANDLER_TIMEOUT: 500,
  IB_ERR_UNRECOVERABLE: 500,
  IB_ERR_RETRY_LATER: 503,
  IB_ERR_FORWARD_FAILED: 502,
  IB_ERR_REQUEST_TIMEOUT: 408,
  // Nobody reads this answer (the client closed the connection); it only has to be a client error, not a 5xx.
  IB_ERR_CLIENT_ABORTED: 400,
  IB_ERR_HEADERS_TOO_LARGE: 431,
  IB_ERR_BAD_REQUEST: 400,
});

/** The JSON error body every endpoint uses: never a stack trace. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** Maps anything thrown to a status and a safe body. Unknown errors become a generic 500 without their message. */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof IntercomBridgeError) {
    return { status: STATUS_BY_CODE[error.code], body: { error: { code: error.code, message: error.message } } };
  }
  return { status: 500, body: { error: { code: "IB_ERR_INTERNAL", message: "Internal error" } } };
}

/**
 * Our code for a web framework's own 4xx about a request body (fastify's malformed JSON, unsupported content type,
 * body too large), so admin API answers keep one error shape whoever refused the request.
 */
export function bodyErrorCode(httpStatus: number): ErrorCode {
  if (httpStatus === 413) return "IB_ERR_BODY_TOO_LARGE";
  if (httpStatus === 415) return "IB_ERR_UNSUPPORTED_MEDIA_TYPE";
  return "IB_ERR_BODY_INVALID";
}
