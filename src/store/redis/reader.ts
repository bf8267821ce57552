/**
 * The Redis store's operator read model (BullMQ's `queue-getters.ts` counterpart): records and deliveries read back
 * with their BullMQ state in pipelined round trips, and the listing, counting and detail views built on the index
 * walk. Read-only: it must not write to Redis, and must not import the enqueue or processor parts.
 */
import type { Queue } from "bullmq";
import type {
  AttemptRecord,
  JobDetail,
  JobError,
  JobFilter,
  JobId,
  JobState,
  JobSummary,
  Page,
  QueueName,
  RecordDetail,
  RecordSummary,
} from "../../delivery/types.js";
import { decodeCursor, encodeCursor, jobIdOf, pageLimit, parseJobId, withoutCursor } from "../job-helpers.js";
import { hasJobFilter, jobMatchesFilter, recordMatchesFilter } from "../shared/filter.js";
import type { RedisConnection } from "./connection.js";
import { IndexWalk, type After, type Candidate } from "./index-walk.js";
import type { RedisKeys } from "./keys.js";
import {
  DELAYED_SCORE_FACTOR,
  num,
  range,
  rowOf,
  toRecord,
  toStoreError,
  type JobRow,
  type RecordRow,
  type RedisJobData,
} from "./model.js";

const SUMMARY_RECORD_FIELDS = ["q", "topic", "app", "nid", "item", "ca", "ra", "jc"] as const;
const JOB_FIELDS = ["data", "atm", "timestamp", "processedOn", "finishedOn", "failedReason"] as const;
const META_FIELDS = ["dueAt", "updatedAt", "lastError"] as const;

/** A matching record with its deliveries and which of them the candidate named. */
export interface Resolved {
  rec: RecordRow;
  jobs: JobRow[];
  considered: number[];
}

/** Whether a delivery passes the delivery part of a filter (state, target). */
function jobMatches(job: JobRow, filter: JobFilter): boolean {
  return jobMatchesFilter({ state: job.state, target: job.data.target }, filter);
}

/** The listing shape of one delivery. */
function summaryOf(job: JobRow, rec: RecordRow): JobSummary {
  return {
    id: job.id,
    queue: rec.queue,
    recordId: rec.id,
    target: job.data.target,
    state: job.state,
    attempts: job.attempts,
    maxAttempts: job.data.retry.maxAttempts,
    topic: rec.topic,
    appId: rec.appId,
    notificationId: rec.notificationId,
    itemId: rec.itemId,
    createdAt: rec.createdAt,
    receivedAt: rec.receivedAt,
    runAt: job.runAt,
    updatedAt: job.updatedAt,
    lastError: job.lastError,
  };
}

