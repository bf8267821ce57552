/**
 * Replay of one stored record, the single operation behind `intercom-bridge replay <id>` and the dashboard's
 * "replay notification" button: requeue its finished deliveries (`dead`, `failed`, `done`) oldest first, at most as
 * many as it has, or, with `to`, deliver it once more to a handler under a new name (a handler renamed in a deploy).
 * Both callers get the same outcome and the same messages. Depends only on the operator parts of the store contract;
 * must not import a store implementation, a framework or the CLI.
 */
import { DEFAULTS } from "../config/options.js";
import { orderingKeyOf } from "../delivery/ordering-key.js";
import type { JobState, QueueName, RecordDetail, RetryPolicy } from "../delivery/types.js";
import type { StoreAdmin, StoreReader } from "./store.js";

/** The states a replay makes due again. */
export const REPLAYABLE_STATES: readonly JobState[] = ["dead", "failed", "done"];

/** Options of {@link replayRecord}. */
export interface ReplayOptions {
  /** Only records of this queue count as found (the dashboard replays notifications, i.e. `inbound`). */
  queue?: QueueName;
  /**
   * Deliver the record to this handler or forward-target name as a new delivery (due now), instead of requeueing its
   * existing deliveries: for a handler renamed in a deploy, whose old deliveries dead-letter with
   * `IB_ERR_HANDLER_MISSING`.
   */
  to?: string;
  /** Retry policy of the delivery `to` creates. @defaultValue the default policy (8 attempts, exponential from 1 s) */
  retry?: RetryPolicy;
}

/** What {@link replayRecord} did; `message` is the one sentence to show an operator. */
export type ReplayResult =
  | { status: "requeued"; requeued: number; skipped: { target: string; state: JobState }[]; message: string }
  | { status: "delivered"; jobIds: string[]; message: string }
  | { status: "not-found" | "nothing-to-replay" | "busy" | "already-delivered"; message: string };

/** "1 delivery", "2 deliveries". */
function deliveries(n: number): string {
  return `${n} deliver${n === 1 ? "y" : "ies"}`;
}

/** The name operators know a record by: Intercom's notification id, else the store's record id. */
function nameOf(detail: RecordDetail): string {
  return detail.record.notificationId ?? detail.record.id;
}

/**
 * Replays the record `recordId` (see the file comment). Never throws for an operator's mistake: an unknown record, a
 * record without deliveries, or one whose deliveries are all pending or running come back as a status with a message.
 */
export async function replayRecord(
  store: Pick<StoreReader, "getRecord"> & Pick<StoreAdmin, "requeueMany" | "addDeliveries">,
  recordId: string,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const detail = await store.getRecord(recordId);
  if (!detail || (options.queue !== undefined && detail.record.queue !== options.queue)) {
    return { status: "not-found", message: `No notification with id "${recordId}"` };
  }
  if (options.to !== undefined) return deliverTo(store, detail, options.to, options.retry ?? DEFAULTS.retry);
  if (detail.jobs.length === 0) {
    return {
      status: "nothing-to-replay",
      message: "This notification has no deliveries to replay (no handler matched its topic)",
    };
  }
  const skipped = detail.jobs
    .filter((j) => !REPLAYABLE_STATES.includes(j.state))
    .map((j) => ({ target: j.target, state: j.state }));
  if (skipped.length === detail.jobs.length) {
    return {
      status: "busy",
      message: "Every delivery of this notification is pending or running; replay it once they finish",
    };
  }
  // Capped at what the record had when read: a delivery added meanwhile is not replayed along unasked.
  const requeued = await store.requeueMany({ recordId: detail.record.id, limit: detail.jobs.length });
  const skippedText = skipped.length
    ? ` Skipped, already queued or running: ${skipped.map((s) => `${s.target} (${s.state})`).join(", ")}.`
    : "";
  return {
    status: "requeued",
    requeued,
    skipped,
    message: `Requeued ${deliveries(requeued)} of ${nameOf(detail)}.${skippedText}`,
  };
}

async function deliverTo(
  store: Pick<StoreAdmin, "addDeliveries">,
  detail: RecordDetail,
  to: string,
  retry: RetryPolicy,
): Promise<ReplayResult> {
  const existing = detail.jobs.find((j) => j.target === to);
  if (existing) {
    return {
      status: "already-delivered",
      message: `${nameOf(detail)} already has a delivery to "${to}" (${existing.state}); replay it without --to`,
    };
  }
  const { record } = detail;
  const orderingKey = orderingKeyOf(to, record.appId, record.itemId);
  const jobIds = await store.addDeliveries(record.id, [{ target: to, retry, orderingKey }]);
  return { status: "delivered", jobIds, message: `Delivering ${nameOf(detail)} to "${to}" (delivery ${jobIds[0]}).` };
}
