/**
 * The PostgreSQL store's side of the shared lease loop (`LeaseBackend`): one `exchange` is ONE statement (one round
 * trip, one transaction) that settles the outcomes a processor collected, turns expired leases back into due work
 * (recording `lease-expired`), and claims due jobs with `SELECT … FOR UPDATE SKIP LOCKED`, so instances never wait
 * for each other's rows and never claim the same delivery; an idle poll is one read. `renew` extends leases still
 * held. The rules of what an outcome means stay in the lease loop; this file only stores them. Processor statements
 * commit with `synchronous_commit` off unless configured otherwise: a lost outcome after a database crash means a
 * delivery runs again (at-least-once), while every enqueue commits on.
 *
 * Internal to the PostgreSQL store.
 */
import type { Pool, PoolClient } from "pg";
import type { Clock } from "../../core/clock.js";
import type { QueueName, RecordWithId } from "../../delivery/types.js";
import { jobIdOf, parseJobId } from "../job-helpers.js";
import {
  LEASE_EXPIRED_ERROR,
  type ClaimedJob,
  type ExchangeRequest,
  type ExchangeResult,
  type LeaseBackend,
  type Settlement,
} from "../../delivery/lease-loop.js";
import { prepared, query, toRecord, type Prepared, type RecordRow } from "./sql.js";
import type { Waker } from "./wake.js";

interface ClaimRow extends RecordRow {
  j_seq: number;
  idx: number;
  target: string;
  attempts: number;
  max_attempts: number;
  backoff_type: "fixed" | "exponential";
  backoff_delay_ms: number;
  backoff_jitter: number | null;
  backoff_max_ms: number | null;
}

/** Options of {@link PgLeaseBackend}. */
export interface PgLeaseBackendOptions {
  pool: Pool;
  /** The quoted schema name. */
  schema: string;
  clock: Clock;
  waker: Waker;
  /** `synchronous_commit` of claim / settle transactions. */
  synchronousCommit: boolean;
}

/** Claims, settlements and renewals over the `jobs` table. */
export class PgLeaseBackend implements LeaseBackend {
  /** jobId → jobs.seq for jobs claimed here, so settlements and renewals need no lookup. */
  private readonly leased = new Map<string, number>();
  private tokenSeq = 0;
  private readonly sql: Record<keyof ReturnType<typeof statements>, Prepared>;

  constructor(private readonly o: PgLeaseBackendOptions) {
    this.sql = Object.fromEntries(
      Object.entries(statements(o.schema)).map(([name, text]) => [name, prepared(text)]),
    ) as Record<keyof ReturnType<typeof statements>, Prepared>;
  }

  /** See {@link LeaseBackend.onWake}. */
  onWake(queue: QueueName, listener: () => void): () => void {
    return this.o.waker.on(queue, listener);
  }

  /** See {@link LeaseBackend.exchange}. An idle poll is one read; anything else is one statement. */
  async exchange(req: ExchangeRequest): Promise<ExchangeResult> {
    const now = this.o.clock.now();
    if (req.settlements.length === 0) {
      const [probe] = await query<{ next: number | null; expired: boolean }>(this.o.pool, "claim", this.sql.probe, [
        req.queue,
        now,
      ]);
      const isDue = probe !== undefined && (probe.expired || (probe.next !== null && probe.next <= now));
      if (req.claim <= 0 || !isDue) return { claimed: [], nextRunAt: probe?.next ?? null };
    }
    const seqs = await this.seqsOf(req.settlements.map((st) => st.jobId));
    const cols = settlementColumns(req.settlements, seqs);
    for (const st of req.settlements) this.leased.delete(st.jobId);
    const token = `${req.owner}/${++this.tokenSeq}`;
    const rows = await query<ClaimRow & { next: number | null }>(
      this.o.pool,
      "claim",
      req.ordered ? this.sql.exchangeOrdered : this.sql.exchangeUnordered,
      [
        req.queue,
        now,
        Math.max(0, req.claim),
        token,
        now + req.leaseMs,
        JSON.stringify(LEASE_EXPIRED_ERROR),
        ...cols,
        this.o.synchronousCommit ? "on" : "off",
      ],
    );
    // The statement's snapshot predates its own settlements: a retry they scheduled may be due sooner.
    let nextRunAt = rows[0]?.next ?? null;
    for (const st of req.settlements) {
      if ((st.state === "pending" || st.state === "failed") && st.runAt !== null)
        nextRunAt = nextRunAt === null ? st.runAt : Math.min(nextRunAt, st.runAt);
    }
    return { claimed: this.toClaimed(rows, req.queue, token), nextRunAt };
  }

