/**
 * Group commit for the PostgreSQL store's `enqueue`: the enqueues of one event-loop turn go to the database as ONE
 * statement (multi-row inserts from arrays, `unnest`), which is its own transaction: one round trip, one commit, with
 * `synchronous_commit` forced on for it, so no promise resolves before its WAL record is flushed. The statement
 * claims each dedupe key (`INSERT … ON CONFLICT DO UPDATE … WHERE expired`), and inserts records and jobs only for the
 * keys it won, so "seen" and "queued" commit together. Several batches may be in flight on different connections;
 * what arrives meanwhile joins the next batch. If a batch fails, its items are tried again one by one, so a bad item
 * fails alone.
 *
 * Internal to the PostgreSQL store.
 */
import type { Pool } from "pg";
import type { Clock } from "../../core/clock.js";
import { StoreError } from "../../core/errors.js";
import type { QueueName } from "../../delivery/types.js";
import { createRecordIdGenerator, jobIdOf } from "../job-helpers.js";
import type { EnqueueInput, EnqueueResult } from "../store.js";
import { prepared, query, type Prepared } from "./sql.js";

/** Options of {@link EnqueueBatcher}. */
export interface EnqueueBatcherOptions {
  pool: Pool;
  /** The quoted schema name. */
  schema: string;
  clock: Clock;
  /** Most enqueues in one statement. */
  maxBatchSize: number;
  /** Batches committing at once (each on its own connection). */
  maxInFlight: number;
  /** Called after a commit that made jobs of these queues due. */
  onEnqueued(queues: ReadonlySet<QueueName>): void;
}

interface Pending {
  input: EnqueueInput;
  resolve(r: EnqueueResult): void;
  reject(e: unknown): void;
}

