/**
 * The PostgreSQL store's operator writes and coordination: requeue (one or by filter, oldest first), adding
 * deliveries to a record, retention and dedupe-key purges, and the two things every instance shares through the
 * database: fixed-window rate limiters (one row per limiter, changed under its row lock with the shared rule of
 * `../shared/fixed-window.ts`, so concurrent instances never lose an update) and named sets. Each operation is one
 * statement or one transaction.
 *
 * Internal to the PostgreSQL store.
 */
import type { Pool } from "pg";
import type { Clock } from "../../core/clock.js";
import { StoreError } from "../../core/errors.js";
import type { JobFilter, JobId, QueueName } from "../../delivery/types.js";
import { jobIdOf, parseJobId, requeueLimit, validateDelivery, withoutCursor } from "../job-helpers.js";
import {
  acquireFixedWindow,
  EMPTY_WINDOW,
  pauseFixedWindow,
  viewFixedWindow,
  type FixedWindowState,
} from "../shared/fixed-window.js";
import type { DeliveryInput, RequeueResult, SharedLimiter } from "../store.js";
import { Params, SEQ_BOUND_SLACK_MS, type PgReader } from "./reads.js";
import { query, transaction } from "./sql.js";

const DEDUPE_PURGE_CHUNK = 10_000;

/** Operator writes, limiters and sets over one schema. */
export class PgAdmin {
  constructor(
    private readonly pool: Pool,
    /** The quoted schema name. */
    private readonly s: string,
    private readonly clock: Clock,
    private readonly reader: PgReader,
    /** Called when work of these queues became due. */
    private readonly wake: (queues: Iterable<QueueName>) => void,
  ) {}

  /** See {@link Store.requeue}. */
  async requeue(id: JobId): Promise<RequeueResult> {
    const parsed = parseJobId(id);
    if (!parsed) return "not-found";
    const now = this.clock.now();
    const rows = await query<{ queue: QueueName | null; found: boolean }>(
      this.pool,
      "requeue",
      `WITH target AS (
         SELECT j.seq FROM ${this.s}.jobs j JOIN ${this.s}.records r ON r.seq = j.record_seq WHERE r.id = $1 AND j.idx = $2
       ), u AS (
         UPDATE ${this.s}.jobs j SET state = 'pending', attempts = 0, run_at = $3, updated_at = $3, last_error = NULL
         FROM target WHERE j.seq = target.seq AND j.state IN ('dead', 'failed', 'done') RETURNING j.queue
       )
       SELECT (SELECT queue FROM u) AS queue, EXISTS (SELECT 1 FROM target) AS found`,
      [parsed.recordId, parsed.index, now],
    );
    const row = rows[0];
    if (!row?.found) return "not-found";
    if (row.queue === null) return "conflict";
    this.wake([row.queue]);
    return "requeued";
  }

  /** See {@link Store.requeueMany}: one statement, oldest first when capped. */
  async requeueMany(filter: JobFilter): Promise<number> {
    const max = requeueLimit(filter);
    const p = new Params();
    const c = await this.reader.jobConditions(withoutCursor(filter), p);
    c.push("j.state IN ('dead', 'failed', 'done')");
    const now = p.add(this.clock.now());
    const limit = Number.isFinite(max) ? `ORDER BY j.seq LIMIT ${p.add(max)}` : "";
    const rows = await query<{ queue: QueueName; n: number }>(
      this.pool,
      "requeueMany",
      `WITH picked AS (
         SELECT j.seq FROM ${this.s}.jobs j JOIN ${this.s}.records r ON r.seq = j.record_seq
         WHERE ${c.join(" AND ")} ${limit}
       ), u AS (
         UPDATE ${this.s}.jobs j SET state = 'pending', attempts = 0, run_at = ${now}, updated_at = ${now}, last_error = NULL
         FROM picked WHERE j.seq = picked.seq AND j.state IN ('dead', 'failed', 'done') RETURNING j.queue
       )
       SELECT queue, count(*) AS n FROM u GROUP BY queue`,
      p.values,
    );
    const n = rows.reduce((sum, r) => sum + r.n, 0);
    if (n > 0) this.wake(rows.map((r) => r.queue));
    return n;
  }

