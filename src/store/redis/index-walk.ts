/**
 * Which records a listing, count or bulk requeue looks at, newest first: picks the most selective of our
 * lexicographic indices for a filter (record id > notification > item > target > app > topic > group > queue > all),
 * or BullMQ's small non-completed sets when the filter excludes `done`, and yields candidate groups a page at a time.
 * Reads only index keys; resolving candidates into rows is the reader's job. Must not write.
 */
import type { Queue } from "bullmq";
import type { JobFilter, JobState, QueueName } from "../../delivery/types.js";
import { QUEUE_NAMES, filterStates, parseJobId } from "../job-helpers.js";
import type { RedisConnection } from "./connection.js";
import type { RedisKeys } from "./keys.js";
import { range, timeBound, type RedisJobData } from "./model.js";

/** Index entries read per round trip. */
const BATCH = 200;

/** A group of candidate deliveries of one record, in listing order (`indices` undefined: all of them). */
export interface Candidate {
  recordId: string;
  indices?: number[];
}

/** Where a page continues: after this record (and, for deliveries, below this delivery index). */
export interface After {
  recordId: string;
  index: number | null;
}

/** The smaller of two exclusive/inclusive lex upper bounds. */
function minLex(a: string, b: string): string {
  if (a === "+") return b;
  if (b === "+") return a;
  return a.slice(1) <= b.slice(1) ? a : b;
}

/** Groups job ids (already in listing order) by record. */
function groupByRecord(ids: Iterable<{ recordId: string; index: number }>): Candidate[] {
  const groups: Candidate[] = [];
  for (const x of ids) {
    const last = groups.at(-1);
    if (last && last.recordId === x.recordId) last.indices?.push(x.index);
    else groups.push({ recordId: x.recordId, indices: [x.index] });
  }
  return groups;
}

/** Walks indices for one store. */
export class IndexWalk {
  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly queues: Record<QueueName, Queue<RedisJobData>>,
  ) {}

  /**
   * Candidate records (newest first) with the deliveries to consider, from the most selective index for the filter.
   * Each page reads {@link BATCH} index entries at a time.
   */
  async *candidates(filter: JobFilter, after?: After): AsyncGenerator<Candidate[]> {
    const states = filterStates(filter);
    const liveOnly = states !== undefined && !states.includes("done");
    if (filter.recordId !== undefined) {
      if (after && after.recordId <= filter.recordId && after.index === null) return;
      yield [
        after && after.recordId === filter.recordId && after.index !== null
          ? { recordId: filter.recordId, indices: range(after.index) }
          : { recordId: filter.recordId },
      ];
      return;
    }
    if (liveOnly) {
      yield* this.liveCandidates(filter, states, after);
      return;
    }
    if (filter.target !== undefined && filter.notificationId === undefined && filter.itemId === undefined) {
      yield* this.targetCandidates(filter, filter.target, after);
      return;
    }
    const min = filter.since !== undefined ? `[${timeBound(filter.since)}` : "-";
    let max = filter.until !== undefined ? `(${timeBound(filter.until)}` : "+";
    const key = this.recordIndexFor(filter);
    if (after) {
      if (after.index !== null && after.index > 0) yield [{ recordId: after.recordId, indices: range(after.index) }];
      max = minLex(max, `(${after.recordId}`);
    }
    for (;;) {
      const members = await this.conn.cmd.zrevrangebylex(key, max, min, "LIMIT", 0, BATCH);
      if (members.length === 0) return;
      yield members.map((recordId) => ({ recordId }));
      if (members.length < BATCH) return;
      max = `(${members.at(-1) ?? ""}`;
    }
  }

  /** The record index that selects fewest records for the filter. */
  private recordIndexFor(filter: JobFilter): string {
    const k = this.keys;
    if (filter.notificationId !== undefined) return k.recordIndex("n", filter.notificationId);
    if (filter.itemId !== undefined) return k.recordIndex("i", filter.itemId);
    if (filter.appId !== undefined) return k.recordIndex("a", filter.appId);
    if (filter.topic !== undefined && filter.topic !== "*" && !filter.topic.endsWith(".*"))
      return k.recordIndex("t", filter.topic);
    if (filter.topic !== undefined && filter.topic.endsWith(".*")) return k.recordIndex("g", filter.topic.slice(0, -2));
    if (filter.queue !== undefined) return k.recordIndex("q", filter.queue);
    return k.recordIndex("all");
  }

  /** Candidates from one target's job index. */
  private async *targetCandidates(filter: JobFilter, target: string, after?: After): AsyncGenerator<Candidate[]> {
    const { cmd } = this.conn;
    const key = this.keys.targetIndex(target);
    const min = filter.since !== undefined ? `[${timeBound(filter.since)}` : "-";
    let max = filter.until !== undefined ? `(${timeBound(filter.until)}` : "+";
    if (after) {
      if (after.index !== null) {
        const same = await cmd.zrangebylex(key, `[${after.recordId}-`, `[${after.recordId}-\xff`);
        const indices = same
          .map((m) => parseJobId(m)?.index ?? -1)
          .filter((i) => i >= 0 && i < (after.index ?? 0))
          .sort((a, b) => b - a);
        if (indices.length > 0) yield [{ recordId: after.recordId, indices }];
      }
      max = minLex(max, `(${after.recordId}-`);
    }
    for (;;) {
      const members = await cmd.zrevrangebylex(key, max, min, "LIMIT", 0, BATCH);
      if (members.length === 0) return;
      const groups = groupByRecord(
        members.map((m) => parseJobId(m)).filter((x): x is { recordId: string; index: number } => x !== undefined),
      );
      for (const g of groups) g.indices?.sort((a, b) => b - a);
      yield groups;
      if (members.length < BATCH) return;
      max = `(${members.at(-1) ?? ""}`;
    }
  }

  /** Candidates for a state filter without `done`: only BullMQ's non-completed sets, usually small. */
  private async *liveCandidates(
    filter: JobFilter,
    states: readonly JobState[],
    after?: After,
  ): AsyncGenerator<Candidate[]> {
    const types = new Set<"wait" | "prioritized" | "delayed" | "active" | "failed">();
    for (const s of states) {
      if (s === "pending" || s === "failed") for (const t of ["wait", "prioritized", "delayed"] as const) types.add(t);
      if (s === "running") types.add("active");
      if (s === "dead") types.add("failed");
    }
    const queues = filter.queue ? [filter.queue] : QUEUE_NAMES;
    const ids = new Set<string>();
    for (const q of queues) {
      if (types.size === 0) break;
      for (const id of await this.queues[q].getRanges([...types], 0, -1, true)) ids.add(id);
    }
    const parsed = [...ids]
      .map((id) => parseJobId(id))
      .filter((x): x is { recordId: string; index: number } => x !== undefined)
      .filter((x) => {
        if (filter.since !== undefined && x.recordId < timeBound(filter.since)) return false;
        if (filter.until !== undefined && x.recordId >= timeBound(filter.until)) return false;
        if (!after) return true;
        if (x.recordId > after.recordId) return false;
        if (x.recordId === after.recordId) return after.index !== null && x.index < after.index;
        return true;
      })
      .sort((a, b) => (a.recordId < b.recordId ? 1 : a.recordId > b.recordId ? -1 : b.index - a.index));
    const groups = groupByRecord(parsed);
    for (let i = 0; i < groups.length; i += BATCH) yield groups.slice(i, i + BATCH);
  }
}
