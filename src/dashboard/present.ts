/**
 * The JSON shapes the dashboard API answers with, and the functions mapping the Store's types to them. Mapped on
 * purpose, so a store change does not silently change the documented API (docs/dashboard-api.md). Secret headers
 * never leave here. Pure; no fastify, no store implementation.
 */
import { failureReason } from "../outbound/bulk-import.js";
import { EVENT_STATE_NAMES } from "../outbound/event-states.js";
import { OUTBOX_PAUSED_MESSAGE_PREFIX } from "../outbound/rate-limit.js";
import type {
  AttemptRecord,
  JobDetail,
  JobError,
  JobState,
  JobSummary,
  QueueName,
  RecordDetail,
  RecordSummary,
  RecordWithId,
} from "../delivery/types.js";

/** One delivery as the API shows it. */
export interface DeliveryView {
  id: string;
  queue: QueueName;
  recordId: string;
  target: string;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  topic: string;
  appId: string | null;
  notificationId: string | null;
  itemId: string | null;
  /** Record `created_at`, unix seconds. */
  createdAt: number;
  /** When the record was stored, epoch ms. */
  receivedAt: number;
  /** Next run, epoch ms, for pending/failed deliveries. */
  runAt: number | null;
  updatedAt: number;
  lastError: JobError | null;
}

/** A delivery with its attempt history. */
export interface DeliveryDetailView extends DeliveryView {
  history: AttemptRecord[];
}

/** A notification (inbound record) row of the table. */
export interface NotificationView {
  id: string;
  topic: string;
  notificationId: string | null;
  itemId: string | null;
  appId: string | null;
  createdAt: number;
  receivedAt: number;
  deliveries: Pick<DeliveryView, "id" | "target" | "state" | "attempts" | "maxAttempts" | "runAt" | "lastError">[];
}

/** A record with its payload, the headers kept for operators and every delivery with its attempts. */
export interface RecordDetailView {
  record: Omit<NotificationView, "deliveries"> & { queue: QueueName };
  /** The body parsed as JSON, or null when it is not JSON (then `rawBody` holds it). */
  payload: unknown;
  rawBody: string | null;
  headers: Record<string, string>;
  deliveries: DeliveryDetailView[];
}

/** An outbound Data Event delivery with Intercom's error, if any. */
export interface OutboundView {
  id: string;
  recordId: string;
  eventName: string;
  /** Contact identifier the event is for. */
  itemId: string | null;
  /** The outbound name of the state, as the CLI and `GET /api/events` use: `pending`, `sending`, `retrying`, `sent`, `failed`. */
  state: string;
  attempts: number;
  maxAttempts: number;
  /** The event's `created_at`, unix seconds. */
  createdAt: number;
  receivedAt: number;
  runAt: number | null;
  updatedAt: number;
  /**
   * The last failed attempt: `reason` is Intercom's HTTP status and error code when Intercom answered (`404 not_found`),
   * else `timeout`, `network error` or the error code; `code` is the recorded error code; `message` the full message
   * (Intercom's message and request id included). Waits for a paused outbox are skipped: while Intercom refuses the
   * token, this is the 401, not "Outbox paused".
   */
  error: { reason: string; code: string | null; message: string } | null;
  /** When the last run only waited for the outbox's pause, what it recorded (`Outbox paused for 60000 ms`); else null. */
  waiting: string | null;
}

// Defensive: stores are told never to keep these, but they must never reach a browser either.
const SECRET_HEADERS = new Set([
  "x-hub-signature",
  "x-hub-signature-256",
  "authorization",
  "cookie",
  "proxy-authorization",
]);

/** Maps a Store job summary (or detail) to the API's delivery shape. */
export function presentDelivery(job: JobSummary): DeliveryView {
  return {
    id: job.id,
    queue: job.queue,
    recordId: job.recordId,
    target: job.target,
    state: job.state,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    topic: job.topic,
    appId: job.appId,
    notificationId: job.notificationId,
    itemId: job.itemId,
    createdAt: job.createdAt,
    receivedAt: job.receivedAt,
    runAt: job.runAt,
    updatedAt: job.updatedAt,
    lastError: job.lastError,
  };
}

/** Maps a Store record summary to a table row. */
export function presentNotification(summary: RecordSummary): NotificationView {
  const r = summary.record;
  return {
    id: r.id,
    topic: r.topic,
    notificationId: r.notificationId,
    itemId: r.itemId,
    appId: r.appId,
    createdAt: r.createdAt,
    receivedAt: r.receivedAt,
    deliveries: summary.jobs.map((j) => ({
      id: j.id,
      target: j.target,
      state: j.state,
      attempts: j.attempts,
      maxAttempts: j.maxAttempts,
      runAt: j.runAt,
      lastError: j.lastError,
    })),
  };
}

/** Maps a Store record detail to the detail view: parsed payload, safe headers, deliveries with history. */
export function presentRecordDetail(detail: RecordDetail): RecordDetailView {
  const r = detail.record;
  const { payload, rawBody } = parseBody(r);
  return {
    record: {
      id: r.id,
      queue: r.queue,
      topic: r.topic,
      notificationId: r.notificationId,
      itemId: r.itemId,
      appId: r.appId,
      createdAt: r.createdAt,
      receivedAt: r.receivedAt,
    },
    payload,
    rawBody,
    headers: safeHeaders(r.headers),
    deliveries: detail.jobs.map(presentDeliveryDetail),
  };
}

/** Maps a job detail to a delivery with its history. */
export function presentDeliveryDetail(job: JobDetail): DeliveryDetailView {
  return { ...presentDelivery(job), history: job.history };
}

/** Maps an outbox job to the outbound events table's row. */
export function presentOutbound(job: JobSummary, intercomError?: JobError): OutboundView {
  const last = job.lastError;
  const shown = intercomError ?? last;
  return {
    id: job.id,
    recordId: job.recordId,
    eventName: job.topic,
    itemId: job.itemId,
    state: EVENT_STATE_NAMES[job.state],
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    createdAt: job.createdAt,
    receivedAt: job.receivedAt,
    runAt: job.runAt,
    updatedAt: job.updatedAt,
    error: shown
      ? {
          reason: failureReason({ ...job, lastError: shown }),
          code: shown.code ?? null,
          message: shown.message,
        }
      : null,
    waiting: last && isPauseWait(last) ? last.message : null,
  };
}

/**
 * True for the error an event records when it only waited for the outbox's pause (its send was never attempted):
 * the reason of the pause (a 401, a 429) is an earlier attempt's error.
 */
export function isPauseWait(error: JobError): boolean {
  return error.code === "IB_ERR_RATE_LIMITED" && error.message.startsWith(OUTBOX_PAUSED_MESSAGE_PREFIX);
}

/** The newest error of `history` that Intercom (or the network) caused, skipping waits for a pause. */
export function lastIntercomError(history: readonly AttemptRecord[]): JobError | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const error = history[i]?.error;
    if (error && !isPauseWait(error)) return error;
  }
  return undefined;
}

function parseBody(r: RecordWithId): { payload: unknown; rawBody: string | null } {
  try {
    return { payload: JSON.parse(r.body) as unknown, rawBody: null };
  } catch {
    return { payload: null, rawBody: r.body };
  }
}

function safeHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (!SECRET_HEADERS.has(k.toLowerCase())) out[k] = v;
  }
  return out;
}