/** Batches enqueues into one statement per event-loop turn. */
export class EnqueueBatcher {
  private batch: Pending[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly nextRecordId = createRecordIdGenerator();
  private readonly sql: Prepared;

  constructor(private readonly o: EnqueueBatcherOptions) {
    this.sql = prepared(enqueueSql(o.schema));
  }

  /** Queues one (validated) enqueue for the next batch. */
  enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    return new Promise<EnqueueResult>((resolve, reject) => {
      this.batch.push({ input, resolve, reject });
      if (this.batch.length >= this.o.maxBatchSize) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Sends what is waiting now (up to the in-flight limit). */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    if (this.batch.length === 0 || this.inFlight.size >= this.o.maxInFlight) return;
    const items = this.batch.splice(0, this.o.maxBatchSize);
    const sent = this.commit(items).finally(() => {
      this.inFlight.delete(sent);
      if (this.batch.length > 0) this.flush();
    });
    this.inFlight.add(sent);
  }

  /** Resolves once every waiting and in-flight batch has been answered. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0 || this.batch.length > 0) {
      await Promise.all(this.inFlight);
      this.flush();
    }
  }

  private async commit(items: Pending[]): Promise<void> {
    // The same key twice in one batch: only the first goes to the database; the others are its duplicates.
    const leaders: Pending[] = [];
    const followers = new Map<Pending, Pending[]>();
    const byKey = new Map<string, Pending>();
    for (const item of items) {
      const key = `${item.input.record.queue}\n${item.input.dedupeKey}`;
      const leader = byKey.get(key);
      if (leader) followers.get(leader)!.push(item);
      else {
        byKey.set(key, item);
        followers.set(item, []);
        leaders.push(item);
      }
    }
    const settle = (leader: Pending, outcome: { ok: EnqueueResult } | { error: unknown }): void => {
      if ("ok" in outcome) {
        leader.resolve(outcome.ok);
        for (const f of followers.get(leader)!) f.resolve({ status: "duplicate", recordId: outcome.ok.recordId });
      } else {
        leader.reject(outcome.error);
        for (const f of followers.get(leader)!) f.reject(outcome.error);
      }
    };
    const woken = new Set<QueueName>();
    try {
      const results = await this.run(leaders.map((l) => l.input));
      leaders.forEach((l, i) => settle(l, { ok: results[i]! }));
      results.forEach((r, i) => {
        if (r.status === "enqueued" && r.jobIds.length > 0) woken.add(leaders[i]!.input.record.queue);
      });
    } catch (error) {
      if (leaders.length === 1) settle(leaders[0]!, { error });
      else {
        // One bad item must not fail the others: each alone, in its own statement.
        await Promise.all(
          leaders.map(async (l) => {
            try {
              const [r] = await this.run([l.input]);
              settle(l, { ok: r! });
              if (r!.status === "enqueued" && r!.jobIds.length > 0) woken.add(l.input.record.queue);
            } catch (e) {
              settle(l, { error: e });
            }
          }),
        );
      }
    }
    if (woken.size > 0) this.o.onEnqueued(woken);
  }

  /** One statement for `inputs` (distinct keys); resolves after its commit. */
  private async run(inputs: readonly EnqueueInput[]): Promise<EnqueueResult[]> {
    const now = this.o.clock.now();
    const ids = inputs.map(() => this.nextRecordId(now));
    const cols = {
      i: [] as number[],
      queue: [] as string[],
      key: [] as string[],
      expires: [] as number[],
      topic: [] as string[],
      app: [] as (string | null)[],
      notif: [] as (string | null)[],
      item: [] as (string | null)[],
      created: [] as number[],
      headers: [] as (string | null)[],
      body: [] as string[],
      bodyBase64: [] as (string | null)[],
    };
    const jobs = {
      i: [] as number[],
      idx: [] as number[],
      target: [] as string[],
      key: [] as (string | null)[],
      max: [] as number[],
      type: [] as string[],
      delay: [] as number[],
      jitter: [] as (number | null)[],
      maxDelay: [] as (number | null)[],
    };
    inputs.forEach((input, i) => {
      const r = input.record;
      cols.i.push(i);
      cols.queue.push(r.queue);
      cols.key.push(input.dedupeKey);
      cols.expires.push(now + input.dedupeTtlMs);
      cols.topic.push(r.topic);
      cols.app.push(r.appId);
      cols.notif.push(r.notificationId);
      cols.item.push(r.itemId);
      cols.created.push(r.createdAt);
      cols.headers.push(r.headers === undefined ? null : JSON.stringify(r.headers));
      cols.body.push(r.body);
      cols.bodyBase64.push(r.bodyBase64 ?? null);
      input.deliveries.forEach((d, idx) => {
        jobs.i.push(i);
        jobs.idx.push(idx);
        jobs.target.push(d.target);
        jobs.key.push(d.orderingKey);
        jobs.max.push(d.retry.maxAttempts);
        jobs.type.push(d.retry.backoff.type);
        jobs.delay.push(d.retry.backoff.delayMs);
        jobs.jitter.push(d.retry.backoff.jitter ?? null);
        jobs.maxDelay.push(d.retry.backoff.maxDelayMs ?? null);
      });
    });
    const rows = await query<{ i: number; inserted: boolean; record_id: string | null }>(
      this.o.pool,
      "enqueue",
      this.sql,
      [
        cols.i,
        cols.queue,
        cols.key,
        ids,
        cols.expires,
        cols.topic,
        cols.app,
        cols.notif,
        cols.item,
        cols.created,
        cols.headers,
        cols.body,
        now,
        jobs.i,
        jobs.idx,
        jobs.target,
        jobs.key,
        jobs.max,
        jobs.type,
        jobs.delay,
        jobs.jitter,
        jobs.maxDelay,
        cols.bodyBase64,
      ],
    );
    const results: EnqueueResult[] = inputs.map(() => ({ status: "duplicate", recordId: null }));
    for (const row of rows) {
      const input = inputs[row.i];
      if (!input) continue;
      results[row.i] = row.inserted
        ? {
            status: "enqueued",
            recordId: ids[row.i]!,
            jobIds: input.deliveries.map((_, idx) => jobIdOf(ids[row.i]!, idx)),
          }
        : { status: "duplicate", recordId: row.record_id };
    }
    if (rows.length !== inputs.length) throw new StoreError("PostgreSQL enqueue: the batch answered incompletely");
    return results;
  }
}

/** The batch statement: dedupe claims, records and jobs from parallel arrays, in one implicit transaction. */
export function enqueueSql(s: string): string {
  return `WITH sc AS (SELECT set_config('synchronous_commit', 'on', true) AS v),
input AS (
  SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::bigint[], $11::text[], $12::text[], $23::text[])
    AS t(i, queue, key, id, expires_at, topic, app_id, notification_id, item_id, created_at, headers, body, body_base64)
),
d AS (
  INSERT INTO ${s}.dedupe AS x (queue, key, record_id, expires_at)
  SELECT queue, key, id, expires_at FROM input
  ON CONFLICT (queue, key) DO UPDATE SET record_id = excluded.record_id, expires_at = excluded.expires_at
    WHERE x.expires_at <= $13
  RETURNING x.record_id
),
rec AS (
  INSERT INTO ${s}.records (id, queue, topic, app_id, notification_id, item_id, created_at, received_at, headers, body,
    body_base64)
  SELECT i.id, i.queue, i.topic, i.app_id, i.notification_id, i.item_id, i.created_at, $13, i.headers, i.body,
    i.body_base64
  FROM input i JOIN d ON d.record_id = i.id ORDER BY i.i
  RETURNING seq, id, queue, created_at
),
jb AS (
  INSERT INTO ${s}.jobs (record_seq, idx, queue, target, ordering_key, order_created_at, order_received_at, state,
    attempts, max_attempts, backoff_type, backoff_delay_ms, backoff_jitter, backoff_max_ms, run_at, updated_at)
  SELECT rec.seq, t.idx, rec.queue, t.target, t.okey, rec.created_at, $13, 'pending', 0, t.max, t.btype, t.bdelay,
    t.bjitter, t.bmax, $13, $13
  FROM unnest($14::int[], $15::int[], $16::text[], $17::text[], $18::int[], $19::text[], $20::bigint[],
              $21::float8[], $22::bigint[]) AS t(i, idx, target, okey, max, btype, bdelay, bjitter, bmax)
  JOIN input i ON i.i = t.i JOIN rec ON rec.id = i.id
  ORDER BY rec.seq, t.idx
  RETURNING 1
)
SELECT i.i, d.record_id IS NOT NULL AS inserted, coalesce(d.record_id, old.record_id) AS record_id,
  (SELECT count(*) FROM jb) AS jobs, sc.v
FROM input i CROSS JOIN sc
LEFT JOIN d ON d.record_id = i.id
LEFT JOIN ${s}.dedupe old ON d.record_id IS NULL AND old.queue = i.queue AND old.key = i.key`;
}