  /** See {@link Store.addDeliveries}: numbered after the record's last delivery, under a lock on the record row. */
  async addDeliveries(recordId: string, deliveries: readonly DeliveryInput[]): Promise<JobId[]> {
    deliveries.forEach((d, i) => validateDelivery(d, i));
    const now = this.clock.now();
    const result = await transaction(this.pool, "addDeliveries", async (client) => {
      const [r] = await query<{ seq: number; queue: QueueName; created_at: number; received_at: number }>(
        client,
        "addDeliveries",
        `SELECT seq, queue, created_at, received_at FROM ${this.s}.records WHERE id = $1 FOR UPDATE`,
        [recordId],
      );
      if (!r) throw new StoreError(`Record ${recordId} not found`);
      const [m] = await query<{ first: number }>(
        client,
        "addDeliveries",
        `SELECT coalesce(max(idx), -1) + 1 AS first FROM ${this.s}.jobs WHERE record_seq = $1`,
        [r.seq],
      );
      const first = m?.first ?? 0;
      await query(
        client,
        "addDeliveries",
        `INSERT INTO ${this.s}.jobs (record_seq, idx, queue, target, ordering_key, order_created_at, order_received_at,
           state, attempts, max_attempts, backoff_type, backoff_delay_ms, backoff_jitter, backoff_max_ms, run_at, updated_at)
         SELECT $1, $2::int + t.n - 1, $3, t.target, t.okey, $4, $5, 'pending', 0, t.max, t.btype, t.bdelay, t.bjitter,
           t.bmax, $6, $6
         FROM unnest($7::text[], $8::text[], $9::int[], $10::text[], $11::bigint[], $12::float8[], $13::bigint[])
           WITH ORDINALITY AS t(target, okey, max, btype, bdelay, bjitter, bmax, n)
         ORDER BY t.n`,
        [
          r.seq,
          first,
          r.queue,
          r.created_at,
          r.received_at,
          now,
          deliveries.map((d) => d.target),
          deliveries.map((d) => d.orderingKey),
          deliveries.map((d) => d.retry.maxAttempts),
          deliveries.map((d) => d.retry.backoff.type),
          deliveries.map((d) => d.retry.backoff.delayMs),
          deliveries.map((d) => d.retry.backoff.jitter ?? null),
          deliveries.map((d) => d.retry.backoff.maxDelayMs ?? null),
        ],
      );
      return { queue: r.queue, ids: deliveries.map((_, i) => jobIdOf(recordId, first + i)) };
    });
    if (result.ids.length > 0) this.wake([result.queue]);
    return result.ids;
  }

  /**
   * See {@link Store.purgeRecords}: oldest first through the primary key, bounded by the first record received after
   * the cutoff; jobs and attempts go with their record (`ON DELETE CASCADE`). Rows another instance is purging are
   * skipped, not waited for.
   */
  async purgeRecords(beforeMs: number, limit: number): Promise<number> {
    const max = Math.max(0, Math.floor(limit));
    if (max === 0) return 0;
    const [bound] = await query<{ seq: number | null }>(
      this.pool,
      "purgeRecords",
      `SELECT LEAST(
         (SELECT seq FROM ${this.s}.records WHERE queue = 'inbound' AND received_at >= $1 ORDER BY received_at LIMIT 1),
         (SELECT seq FROM ${this.s}.records WHERE queue = 'outbox' AND received_at >= $1 ORDER BY received_at LIMIT 1)) AS seq`,
      [beforeMs + SEQ_BOUND_SLACK_MS],
    );
    const [row] = await query<{ n: number }>(
      this.pool,
      "purgeRecords",
      `WITH picked AS (
         SELECT r.seq FROM ${this.s}.records r
         WHERE r.seq < $1 AND r.received_at < $2
           AND NOT EXISTS (SELECT 1 FROM ${this.s}.jobs j WHERE j.record_seq = r.seq AND j.state NOT IN ('done', 'dead'))
         ORDER BY r.seq LIMIT $3 FOR UPDATE SKIP LOCKED
       ), d AS (DELETE FROM ${this.s}.records r USING picked WHERE r.seq = picked.seq RETURNING 1)
       SELECT count(*) AS n FROM d`,
      [bound?.seq ?? Number.MAX_SAFE_INTEGER, beforeMs, max],
    );
    return row?.n ?? 0;
  }

  /** Deletes expired dedupe keys in chunks; returns how many. */
  async purgeExpiredDedupeKeys(): Promise<number> {
    let total = 0;
    for (let i = 0; i < 100; i++) {
      const [row] = await query<{ n: number }>(
        this.pool,
        "purge",
        `WITH d AS (DELETE FROM ${this.s}.dedupe WHERE ctid = ANY (ARRAY(
           SELECT ctid FROM ${this.s}.dedupe WHERE expires_at <= $1 LIMIT ${DEDUPE_PURGE_CHUNK} FOR UPDATE SKIP LOCKED))
           RETURNING 1)
         SELECT count(*) AS n FROM d`,
        [this.clock.now()],
      );
      const n = row?.n ?? 0;
      total += n;
      if (n < DEDUPE_PURGE_CHUNK) break;
    }
    return total;
  }

