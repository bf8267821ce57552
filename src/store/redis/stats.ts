/**
 * The Redis store's numbers for the dashboard overview and metrics: counts per queue and state from BullMQ's
 * `getJobCounts()` plus our `retrying` set (BullMQ has no pending/failed split), the oldest due delivery, and the
 * received-per-bucket histogram (from per-minute counters when aligned, else from the record index). Read-only.
 */
import type { Queue } from "bullmq";
import type { QueueName, QueueStats, ReceivedBucket } from "../../delivery/types.js";
import { QUEUE_NAMES, emptyStats } from "../job-helpers.js";
import type { RedisConnection } from "./connection.js";
import type { RedisKeys } from "./keys.js";
import { HistogramCounter } from "../shared/histogram.js";
import { DELAYED_SCORE_FACTOR, MINUTE_MS, num, timeBound, type RedisJobData } from "./model.js";

/** See {@link Store.stats}. BullMQ `getJobCounts` plus our `retrying` set to split pending from failed. */
export async function readStats(
  conn: RedisConnection,
  keys: RedisKeys,
  queues: Record<QueueName, Queue<RedisJobData>>,
): Promise<QueueStats> {
  const { cmd } = conn;
  const stats = emptyStats();
  for (const q of QUEUE_NAMES) {
    const queue = queues[q];
    const c = await queue.getJobCounts("wait", "prioritized", "delayed", "active", "completed", "failed");
    const retrying = await cmd.scard(keys.retrying(q));
    const waiting = (c.wait ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0);
    const failed = Math.min(retrying, waiting);
    stats.counts[q] = {
      pending: waiting - failed,
      running: c.active ?? 0,
      failed,
      done: c.completed ?? 0,
      dead: c.failed ?? 0,
    };
    const [oldestWaiting] = await cmd.lrange(queue.toKey("wait"), -1, -1);
    const delayed = await cmd.zrange(queue.toKey("delayed"), "0", "0", "WITHSCORES");
    let oldest: number | null = null;
    if (oldestWaiting !== undefined) {
      const [due, ts] = await cmd.hmget(keys.meta(oldestWaiting), "dueAt", "updatedAt");
      oldest = num(due) ?? num(ts);
    }
    if (delayed[1] !== undefined) {
      const at = Math.floor(Number(delayed[1]) / DELAYED_SCORE_FACTOR);
      if (oldest === null || at < oldest) oldest = at;
    }
    stats.oldestDueAt[q] = oldest;
  }
  return stats;
}

/** See {@link Store.receivedHistogram}. Walks the queue's record index from `sinceMs` (ids encode receive time). */
export async function readHistogram(
  conn: RedisConnection,
  keys: RedisKeys,
  queue: QueueName,
  sinceMs: number,
  bucketMs: number,
): Promise<ReceivedBucket[]> {
  const { cmd } = conn;
  const size = Math.max(1, Math.floor(bucketMs));
  if (sinceMs % MINUTE_MS === 0 && size % MINUTE_MS === 0)
    return histogramFromCounters(conn, keys, queue, sinceMs, size);
  const counts = new HistogramCounter(sinceMs, size);
  const key = keys.recordIndex("q", queue);
  let min = `[${timeBound(sinceMs)}`;
  for (;;) {
    const ids = await cmd.zrangebylex(key, min, "+", "LIMIT", 0, 1_000);
    if (ids.length === 0) break;
    const pipe = cmd.pipeline();
    for (const id of ids) pipe.hmget(keys.record(id), "topic", "ra");
    const res = (await pipe.exec()) ?? [];
    res.forEach(([, value]) => {
      const [topic, ra] = (value as (string | null)[]) ?? [];
      const receivedAt = num(ra);
      if (topic === null || topic === undefined || receivedAt === null) return;
      counts.add(receivedAt, topic);
    });
    if (ids.length < 1_000) break;
    min = `(${ids.at(-1) ?? ""}`;
  }
  return counts.buckets();
}

/**
 * The histogram from the per-minute counters the enqueue script keeps (`x:rh:<queue>:<minute>`, topic → count):
 * one HGETALL per minute instead of one read per record, for minute-aligned `sinceMs` and buckets (what the
 * dashboard asks). Counters live `max(dedupeTtlMs, 1 day)`.
 */
async function histogramFromCounters(
  conn: RedisConnection,
  keys: RedisKeys,
  queue: QueueName,
  sinceMs: number,
  size: number,
): Promise<ReceivedBucket[]> {
  const counts = new HistogramCounter(sinceMs, size);
  const minutes: number[] = [];
  for (let m = sinceMs; m <= Date.now(); m += MINUTE_MS) minutes.push(m);
  for (let i = 0; i < minutes.length; i += 1_000) {
    const chunk = minutes.slice(i, i + 1_000);
    const pipe = conn.cmd.pipeline();
    for (const m of chunk) pipe.hgetall(keys.minute(queue, m));
    const replies = (await pipe.exec()) ?? [];
    replies.forEach(([error, value], j) => {
      if (error) throw error;
      for (const [topic, n] of Object.entries((value as Record<string, string> | null) ?? {}))
        counts.add(chunk[j]!, topic, Number(n));
    });
  }
  return counts.buckets();
}
