/**
 * What a {@link JobFilter} selects, as predicates over a record and a delivery: the one definition the stores that
 * filter in code (memory, and Redis after its index narrowed the candidates) share; SQLite translates the same rules
 * into SQL (`sqlite/query.ts`). Pure: imports only the delivery types and the topic pattern rule.
 */
import type { JobFilter, JobState, RecordWithId } from "../../delivery/types.js";
import { topicMatches } from "../../topics/index.js";
import { filterStates } from "../job-helpers.js";

/** The record fields a filter looks at. */
export type FilterableRecord = Pick<
  RecordWithId,
  "queue" | "topic" | "appId" | "notificationId" | "itemId" | "id" | "receivedAt"
>;

/** Whether a record passes the record part of `filter` (queue, topic pattern, ids, receive-time range). */
export function recordMatchesFilter(record: FilterableRecord, filter: JobFilter): boolean {
  if (filter.queue !== undefined && record.queue !== filter.queue) return false;
  if (filter.topic !== undefined && !topicMatches(filter.topic, record.topic)) return false;
  if (filter.appId !== undefined && record.appId !== filter.appId) return false;
  if (filter.notificationId !== undefined && record.notificationId !== filter.notificationId) return false;
  if (filter.itemId !== undefined && record.itemId !== filter.itemId) return false;
  if (filter.recordId !== undefined && record.id !== filter.recordId) return false;
  if (filter.since !== undefined && record.receivedAt < filter.since) return false;
  if (filter.until !== undefined && record.receivedAt >= filter.until) return false;
  return true;
}

/** Whether a delivery passes the delivery part of `filter` (state, target). */
export function jobMatchesFilter(job: { state: JobState; target: string }, filter: JobFilter): boolean {
  const states = filterStates(filter);
  if (states && !states.includes(job.state)) return false;
  if (filter.target !== undefined && job.target !== filter.target) return false;
  return true;
}

/** Whether a filter has a delivery part (so a record only matches through one of its deliveries). */
export function hasJobFilter(filter: JobFilter): boolean {
  return filter.state !== undefined || filter.target !== undefined;
}
