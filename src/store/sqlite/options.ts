/**
 * The options of the SQLite store, with their defaults and the measurements behind them. Types only: imports nothing
 * but the clock type.
 */
import type { Clock } from "../../core/clock.js";

/** Options of `createSqliteStore`. */
export interface SqliteStoreOptions {
  /** Database file; its parent directory is created. `:memory:` works for a single process. */
  path: string;
  /**
   * `FULL` syncs the WAL on every commit, so a resolved `enqueue` survives power loss (a 200 promises that).
   * `NORMAL` survives a process crash but may lose the last commits on power loss.
   * @defaultValue "FULL"
   */
  synchronous?: "FULL" | "NORMAL";
  /**
   * `synchronous` for the processor's own transactions (claims, settlements, lease renewals). `NORMAL` skips their
   * fsync: on power loss the last outcomes may be lost and those deliveries run again (at-least-once, as after a
   * crash), while every `enqueue` still commits with `synchronous`, whose fsync also covers all earlier frames.
   * @defaultValue "NORMAL"
   */
  processingSynchronous?: "FULL" | "NORMAL";
  /** How long to wait for another process's write lock before failing, ms. @defaultValue 5000 */
  busyTimeoutMs?: number;
  /**
   * Group commit: how long an `enqueue` may wait for others to share its transaction, ms. 0 = the enqueues of the
   * same event-loop turn share one commit.
   * @defaultValue 0
   */
  groupCommitWindowMs?: number;
  /** Group commit: most enqueues in one transaction; a full batch commits at once. @defaultValue 256 */
  maxBatchSize?: number;
  /** How often expired dedupe keys are deleted, ms (0 disables). @defaultValue 60000 */
  purgeIntervalMs?: number;
  /**
   * WAL pages between automatic checkpoints on the writer connection. Larger values trade latency for throughput:
   * measured with `bench/ingest-ab.ts` on 2 CPUs, 10000 gave +15–17 % ingest req/s but p99 ~41 ms instead of ~19 ms
   * (bigger, rarer checkpoints). Durability is the same either way: every enqueue commit fsyncs the WAL.
   * @defaultValue 1000 (SQLite's default, ~4 MB of WAL)
   */
  walAutocheckpointPages?: number;
  /**
   * With the writer thread: a third thread copies the WAL into the database file this often (ms), on its own
   * connection, so enqueue commits never carry a checkpoint; the writer's own autocheckpoint then only runs at 10x
   * `walAutocheckpointPages`, as a backstop that restarts the WAL. 0: the writer checkpoints alone, every
   * `walAutocheckpointPages`. Measured with `bench/ingest-ab.ts` (paired, 4 rounds, 2 CPUs), medians against 0
   * (7,925 req/s, p99 14–15 ms): 5 ms gave 8,303 req/s, p99 12–13 ms; 20 ms gave 9,239 req/s but p99 22–23 ms
   * (bigger checkpoints compete with the WAL fsyncs), too close to the 25 ms the ingest benchmark allows.
   * @defaultValue 5
   */
  checkpointIntervalMs?: number;
  /** Page cache size, KiB. @defaultValue 65536 (64 MiB) */
  cacheSizeKiB?: number;
  /** Time source (receive times, due times, dedupe expiry). @defaultValue the system clock */
  clock?: Clock;
  /**
   * Run enqueue commits and the processor's claim / settle / renew transactions in a worker thread that owns a second
   * connection to the file, so the event loop keeps parsing requests while a commit waits for its fsync; enqueues
   * that arrive meanwhile share the next commit. Needs a file (not `:memory:`) and the system clock.
   * @defaultValue true for a file with the system clock, false otherwise
   */
  writerThread?: boolean;
}