  /** See {@link LeaseBackend.renew}. */
  async renew(
    _queue: QueueName,
    leases: readonly { jobId: string; token: string }[],
    leaseUntil: number,
  ): Promise<string[]> {
    const known = await this.seqsOf(leases.map((l) => l.jobId));
    const seqs: number[] = [];
    const tokens: string[] = [];
    leases.forEach((l, i) => {
      const seq = known[i];
      if (seq === undefined) return;
      seqs.push(seq);
      tokens.push(l.token);
    });
    const rows = await query<{ seq: number }>(this.o.pool, "renew", this.sql.renew, [leaseUntil, seqs, tokens]);
    const kept = new Set(rows.map((r) => r.seq));
    const lost: string[] = [];
    leases.forEach((l, i) => {
      const seq = known[i];
      if (seq === undefined || !kept.has(seq)) {
        lost.push(l.jobId);
        this.leased.delete(l.jobId);
      }
    });
    return lost;
  }

  private toClaimed(
    rows: readonly (ClaimRow & { next: number | null })[],
    queue: QueueName,
    token: string,
  ): ClaimedJob[] {
    const records = new Map<number, RecordWithId>();
    return rows
      .filter((row) => row.j_seq !== null)
      .sort((a, b) => a.j_seq - b.j_seq)
      .map((row) => {
        let record = records.get(row.seq);
        if (!record) records.set(row.seq, (record = toRecord(row)));
        const id = jobIdOf(record.id, row.idx);
        this.leased.set(id, row.j_seq);
        const backoff: ClaimedJob["retry"]["backoff"] = { type: row.backoff_type, delayMs: row.backoff_delay_ms };
        if (row.backoff_jitter !== null) backoff.jitter = row.backoff_jitter;
        if (row.backoff_max_ms !== null) backoff.maxDelayMs = row.backoff_max_ms;
        return {
          token,
          retry: { maxAttempts: row.max_attempts, backoff },
          job: {
            id,
            queue,
            target: row.target,
            attempt: row.attempts,
            maxAttempts: row.max_attempts,
            record: { ...record },
          },
        };
      });
  }

  /** jobs.seq of each job id (undefined where unknown): from the claim map, else looked up. */
  private async seqsOf(
    jobIds: readonly string[],
    db: Pool | PoolClient = this.o.pool,
  ): Promise<(number | undefined)[]> {
    const out = jobIds.map((id) => this.leased.get(id));
    const missing = jobIds.flatMap((id, i) => (out[i] === undefined ? [{ id, i, parsed: parseJobId(id) }] : []));
    const lookups = missing.filter((m) => m.parsed !== undefined);
    if (lookups.length === 0) return out;
    const rows = await query<{ record_id: string; idx: number; seq: number }>(db, "settle", this.sql.seqOf, [
      lookups.map((m) => m.parsed!.recordId),
      lookups.map((m) => m.parsed!.index),
    ]);
    const found = new Map(rows.map((r) => [jobIdOf(r.record_id, r.idx), r.seq]));
    for (const m of lookups) out[m.i] = found.get(m.id);
    return out;
  }
}

/** Settlements as the parallel arrays the exchange statement takes ($7 … $18); unknown job ids are left out. */
function settlementColumns(settlements: readonly Settlement[], seqs: readonly (number | undefined)[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 12 }, () => []);
  settlements.forEach((st, i) => {
    const seq = seqs[i];
    if (seq === undefined) return;
    const r = st.run;
    const row = [
      seq,
      st.token,
      st.state,
      st.attempts,
      st.runAt,
      st.lastError ? JSON.stringify(st.lastError) : null,
      r.attempt,
      r.startedAt,
      r.finishedAt,
      r.outcome,
      r.error ? JSON.stringify(r.error) : null,
      r.worker ?? null,
    ];
    row.forEach((v, c) => cols[c]!.push(v));
  });
  return cols;
}

/**
 * The backend's statements for schema `s` (exported for the plan tests). The exchange's parts are data-modifying
 * CTEs on disjoint rows (settlements touch this worker's running jobs, expiry other running jobs, the claim waiting
 * ones), so they run as one statement in one snapshot. Parameters: $1 queue, $2 now, $3 how many to claim, $4 lease
 * token, $5 lease end, $6 the lease-expired error, $7–$18 settlement arrays, $19 synchronous_commit.
 */
