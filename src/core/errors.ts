/**
 * Every error intercom-bridge throws or records. Callers branch on `code` (or `instanceof`), never on message text.
 * The mapping from codes to HTTP statuses lives in `src/http/status.ts` and nowhere else (STYLE §9).
 */

/** All stable error codes. */
export const ERROR_CODES = [
  "IB_ERR_SIGNATURE_MISSING",
  "IB_ERR_SIGNATURE_INVALID",
  "IB_ERR_PAYLOAD_INVALID",
  // Admin API (dashboard, /api/events): a query parameter or a JSON body field the client got wrong. Separate from
  // IB_ERR_PAYLOAD_INVALID, which means Intercom's webhook body, so a client can tell which thing to fix.
  "IB_ERR_QUERY_INVALID",
  "IB_ERR_BODY_INVALID",
  "IB_ERR_BODY_TOO_LARGE",
  "IB_ERR_RAW_BODY_UNAVAILABLE",
  "IB_ERR_METHOD_NOT_ALLOWED",
  "IB_ERR_UNSUPPORTED_MEDIA_TYPE",
  "IB_ERR_CONFIG",
  "IB_ERR_STORE_UNAVAILABLE",
  "IB_ERR_EVENT_INVALID",
  "IB_ERR_INTERCOM_API",
  "IB_ERR_RATE_LIMITED",
  "IB_ERR_HANDLER_MISSING",
  "IB_ERR_HANDLER_TIMEOUT",
  "IB_ERR_UNRECOVERABLE",
  "IB_ERR_RETRY_LATER",
  "IB_ERR_FORWARD_FAILED",
  "IB_ERR_UNAUTHORIZED",
  "IB_ERR_NOT_FOUND",
  "IB_ERR_CONFLICT",
  "IB_ERR_SHUTTING_DOWN",
  // Said by the HTTP server about the connection rather than the notification: the request did not arrive in time,
  // the client went away mid-body, its headers were too large, or it was not HTTP at all.
  "IB_ERR_REQUEST_TIMEOUT",
  "IB_ERR_CLIENT_ABORTED",
  "IB_ERR_HEADERS_TOO_LARGE",
  "IB_ERR_BAD_REQUEST",
] as const;

/** A stable, documented error code. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The base class of every error intercom-bridge defines. */
export class IntercomBridgeError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The request's `X-Hub-Signature` is missing or does not match any configured secret. */
export class SignatureVerificationError extends IntercomBridgeError {
  constructor(code: "IB_ERR_SIGNATURE_MISSING" | "IB_ERR_SIGNATURE_INVALID", message: string) {
    super(code, message);
  }
}

/** An option is missing or invalid. Thrown at construction time, naming the option. */
export class ConfigError extends IntercomBridgeError {
  constructor(message: string, options?: ErrorOptions) {
    super("IB_ERR_CONFIG", message, options);
  }
}

/** The store could not be reached or did not answer in time. The driver's error is in `cause`. */
export class StoreError extends IntercomBridgeError {
  constructor(message: string, options?: ErrorOptions) {
    super("IB_ERR_STORE_UNAVAILABLE", message, options);
  }
}

/** The body is not a valid Intercom notification. `reason` says which envelope check failed. */
export class PayloadError extends IntercomBridgeError {
  /** Which check failed; stable. */
  readonly reason: PayloadErrorReason;
  constructor(reason: PayloadErrorReason, message: string) {
    super("IB_ERR_PAYLOAD_INVALID", message);
    this.reason = reason;
  }
}

/** The envelope check that failed in {@link PayloadError}. */
export type PayloadErrorReason =
  | "invalid_json"
  | "not_an_object"
  | "not_a_notification"
  | "missing_topic"
  | "missing_app_id"
  | "missing_item"
  | "invalid_created_at"
  | "too_deep"
  | "stale";

/**
 * Thrown by a handler to dead-letter its delivery now, without further attempts
 * (BullMQ's `UnrecoverableError`).
 */
export class UnrecoverableError extends IntercomBridgeError {
  constructor(message = "Unrecoverable error", options?: ErrorOptions & { code?: ErrorCode }) {
    super(options?.code ?? "IB_ERR_UNRECOVERABLE", message, options);
  }
}

/** A delivery names a handler or target that is no longer registered (renamed or removed in a deploy). */
export class HandlerMissingError extends UnrecoverableError {
  constructor(target: string) {
    super(`No handler or forward target named "${target}" is registered; register it and replay this delivery`, {
      code: "IB_ERR_HANDLER_MISSING",
    });
  }
}

/** A handler run exceeded its timeout; its signal was aborted. Retried like any failure. */
export class HandlerTimeoutError extends IntercomBridgeError {
  constructor(target: string, timeoutMs: number) {
    super("IB_ERR_HANDLER_TIMEOUT", `Handler "${target}" did not finish within ${timeoutMs} ms`);
  }
}