/** Reads for one store. */
export class RedisReader {
  readonly walk: IndexWalk;

  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly queues: Record<QueueName, Queue<RedisJobData>>,
  ) {
    this.walk = new IndexWalk(conn, keys, queues);
  }

  /** Record hashes by id (summary fields only unless `withBody`); missing ids are left out. */
  async readRecords(ids: readonly string[], withBody: boolean): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    if (ids.length === 0) return out;
    const pipe = this.conn.cmd.pipeline();
    for (const id of ids) {
      if (withBody) pipe.hgetall(this.keys.record(id));
      else pipe.hmget(this.keys.record(id), ...SUMMARY_RECORD_FIELDS);
    }
    const res = (await pipe.exec()) ?? [];
    ids.forEach((id, i) => {
      const [err, value] = res[i] ?? [null, null];
      if (err) throw toStoreError(err, "read");
      if (withBody) {
        const h = value as Record<string, string>;
        if (h && Object.keys(h).length > 0) out.set(id, h);
      } else {
        const arr = value as (string | null)[];
        if (arr && arr[0] !== null) {
          const h: Record<string, string> = {};
          SUMMARY_RECORD_FIELDS.forEach((f, j) => {
            const v = arr[j];
            if (v !== null && v !== undefined) h[f] = v;
          });
          out.set(id, h);
        }
      }
    });
    return out;
  }

  /** Reads deliveries with their BullMQ state, pipelined. Missing ids are left out. */
  async readJobs(ids: readonly { id: string; queue: QueueName }[]): Promise<Map<string, JobRow>> {
    const out = new Map<string, JobRow>();
    if (ids.length === 0) return out;
    const pipe = this.conn.cmd.pipeline();
    for (const { id, queue } of ids) {
      const q = this.queues[queue];
      pipe.hmget(q.toKey(id), ...JOB_FIELDS);
      pipe.zscore(q.toKey("completed"), id);
      pipe.zscore(q.toKey("failed"), id);
      pipe.zscore(q.toKey("delayed"), id);
      pipe.lpos(q.toKey("active"), id);
      pipe.hmget(this.keys.meta(id), ...META_FIELDS);
    }
    const res = (await pipe.exec()) ?? [];
    const now = Date.now();
    ids.forEach(({ id }, i) => {
      const at = (j: number): unknown => {
        const entry = res[i * 6 + j];
        if (entry?.[0]) throw toStoreError(entry[0], "read");
        return entry?.[1];
      };
      const fields = at(0) as (string | null)[];
      if (!fields || fields[0] === null) return;
      const [dataJson, atm, timestamp, processedOn, finishedOn, failedReason] = fields;
      const completed = at(1) as string | null;
      const failed = at(2) as string | null;
      const delayed = at(3) as string | null;
      const active = at(4) as number | null;
      const [dueAt, updatedAt, lastErrorJson] = at(5) as (string | null)[];
      const data = JSON.parse(dataJson ?? "{}") as RedisJobData;
      const made = num(atm) ?? 0;
      let state: JobState;
      if (completed !== null) state = "done";
      else if (failed !== null) state = "dead";
      else if (active !== null) state = "running";
      else state = made > 0 ? "failed" : "pending";
      let runAt: number | null = null;
      if (state === "pending" || state === "failed") {
        runAt =
          delayed !== null ? Math.floor(Number(delayed) / DELAYED_SCORE_FACTOR) : (num(dueAt) ?? num(timestamp) ?? now);
      }
      let lastError: JobError | null = null;
      if (lastErrorJson) lastError = JSON.parse(lastErrorJson) as JobError;
      else if (failedReason) lastError = { name: "Error", message: failedReason };
      out.set(id, {
        id,
        recordId: data.recordId,
        index: data.index,
        data,
        state,
        attempts: state === "running" ? made + 1 : made,
        runAt,
        updatedAt: num(updatedAt) ?? num(finishedOn) ?? num(processedOn) ?? num(timestamp) ?? now,
        lastError,
      });
    });
    return out;
  }

  private async histories(ids: readonly string[]): Promise<Map<string, AttemptRecord[]>> {
    const out = new Map<string, AttemptRecord[]>();
    if (ids.length === 0) return out;
    const pipe = this.conn.cmd.pipeline();
    for (const id of ids) pipe.lrange(this.keys.history(id), 0, -1);
    const res = (await pipe.exec()) ?? [];
    ids.forEach((id, i) =>
      out.set(
        id,
        ((res[i]?.[1] as string[] | undefined) ?? []).map((s) => JSON.parse(s) as AttemptRecord),
      ),
    );
    return out;
  }

  /** See {@link Store.getJob}. */
  async getJob(id: JobId): Promise<JobDetail | undefined> {
    const parsed = parseJobId(id);
    if (!parsed) return undefined;
    const detail = await this.getRecord(parsed.recordId, [parsed.index]);
    return detail?.jobs[0];
  }

  /** See {@link Store.getRecord}; `only` limits the deliveries read. */
  async getRecord(recordId: string, only?: number[]): Promise<RecordDetail | undefined> {
    const hash = (await this.readRecords([recordId], true)).get(recordId);
    if (!hash) return undefined;
    const record = toRecord(recordId, hash);
    if (!record) return undefined;
    const jc = num(hash.jc) ?? 0;
    const indices = only ?? Array.from({ length: jc }, (_, i) => i);
    const ids = indices.filter((i) => i >= 0 && i < jc).map((i) => jobIdOf(recordId, i));
    const rows = await this.readJobs(ids.map((id) => ({ id, queue: record.queue })));
    const hist = await this.histories(ids);
    const rec = rowOf(recordId, hash);
    if (!rec) return undefined;
    const jobs: JobDetail[] = [];
    for (const id of ids) {
      const row = rows.get(id);
      if (!row) continue;
      jobs.push({ ...summaryOf(row, rec), record, history: hist.get(id) ?? [] });
    }
    return { record, jobs };
  }

  /** Resolves candidate groups to matching records with all their deliveries read. */
  async resolve(groups: Candidate[], filter: JobFilter): Promise<Resolved[]> {
    const recs = await this.readRecords(
      groups.map((g) => g.recordId),
      false,
    );
    const wanted: { id: string; queue: QueueName }[] = [];
    const rows: { rec: RecordRow; considered: number[] }[] = [];
    for (const g of groups) {
      const hash = recs.get(g.recordId);
      const rec = hash ? rowOf(g.recordId, hash) : undefined;
      if (!rec || !recordMatchesFilter(rec, filter)) continue;
      const considered = g.indices ?? range(rec.jobCount);
      rows.push({ rec, considered });
      for (let i = 0; i < rec.jobCount; i++) wanted.push({ id: jobIdOf(rec.id, i), queue: rec.queue });
    }
    const jobs = await this.readJobs(wanted);
    return rows.map(({ rec, considered }) => ({
      rec,
      considered,
      jobs: range(rec.jobCount)
        .map((i) => jobs.get(jobIdOf(rec.id, i)))
        .filter((j): j is JobRow => j !== undefined),
    }));
  }

  /** Every delivery the filter selects, newest first, with its record (cursor ignored). */
  async *matching(filter: JobFilter): AsyncGenerator<{ row: JobRow; rec: RecordRow }> {
    for await (const groups of this.walk.candidates(withoutCursor(filter))) {
      for (const { rec, jobs, considered } of await this.resolve(groups, filter)) {
        const allowed = new Set(considered);
        for (const job of jobs) if (allowed.has(job.index) && jobMatches(job, filter)) yield { row: job, rec };
      }
    }
  }

  /** See {@link Store.listJobs}. */
  async listJobs(filter: JobFilter): Promise<Page<JobSummary>> {
    const limit = pageLimit(filter);
    let after: After | undefined;
    if (filter.cursor !== undefined) {
      const [recordId, index] = decodeCursor(filter.cursor);
      after = { recordId: String(recordId), index: Number(index) };
    }
    const items: JobSummary[] = [];
    let last: JobRow | undefined;
    for await (const groups of this.walk.candidates(filter, after)) {
      for (const { rec, jobs, considered } of await this.resolve(groups, filter)) {
        const allowed = new Set(considered);
        for (const job of jobs) {
          if (!allowed.has(job.index) || !jobMatches(job, filter)) continue;
          if (items.length === limit)
            return { items, nextCursor: last ? encodeCursor([last.recordId, last.index]) : null };
          items.push(summaryOf(job, rec));
          last = job;
        }
      }
    }
    return { items, nextCursor: null };
  }

  /** See {@link Store.listRecords}. */
  async listRecords(filter: JobFilter): Promise<Page<RecordSummary>> {
    const limit = pageLimit(filter);
    let after: After | undefined;
    if (filter.cursor !== undefined) {
      const [recordId] = decodeCursor(filter.cursor);
      after = { recordId: String(recordId), index: null };
    }
    const isJobFiltered = hasJobFilter(filter);
    const items: RecordSummary[] = [];
    for await (const groups of this.walk.candidates(filter, after)) {
      // A record appears once even if several of its deliveries were candidates.
      for (const { rec, jobs } of await this.resolve(
        groups.map((g) => ({ recordId: g.recordId })),
        filter,
      )) {
        if (isJobFiltered && !jobs.some((j) => jobMatches(j, filter))) continue;
        if (items.length === limit) {
          const lastItem = items.at(-1);
          return { items, nextCursor: lastItem ? encodeCursor([lastItem.record.id]) : null };
        }
        const { id, queue, topic, appId, notificationId, itemId, createdAt, receivedAt } = rec;
        items.push({
          record: { id, queue, topic, appId, notificationId, itemId, createdAt, receivedAt },
          jobs: [...jobs].sort((a, b) => a.index - b.index).map((j) => summaryOf(j, rec)),
        });
      }
    }
    return { items, nextCursor: null };
  }

  /** See {@link Store.countJobs}. Walks the same index as {@link listJobs}, so it costs O(matching index size). */
  async countJobs(filter: JobFilter): Promise<number> {
    let n = 0;
    for await (const _ of this.matching(filter)) n++;
    return n;
  }
}