export function statements(s: string) {
  const exchange = (ordered: boolean): string => `WITH sc AS (SELECT set_config('synchronous_commit', $19, true) AS v),
st AS (
  SELECT * FROM unnest($7::bigint[], $8::text[], $9::text[], $10::int[], $11::bigint[], $12::text[])
    AS t(seq, token, state, attempts, run_at, last_error)
),
-- Only while the lease is still ours: a worker that lost it cannot overwrite the new owner's state.
su AS (
  UPDATE ${s}.jobs j SET state = st.state, attempts = st.attempts, run_at = st.run_at,
    last_error = coalesce(st.last_error, j.last_error), updated_at = $2, lease_owner = NULL, lease_until = NULL,
    lease_started_at = NULL
  FROM st WHERE j.seq = st.seq AND j.state = 'running' AND j.lease_owner = st.token
  RETURNING j.seq
),
sa AS (
  INSERT INTO ${s}.attempts (job_seq, attempt, started_at, finished_at, outcome, error, worker)
  SELECT a.seq, a.attempt, a.started_at, a.finished_at, a.outcome, a.error, a.worker
  FROM unnest($7::bigint[], $13::int[], $14::bigint[], $15::bigint[], $16::text[], $17::text[], $18::text[])
    WITH ORDINALITY AS a(seq, attempt, started_at, finished_at, outcome, error, worker, n)
  WHERE a.seq IN (SELECT seq FROM su) ORDER BY a.n
),
-- A lease that ran out: the run it belonged to used its attempt; dead when that was the last one.
ex AS (
  SELECT seq, attempts, max_attempts, lease_owner, lease_started_at FROM ${s}.jobs
  WHERE $3::int > 0 AND queue = $1 AND state = 'running' AND lease_until <= $2 AND seq <> ALL ($7::bigint[])
  FOR UPDATE SKIP LOCKED
),
eu AS (
  UPDATE ${s}.jobs j SET state = CASE WHEN ex.attempts >= ex.max_attempts THEN 'dead' ELSE 'failed' END,
    run_at = CASE WHEN ex.attempts >= ex.max_attempts THEN NULL ELSE $2::bigint END, last_error = $6, updated_at = $2,
    lease_owner = NULL, lease_until = NULL, lease_started_at = NULL
  FROM ex WHERE j.seq = ex.seq RETURNING j.seq
),
ea AS (
  INSERT INTO ${s}.attempts (job_seq, attempt, started_at, finished_at, outcome, error, worker)
  SELECT ex.seq, ex.attempts, coalesce(ex.lease_started_at, $2), $2, 'lease-expired', $6,
    split_part(ex.lease_owner, '/', 1)
  FROM ex JOIN eu ON eu.seq = ex.seq ORDER BY ex.seq
),
c AS (
  SELECT cj.seq FROM ${s}.jobs cj
  WHERE cj.queue = $1 AND cj.state IN ('pending', 'failed') AND cj.run_at <= $2
  ${
    ordered
      ? `AND (cj.ordering_key IS NULL OR (
    NOT EXISTS (SELECT 1 FROM ${s}.jobs e WHERE e.queue = cj.queue AND e.ordering_key = cj.ordering_key
                  AND e.state NOT IN ('done', 'dead')
                  AND (e.order_created_at, e.order_received_at, e.seq) < (cj.order_created_at, cj.order_received_at, cj.seq))
    AND NOT EXISTS (SELECT 1 FROM ${s}.jobs b WHERE b.queue = cj.queue AND b.ordering_key = cj.ordering_key
                      AND b.state = 'running')))`
      : ""
  }
  ORDER BY cj.run_at, cj.seq LIMIT $3 FOR UPDATE OF cj SKIP LOCKED
),
cu AS (
  UPDATE ${s}.jobs j SET state = 'running', attempts = j.attempts + 1, run_at = NULL, updated_at = $2,
    lease_owner = $4, lease_until = $5, lease_started_at = $2
  FROM c, ${s}.records r WHERE j.seq = c.seq AND r.seq = j.record_seq
  RETURNING j.seq AS j_seq, j.idx, j.target, j.attempts, j.max_attempts, j.backoff_type, j.backoff_delay_ms,
    j.backoff_jitter, j.backoff_max_ms, r.seq, r.id, r.queue, r.topic, r.app_id, r.notification_id, r.item_id,
    r.created_at, r.received_at, r.headers, r.body, r.body_base64
)
SELECT n.next, n.sc, cu.* FROM (
  SELECT (SELECT v FROM sc) AS sc,
    (SELECT min(run_at) FROM ${s}.jobs WHERE queue = $1 AND state IN ('pending', 'failed')
       AND seq NOT IN (SELECT seq FROM c)) AS next
) n LEFT JOIN cu ON true`;
  return {
    probe: `SELECT (SELECT min(run_at) FROM ${s}.jobs WHERE queue = $1 AND state IN ('pending', 'failed')) AS next,
      EXISTS (SELECT 1 FROM ${s}.jobs WHERE queue = $1 AND state = 'running' AND lease_until <= $2) AS expired`,
    exchangeOrdered: exchange(true),
    exchangeUnordered: exchange(false),
    renew: `UPDATE ${s}.jobs j SET lease_until = $1 FROM unnest($2::bigint[], $3::text[]) AS t(seq, token)
      WHERE j.seq = t.seq AND j.state = 'running' AND j.lease_owner = t.token RETURNING j.seq`,
    seqOf: `SELECT r.id AS record_id, j.idx, j.seq FROM unnest($1::text[], $2::int[]) AS t(id, idx)
      JOIN ${s}.records r ON r.id = t.id JOIN ${s}.jobs j ON j.record_seq = r.seq AND j.idx = t.idx`,
  };
}
