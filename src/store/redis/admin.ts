/**
 * The Redis store's operator writes: requeue one delivery, requeue many (oldest first, capped), add deliveries to a
 * stored record, and retention's purge of finished records. Requeue uses BullMQ's `job.retry(…, { resetAttemptsMade })`
 * where it can; purge re-checks BullMQ's finished sets atomically in one script. Must not import the enqueue or
 * processor parts.
 */
import type { Queue } from "bullmq";
import { StoreError } from "../../core/errors.js";
import type { JobFilter, JobId, QueueName } from "../../delivery/types.js";
import { jobIdOf, parseJobId, requeueLimit, validateDelivery } from "../job-helpers.js";
import type { DeliveryInput, RequeueResult } from "../store.js";
import type { RedisConnection } from "./connection.js";
import type { RedisKeys } from "./keys.js";
import {
  BACKOFF_TYPE,
  bullJob,
  num,
  recordIndices,
  rowOf,
  timeBound,
  type JobRow,
  type RecordRow,
  type RedisJobData,
} from "./model.js";
import type { RedisReader } from "./reader.js";
import { requeueOldestFirst } from "../shared/requeue-many.js";

/** Records read per purge round. */
const PURGE_PAGE = 500;

/** Operator writes for one store. */
export class RedisAdmin {
  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly queues: Record<QueueName, Queue<RedisJobData>>,
    private readonly reader: RedisReader,
  ) {}

  private async requeueOne(row: JobRow, rec: RecordRow): Promise<RequeueResult> {
    if (row.state === "pending" || row.state === "running") return "conflict";
    const queue = this.queues[rec.queue];
    const job = await queue.getJob(row.id);
    if (!job) return "not-found";
    const now = Date.now();
    try {
      if (row.state === "dead" || row.state === "done") {
        await job.retry(row.state === "dead" ? "failed" : "completed", {
          resetAttemptsMade: true,
          resetAttemptsStarted: true,
        });
      } else {
        // `failed`: waiting for a retry. BullMQ cannot reset attempts of a delayed job, so re-create it (same id).
        await job.remove();
        await queue.add(row.data.target, row.data, {
          jobId: row.id,
          attempts: row.data.retry.maxAttempts,
          backoff: { type: BACKOFF_TYPE },
          removeOnComplete: false,
          removeOnFail: false,
        });
      }
    } catch {
      return "conflict"; // it started running (locked) or changed state meanwhile
    }
    const m = this.conn.cmd
      .multi()
      .hset(this.keys.meta(row.id), { dueAt: now, updatedAt: now, blocked: 0 })
      .hdel(this.keys.meta(row.id), "lastError", "waits")
      .srem(this.keys.retrying(rec.queue), row.id);
    if (row.data.orderingKey !== null)
      m.zadd(this.keys.orderLine(rec.queue, row.data.orderingKey), row.data.orderScore, row.id);
    await m.exec();
    return "requeued";
  }

  /** See {@link Store.requeue}. Dead/done use BullMQ `job.retry(…, { resetAttemptsMade })`. */
  async requeue(id: JobId): Promise<RequeueResult> {
    const parsed = parseJobId(id);
    if (!parsed) return "not-found";
    const [resolved] = await this.reader.resolve([{ recordId: parsed.recordId, indices: [parsed.index] }], {});
    const row = resolved?.jobs.find((j) => j.index === parsed.index);
    if (!resolved || !row) return "not-found";
    return this.requeueOne(row, resolved.rec);
  }

  /** See {@link Store.requeueMany}. */
  async requeueMany(filter: JobFilter): Promise<number> {
    const max = requeueLimit(filter);
    const selected: { row: JobRow; rec: RecordRow }[] = [];
    for await (const match of this.reader.matching(filter)) selected.push(match);
    return requeueOldestFirst(selected, max, async ({ row, rec }) => (await this.requeueOne(row, rec)) === "requeued");
  }

  /** See {@link Store.addDeliveries}. Job ids continue the record's numbering (`<recordId>-<n>`). */
  async addDeliveries(recordId: string, deliveries: readonly DeliveryInput[]): Promise<JobId[]> {
    deliveries.forEach((d, i) => validateDelivery(d, i));
    const { cmd } = this.conn;
    const hash = (await this.reader.readRecords([recordId], false)).get(recordId);
    const rec = hash ? rowOf(recordId, hash) : undefined;
    if (!rec) throw new StoreError(`Record ${recordId} not found`);
    if (deliveries.length === 0) return [];
    const end = await cmd.hincrby(this.keys.record(recordId), "jc", deliveries.length);
    const first = end - deliveries.length;
    const now = Date.now();
    const multi = cmd.multi();
    const jobs = deliveries.map((d, i) => {
      const job = bullJob(recordId, first + i, rec.queue, rec.createdAt, d);
      const jobId = job.opts.jobId;
      multi.zadd(this.keys.targetIndex(d.target), 0, jobId);
      multi.hset(this.keys.meta(jobId), { dueAt: now, updatedAt: now });
      if (d.orderingKey !== null) multi.zadd(this.keys.orderLine(rec.queue, d.orderingKey), rec.createdAt, jobId);
      return job;
    });
    await multi.exec();
    await this.queues[rec.queue].addBulk(jobs);
    return jobs.map((j) => j.opts.jobId);
  }

  /**
   * See {@link Store.purgeRecords}. Walks `x:ri:all` from the oldest id up to the time bound, reads each record's
   * deliveries, and deletes a finished record with one script that re-checks, atomically, that every delivery is in
   * BullMQ's `completed` or `failed` set.
   */
  async purgeRecords(beforeMs: number, limit: number): Promise<number> {
    const { cmd } = this.conn;
    const max = Math.max(0, Math.floor(limit));
    const bound = `(${timeBound(beforeMs)}`;
    let min = "-";
    let purged = 0;
    while (purged < max) {
      const ids = await cmd.zrangebylex(this.keys.recordIndex("all"), min, bound, "LIMIT", 0, PURGE_PAGE);
      if (ids.length === 0) break;
      const records = await this.reader.readRecords(ids, false);
      const refs: { id: string; queue: QueueName }[] = [];
      for (const [id, h] of records) {
        const queue = h.q as QueueName;
        if (!(queue in this.queues)) continue;
        for (let i = 0; i < (num(h.jc) ?? 0); i++) refs.push({ id: jobIdOf(id, i), queue });
      }
      const jobs = await this.reader.readJobs(refs);
      for (const id of ids) {
        if (purged >= max) break;
        const h = records.get(id);
        const queue = h?.q as QueueName | undefined;
        if (!h || !queue || !(queue in this.queues)) continue;
        const jobIds = Array.from({ length: num(h.jc) ?? 0 }, (_, i) => jobIdOf(id, i));
        const rows = jobIds.map((j) => jobs.get(j));
        // A missing delivery (an enqueue that stopped before addBulk) or an unfinished one keeps the record.
        if (rows.some((r) => !r || (r.state !== "done" && r.state !== "dead"))) continue;
        const q = this.queues[queue];
        const indices = recordIndices(this.keys, queue, h.topic ?? "", h.app ?? null, h.item ?? null, h.nid ?? null);
        const keys = [this.keys.record(id), q.toKey("completed"), q.toKey("failed"), ...indices];
        for (const r of rows as JobRow[]) {
          keys.push(
            q.toKey(r.id),
            q.toKey(`${r.id}:logs`),
            this.keys.meta(r.id),
            this.keys.history(r.id),
            this.keys.targetIndex(r.data.target),
          );
        }
        const deleted = await cmd.ibPurgeRecord(keys.length, ...keys, id, indices.length, jobIds.length, ...jobIds);
        if (deleted === 1) purged++;
      }
      if (ids.length < PURGE_PAGE) break;
      min = `(${ids.at(-1)!}`;
    }
    return purged;
  }
}
