/**
 * Retention: a timer that deletes finished records older than the retention period through `StoreAdmin.purgeRecords`,
 * in batches, catching up after a pause, and reports its status for the dashboard and metrics. Works on any store: must
 * not import a store implementation or a driver.
 */
import { systemClock, type Clock } from "../core/clock.js";
import { ConfigError } from "../core/errors.js";
import { createLogger, type Logger } from "../core/logger.js";
import type { StoreAdmin } from "./store.js";

/** Options of {@link startRetention}. */
export interface RetentionOptions {
  store: Pick<StoreAdmin, "purgeRecords">;
  /**
   * How long a record is kept after it was received, ms. Only records whose deliveries are all `done` or `dead` are
   * deleted (see {@link Store.purgeRecords}); unfinished ones are kept whatever their age.
   */
  retentionMs: number;
  /** How often to look for expired records, ms. @defaultValue 60_000 */
  intervalMs?: number;
  /** Records deleted per store call (~20 ms of SQLite work at 200); other work runs between calls. @defaultValue 200 */
  chunk?: number;
  /** Most records deleted per run, so a first run over a large backlog is spread over several. @defaultValue 50_000 */
  maxPerRun?: number;
  log?: Logger;
  clock?: Clock;
  /** Called after each run that deleted records. */
  onPurged?: (count: number) => void;
}

/** A running retention loop. */
export interface Retention {
  /** Deletes what has expired now (up to `maxPerRun`); resolves with how many records were deleted. */
  runOnce(): Promise<number>;
  /** Stops the loop; resolves once a run in progress has finished. */
  stop(): Promise<void>;
}

/**
 * Deletes finished records older than `retentionMs` every `intervalMs`, so a store does not grow without bound.
 * `serve` runs it with `--retention` (default 30 days).
 * @example
 * const retention = startRetention({ store, retentionMs: 30 * 86_400_000 });
 * // …
 * await retention.stop();
 */
export function startRetention(options: RetentionOptions): Retention {
  const { store } = options;
  const retentionMs = options.retentionMs;
  if (!Number.isFinite(retentionMs) || retentionMs <= 0) throw new ConfigError("retentionMs must be > 0");
  const intervalMs = options.intervalMs ?? 60_000;
  if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new ConfigError("intervalMs must be an integer >= 1");
  const chunk = options.chunk ?? 200;
  if (!Number.isInteger(chunk) || chunk < 1) throw new ConfigError("chunk must be an integer >= 1");
  const maxPerRun = options.maxPerRun ?? 50_000;
  const clock = options.clock ?? systemClock;
  const log = createLogger(options.log);
  let running: Promise<number> | null = null;
  let stopped = false;

  async function purge(): Promise<number> {
    const before = clock.now() - retentionMs;
    let total = 0;
    while (!stopped && total < maxPerRun) {
      const ask = Math.min(chunk, maxPerRun - total);
      const n = await store.purgeRecords(before, ask);
      total += n;
      if (n < ask) break;
      // Let requests and deliveries run between chunks.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (total > 0) {
      log.info(
        { deleted: total, receivedBefore: new Date(before).toISOString() },
        "retention: deleted finished records",
      );
      options.onPurged?.(total);
    }
    return total;
  }

  function runOnce(): Promise<number> {
    running ??= purge().finally(() => (running = null));
    return running;
  }

  const timer = setInterval(() => {
    runOnce().catch((err: unknown) => log.warn({ err }, "retention run failed; will try again"));
  }, intervalMs);
  timer.unref();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => 0);
    },
  };
}

/** What a running service reports about its retention (the dashboard's overview shows it). */
export interface RetentionStatus {
  /** Records received longer ago than this are deleted once their deliveries finished; null: kept forever. */
  retentionMs: number | null;
  /** Records deleted by retention since this process started. */
  purgedSinceStart: number;
}