/** Thrown by a handler to run its delivery again after `delayMs`, without using an attempt. */
export class RetryLaterError extends IntercomBridgeError {
  /** Milliseconds to wait before the next run. */
  readonly delayMs: number;
  constructor(delayMs: number, message = `Retry requested in ${delayMs} ms`) {
    super("IB_ERR_RETRY_LATER", message);
    if (!Number.isFinite(delayMs) || delayMs < 0)
      throw new ConfigError("RetryLaterError delayMs must be a number >= 0");
    this.delayMs = delayMs;
  }
}

/** Thrown by a job runner to pause its whole queue for `retryAfterMs` without using an attempt. */
export class RateLimitedError extends IntercomBridgeError {
  /** Milliseconds until the queue may run again. */
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message = `Rate limited for ${retryAfterMs} ms`) {
    super("IB_ERR_RATE_LIMITED", message);
    this.retryAfterMs = Math.max(0, retryAfterMs);
  }
}

/** One problem found in an outbound event. */
export interface EventValidationIssue {
  /** The field, e.g. `event_name` or `metadata.plan`. */
  field: string;
  /** Why it is invalid, in one sentence. */
  message: string;
}

/** An outbound event failed validation; `issues` lists every problem at once. */
export class EventValidationError extends IntercomBridgeError {
  readonly issues: readonly EventValidationIssue[];
  constructor(issues: readonly EventValidationIssue[]) {
    super("IB_ERR_EVENT_INVALID", `Invalid event: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`);
    this.issues = issues;
  }
}

/** Intercom's REST API answered with an error. */
export class IntercomApiError extends IntercomBridgeError {
  readonly status: number;
  /** Intercom's first error `code` from an `error.list` body, if any. */
  readonly intercomCode: string | undefined;
  readonly requestId: string | undefined;
  constructor(status: number, message: string, details: { intercomCode?: string; requestId?: string } = {}) {
    super("IB_ERR_INTERCOM_API", message);
    this.status = status;
    this.intercomCode = details.intercomCode;
    this.requestId = details.requestId;
  }
}

/** At most this many stack frames are kept with a recorded error. */
export const MAX_STACK_FRAMES = 10;
/** At most this many characters of stack frames are kept with a recorded error (each frame line at most 300). */
export const MAX_STACK_CHARS = 2_000;

/**
 * Extracts a `{ name, code, message, stack }` description from anything thrown, for storing as a delivery's last error
 * and in its attempt history. `stack` holds only the frames (`at …` lines; the message is in `message`), at most
 * {@link MAX_STACK_FRAMES} of them and {@link MAX_STACK_CHARS} characters, with a last line saying how many were left
 * out. Waits that are not failures (`RetryLaterError`, `RateLimitedError`) keep no stack: where the wait was thrown
 * tells an operator nothing, and a paused outbox records one per event.
 */
export function describeError(error: unknown): { name: string; code?: string; message: string; stack?: string } {
  // Intercom's own error code (e.g. `not_found`) is what an operator needs, also when a control-flow error wraps it.
  const api =
    error instanceof IntercomApiError
      ? error
      : error instanceof Error && error.cause instanceof IntercomApiError
        ? error.cause
        : undefined;
  if (!(error instanceof Error)) return { name: "NonError", message: String(error) };
  const ownCode = (error as { code?: unknown }).code;
  const code = api ? (api.intercomCode ?? api.code) : typeof ownCode === "string" ? ownCode : undefined;
  const described: { name: string; code?: string; message: string; stack?: string } =
    code === undefined
      ? { name: error.name, message: error.message }
      : { name: error.name, code, message: error.message };
  const isWait = error instanceof RetryLaterError || error instanceof RateLimitedError;
  const stack = isWait ? undefined : truncateStack(error.stack);
  if (stack !== undefined) described.stack = stack;
  return described;
}

/** The `at …` frames of a V8 stack, capped as {@link describeError} documents; undefined when there are none. */
function truncateStack(stack: unknown): string | undefined {
  if (typeof stack !== "string") return undefined;
  const frames = stack.split("\n").filter((line) => /^\s*at /.test(line));
  if (frames.length === 0) return undefined;
  const kept: string[] = [];
  let chars = 0;
  for (const frame of frames.slice(0, MAX_STACK_FRAMES)) {
    const line = frame.length > 300 ? `${frame.slice(0, 299)}…` : frame;
    if (chars + line.length + 1 > MAX_STACK_CHARS) break;
    kept.push(line);
    chars += line.length + 1;
  }
  const left = frames.length - kept.length;
  if (left > 0) kept.push(`    … ${left} more ${left === 1 ? "frame" : "frames"}`);
  return kept.join("\n");
}
