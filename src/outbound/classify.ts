/**
 * What one `POST /events` response means for the outbox: sent, rate-limited (pause every sender until the window
 * resets), unauthorized (pause and alert), retry with backoff, or failed for good. A pure function of the response: no
 * I/O.
 */
import type { SendResult } from "./intercom-api.js";

/**
 * What to do after one `POST /events` (facts §2.4, §2.6, STYLE §9):
 * - `sent`: 202 (or any 2xx). Duplicates also answer 202.
 * - `rate-limited`: 429. Pause everyone until `resumeAtMs`; the event is retried without using an attempt.
 * - `unauthorized`: 401/403. The token is wrong or lacks permission: pause everyone, alert; the event waits.
 * - `retry`: 408, 409, 5xx, timeout, network error. Retried with backoff, using an attempt.
 * - `failed`: 400, 404, 406, 422 and other 4xx. Retrying cannot help; keep Intercom's code and message.
 */
export type SendOutcome =
  | { kind: "sent"; status: number }
  | { kind: "rate-limited"; status: 429; resumeAtMs: number }
  | { kind: "unauthorized"; status: 401 | 403; reason: string }
  | { kind: "retry"; status: number | null; reason: string }
  | { kind: "failed"; status: number; code: string; reason: string };

/** Fallback pause after a 429 without `X-RateLimit-Reset` or `Retry-After`, ms. */
export const DEFAULT_RATE_LIMIT_PAUSE_MS = 10_000;

/** Short, token-free text for a send result: `404 not_found: User Not Found (request abc)`. */
export function describeSendResult(r: SendResult): string {
  if (r.status === null) return `${r.transportError ?? "network"} error${r.errorMessage ? `: ${r.errorMessage}` : ""}`;
  const code = r.errorCode ? ` ${r.errorCode}` : "";
  const msg = r.errorMessage ? `: ${r.errorMessage}` : "";
  const req = r.requestId ? ` (request ${r.requestId})` : "";
  return `Intercom ${r.status}${code}${msg}${req}`;
}

/** Maps a {@link SendResult} to a {@link SendOutcome}. Pure. */
export function classifySendResult(r: SendResult, nowMs: number): SendOutcome {
  const reason = describeSendResult(r);
  const status = r.status;
  if (status === null) return { kind: "retry", status: null, reason };
  if (status >= 200 && status < 300) return { kind: "sent", status };
  if (status === 429) {
    // Honour Retry-After when present (undocumented, facts §2.6), else X-RateLimit-Reset.
    const candidates = [r.retryAfterMs !== null ? nowMs + r.retryAfterMs : null, r.rateLimit?.resetAtMs ?? null].filter(
      (x): x is number => x !== null && x > nowMs,
    );
    const resumeAtMs = candidates.length > 0 ? Math.max(...candidates) : nowMs + DEFAULT_RATE_LIMIT_PAUSE_MS;
    return { kind: "rate-limited", status: 429, resumeAtMs };
  }
  if (status === 401 || status === 403) return { kind: "unauthorized", status, reason };
  if (status === 408 || status === 409 || status >= 500) return { kind: "retry", status, reason };
  return { kind: "failed", status, code: r.errorCode ?? String(status), reason };
}
