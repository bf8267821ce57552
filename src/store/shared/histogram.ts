/**
 * Counting records per time bucket and topic for `receivedHistogram`, once: buckets start at `sinceMs` and are
 * `bucketMs` long, and the result is sorted by bucket, then topic. The memory and Redis stores feed it records;
 * SQLite computes the same buckets in SQL. Pure: imports only the delivery types.
 */
import type { ReceivedBucket } from "../../delivery/types.js";

/** Accumulates {@link ReceivedBucket}s. */
export class HistogramCounter {
  private readonly counts = new Map<string, ReceivedBucket>();
  private readonly size: number;

  constructor(
    private readonly sinceMs: number,
    bucketMs: number,
  ) {
    this.size = Math.max(1, Math.floor(bucketMs));
  }

  /** Counts `count` records (default one); records received before `sinceMs` are ignored. */
  add(receivedAt: number, topic: string, count = 1): void {
    if (receivedAt < this.sinceMs) return;
    const bucketStart = this.sinceMs + Math.floor((receivedAt - this.sinceMs) / this.size) * this.size;
    const key = `${bucketStart}\u0000${topic}`;
    const bucket = this.counts.get(key);
    if (bucket) bucket.count += count;
    else this.counts.set(key, { bucketStart, topic, count });
  }

  /** The buckets, oldest first, then by topic. */
  buckets(): ReceivedBucket[] {
    return [...this.counts.values()].sort(
      (a, b) => a.bucketStart - b.bucketStart || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0),
    );
  }
}
