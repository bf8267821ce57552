/**
 * The Redis store's data model in code: what a BullMQ job carries, how a record hash and a delivery read back, the
 * key-index helpers, and the small conversions every part shares. Pure apart from types: it must not open
 * connections or import BullMQ classes (type imports only).
 */
import type { Job as BullJob } from "bullmq";
import { StoreError } from "../../core/errors.js";
import type { JobError, JobId, JobState, QueueName, RecordWithId, RetryPolicy } from "../../delivery/types.js";
import { jobIdOf } from "../job-helpers.js";
import type { DeliveryInput } from "../store.js";
import type { RedisKeys } from "./keys.js";

/** What a BullMQ job carries. Data, not functions: the retry policy travels with the job. */
export interface RedisJobData {
  recordId: string;
  index: number;
  target: string;
  queue: QueueName;
  orderingKey: string | null;
  /** Record `created_at`: the job's score in its ordering line. */
  orderScore: number;
  retry: RetryPolicy;
}

/** A BullMQ job of ours. */
export type BJob = BullJob<RedisJobData, unknown, string>;

/** What `addBulk` takes for one delivery. */
export interface BullJobSpec {
  name: string;
  data: RedisJobData;
  opts: { jobId: string; attempts: number; backoff: { type: string }; removeOnComplete: false; removeOnFail: false };
}

/** One delivery read back with its BullMQ state. */
export interface JobRow {
  id: JobId;
  recordId: string;
  index: number;
  data: RedisJobData;
  state: JobState;
  attempts: number;
  runAt: number | null;
  updatedAt: number;
  lastError: JobError | null;
}

/** One record's summary fields read back. */
export interface RecordRow {
  id: string;
  queue: QueueName;
  topic: string;
  appId: string | null;
  notificationId: string | null;
  itemId: string | null;
  createdAt: number;
  receivedAt: number;
  jobCount: number;
}

/** The backoff type name our jobs carry; the worker's `backoffStrategy` answers it. */
export const BACKOFF_TYPE = "intercom-bridge";
/** BullMQ encodes delayed scores as `timestamp * 0x1000 + counter` (commands/includes/getDelayedScore.lua). */
export const DELAYED_SCORE_FACTOR = 0x1000;
export const MINUTE_MS = 60_000;

/** A number field of a hash, or null when absent or not a number. */
export function num(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Wraps a driver error into a {@link StoreError} (503 on the webhook route). */
export function toStoreError(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  return new StoreError(`Redis ${what} failed: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Lexicographic lower bound of ids received at or after `ms` (record ids start with 9 base-36 time characters). */
export function timeBound(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString(36).padStart(9, "0");
}

/** Indices `n-1 … 0` (highest first: listing order within a record). */
export function range(n: number): number[] {
  return Array.from({ length: Math.max(0, n) }, (_, i) => n - 1 - i);
}

function groupOf(topic: string): string | null {
  const dot = topic.indexOf(".");
  return dot > 0 ? topic.slice(0, dot) : null;
}

/** The index sorted sets a record's id is in. */
export function recordIndices(
  keys: RedisKeys,
  queue: QueueName,
  topic: string,
  appId: string | null,
  itemId: string | null,
  notificationId: string | null,
): string[] {
  const indices = [keys.recordIndex("all"), keys.recordIndex("q", queue), keys.recordIndex("t", topic)];
  const group = groupOf(topic);
  if (group !== null) indices.push(keys.recordIndex("g", group));
  if (appId !== null) indices.push(keys.recordIndex("a", appId));
  if (itemId !== null) indices.push(keys.recordIndex("i", itemId));
  if (notificationId !== null) indices.push(keys.recordIndex("n", notificationId));
  return indices;
}

/** The BullMQ job of delivery `index` of a record: deterministic id, attempts and our custom backoff. */
export function bullJob(
  recordId: string,
  index: number,
  queue: QueueName,
  createdAt: number,
  d: DeliveryInput,
): BullJobSpec {
  return {
    name: d.target,
    data: {
      recordId,
      index,
      target: d.target,
      queue,
      orderingKey: d.orderingKey,
      orderScore: createdAt,
      retry: d.retry,
    },
    opts: {
      jobId: jobIdOf(recordId, index),
      attempts: d.retry.maxAttempts,
      backoff: { type: BACKOFF_TYPE },
      removeOnComplete: false,
      removeOnFail: false,
    },
  };
}

/** A record hash's summary fields, or undefined when it is not one of ours. */
export function rowOf(id: string, h: Record<string, string>): RecordRow | undefined {
  if (h.q !== "inbound" && h.q !== "outbox") return undefined;
  return {
    id,
    queue: h.q,
    topic: h.topic ?? "",
    appId: h.app ?? null,
    notificationId: h.nid ?? null,
    itemId: h.item ?? null,
    createdAt: num(h.ca) ?? 0,
    receivedAt: num(h.ra) ?? 0,
    jobCount: num(h.jc) ?? 0,
  };
}

/** A full record hash as the record a handler receives. */
export function toRecord(id: string, h: Record<string, string>): RecordWithId | undefined {
  const row = rowOf(id, h);
  if (!row || h.body === undefined) return undefined;
  const record: RecordWithId = {
    id,
    queue: row.queue,
    topic: row.topic,
    body: h.body,
    appId: row.appId,
    notificationId: row.notificationId,
    itemId: row.itemId,
    createdAt: row.createdAt,
    receivedAt: row.receivedAt,
  };
  if (h.b64 !== undefined) record.bodyBase64 = h.b64;
  if (h.hdr) record.headers = JSON.parse(h.hdr) as Record<string, string>;
  return record;
}