  /**
   * See {@link Store.limiter}: the budget is one row of `limiters`, shared by every instance on this schema. Each
   * change reads the row `FOR UPDATE`, applies the shared fixed-window rule (`../shared/fixed-window.ts`) and writes
   * it back in one transaction: the row lock serializes instances, so no grant is lost or doubled.
   */
  limiter(name: string): SharedLimiter {
    type Row = { window_start: number; used: number; paused_until: number | null; pause_reason: string | null };
    const stateOf = (row: Row | undefined): FixedWindowState =>
      row
        ? {
            windowStart: row.window_start,
            used: row.used,
            pausedUntil: row.paused_until,
            pauseReason: row.pause_reason,
          }
        : { ...EMPTY_WINDOW };
    let ensured = false;
    const change = async <T>(fn: (state: FixedWindowState) => { result: T; state: FixedWindowState }): Promise<T> => {
      if (!ensured) {
        await query(this.pool, "limiter", `INSERT INTO ${this.s}.limiters (name) VALUES ($1) ON CONFLICT DO NOTHING`, [
          name,
        ]);
        ensured = true;
      }
      return transaction(this.pool, "limiter", async (client) => {
        const [row] = await query<Row>(
          client,
          "limiter",
          `SELECT window_start, used, paused_until, pause_reason FROM ${this.s}.limiters WHERE name = $1 FOR UPDATE`,
          [name],
        );
        const { result, state } = fn(stateOf(row));
        await query(
          client,
          "limiter",
          `UPDATE ${this.s}.limiters SET window_start = $2, used = $3, paused_until = $4, pause_reason = $5
           WHERE name = $1`,
          [name, state.windowStart, state.used, state.pausedUntil, state.pauseReason],
        );
        return result;
      });
    };
    return {
      acquire: (max, windowMs, originMs = 0) =>
        change((state) => {
          const { waitMs, state: next } = acquireFixedWindow(state, max, windowMs, this.clock.now(), originMs);
          return { result: waitMs, state: next };
        }),
      pauseUntil: (untilMs, reason) =>
        change((state) => ({ result: undefined, state: pauseFixedWindow(state, untilMs, reason) })),
      resume: () =>
        change((state) => ({ result: undefined, state: { ...state, pausedUntil: null, pauseReason: null } })),
      state: async () => {
        const [row] = await query<Row>(
          this.pool,
          "limiter",
          `SELECT window_start, used, paused_until, pause_reason FROM ${this.s}.limiters WHERE name = $1`,
          [name],
        );
        return viewFixedWindow(stateOf(row), this.clock.now());
      },
    };
  }

  /** See {@link Store.addToSet}. */
  async addToSet(name: string, members: readonly string[]): Promise<number> {
    const [row] = await query<{ n: number }>(
      this.pool,
      "addToSet",
      `WITH ins AS (
         INSERT INTO ${this.s}.sets (name, member) SELECT $1, m FROM unnest($2::text[]) AS m ON CONFLICT DO NOTHING
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM ${this.s}.sets WHERE name = $1) + (SELECT count(*) FROM ins) AS n`,
      [name, [...members]],
    );
    return row?.n ?? 0;
  }

  /** See {@link Store.setMembers}. */
  async setMembers(name: string): Promise<string[]> {
    const rows = await query<{ member: string }>(
      this.pool,
      "setMembers",
      `SELECT member FROM ${this.s}.sets WHERE name = $1 ORDER BY member COLLATE "C"`,
      [name],
    );
    return rows.map((r) => r.member);
  }
  /**
   * See {@link Store.compareAndSet}. Absent expected: one `INSERT … ON CONFLICT DO NOTHING` (two racing inserts cannot
   * both succeed). Otherwise the row is read `FOR UPDATE` and replaced in the same transaction, so the answer is the
   * value the swap was decided on.
   */
  async compareAndSet(name: string, expected: string | null, next: string): Promise<string | null> {
    return transaction(this.pool, "compareAndSet", async (client) => {
      if (expected === null) {
        const inserted = await query<{ name: string }>(
          client,
          "compareAndSet",
          `INSERT INTO ${this.s}.named_values (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING name`,
          [name, next],
        );
        if (inserted.length === 1) return null;
      }
      const [row] = await query<{ value: string }>(
        client,
        "compareAndSet",
        `SELECT value FROM ${this.s}.named_values WHERE name = $1 FOR UPDATE`,
        [name],
      );
      const current = row?.value ?? null;
      if (current !== null && current === expected)
        await query(client, "compareAndSet", `UPDATE ${this.s}.named_values SET value = $2 WHERE name = $1`, [
          name,
          next,
        ]);
      return current;
    });
  }
}
