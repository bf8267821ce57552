/**
 * Gap recovery after downtime: `serve` keeps a heartbeat in the store (when an instance was last alive and receiving);
 * on start, when the heartbeat is older than the minimum gap, it reconciles the downtime (plus a margin for clock
 * skew) in the background through the normal pipeline. With several instances on one store, the one that takes the
 * lease does it. Both live in the store's `compareAndSet` values, so this works on every backend.
 */
import { randomUUID } from "node:crypto";
import { systemClock, type Clock } from "../core/clock.js";
import { createLogger, type Logger } from "../core/logger.js";
import type { Receiver } from "../core/receiver.js";
import type { Store } from "../store/store.js";
import { reconcile, type ReconcileOptions, type ReconcileReport } from "./reconcile.js";
import type { SearchApi } from "./search-api.js";

/** Store value names. */
export const HEARTBEAT_KEY = "serve-heartbeat";
export const LEASE_KEY = "reconcile-lease";
/** Passed as `expected` to read a value without changing it: never stored. */
const READ_ONLY = "\u0000read";

/** Default minimum gap before a start reconciles, ms (Intercom retries once after a minute). */
export const DEFAULT_RECONCILE_MIN_GAP_MS = 90_000;

/** Options of {@link createDowntimeRecovery}. */
export interface DowntimeRecoveryOptions {
  store: Store;
  receiver: Pick<Receiver, "ingest" | "settings">;
  /** Intercom's search API; undefined when no access token is set (the gap is then only reported). */
  api: SearchApi | undefined;
  /** Reconcile on start only when the heartbeat is older than this, ms; null disables. @defaultValue 90_000 */
  minGapMs?: number | null;
  /** Extra time reconciled before the last heartbeat (clock skew between us and Intercom), ms. @defaultValue 60_000 */
  skewMarginMs?: number;
  /** How often the heartbeat is written, ms. @defaultValue 15_000 */
  heartbeatEveryMs?: number;
  /** How long the recovering instance holds the lease without renewing it, ms. @defaultValue 300_000 */
  leaseMs?: number;
  /** Pacing of the searches (the outbox's rate budget). */
  pacing?: ReconcileOptions["pacing"];
  /** Told when a recovery run ends (metrics). */
  onFinished?: (status: DowntimeRecoveryStatus) => void;
  log?: Partial<Logger>;
  clock?: Clock;
}

/** What the dashboard and logs show. */
export interface DowntimeRecoveryStatus {
  /**
   * - `off`: disabled (`--reconcile-min-gap off`).
   * - `first-start`: no heartbeat yet; nothing to compare with.
   * - `no-gap`: the last heartbeat is recent enough.
   * - `no-token`: a gap, but INTERCOM_ACCESS_TOKEN is not set; run `intercom-bridge reconcile` with one.
   * - `other-instance`: another instance holds the lease and recovers the gap.
   * - `running`, `done`, `failed`: this instance's recovery.
   */
  state: "off" | "first-start" | "no-gap" | "no-token" | "other-instance" | "running" | "done" | "failed";
  /** The previous heartbeat, epoch ms, or null. */
  lastHeartbeatAt: number | null;
  /** How long no instance was alive, ms, or null. */
  gapMs: number | null;
  /** The window reconciled (epoch ms), when one was. */
  window: { sinceMs: number; untilMs: number } | null;
  /** The counts of a finished run. */
  report: ReconcileReport | null;
  /** Why the run failed (no secret in it). */
  error: string | null;
}

/** A running heartbeat and (maybe) a recovery. */
export interface DowntimeRecovery {
  /** Reads the last heartbeat, starts the heartbeat and, when due, the recovery in the background. */
  start(): Promise<DowntimeRecoveryStatus>;
  status(): DowntimeRecoveryStatus;
  /** Resolves when the background recovery (if any) has ended. */
  settled(): Promise<void>;
  /** Stops the heartbeat and aborts a running recovery (it releases its lease). */
  stop(): Promise<void>;
}

interface Lease {
  owner: string;
  untilMs: number;
}

/** Creates the heartbeat-and-recovery of one `serve` instance. */
export function createDowntimeRecovery(options: DowntimeRecoveryOptions): DowntimeRecovery {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const log = createLogger(options.log);
  const minGapMs = options.minGapMs === undefined ? DEFAULT_RECONCILE_MIN_GAP_MS : options.minGapMs;
  const skewMarginMs = options.skewMarginMs ?? 60_000;
  const heartbeatEveryMs = options.heartbeatEveryMs ?? 15_000;
  const leaseMs = options.leaseMs ?? 300_000;
  const me = randomUUID();
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let status: DowntimeRecoveryStatus = {
    state: "off",
    lastHeartbeatAt: null,
    gapMs: null,
    window: null,
    report: null,
    error: null,
  };

  /** Moves a JSON value forward with `update` until the compare-and-set sticks (other instances write it too). */
  const update = async <T>(key: string, next: (current: T | null) => T | null): Promise<T | null> => {
    for (let i = 0; i < 10; i++) {
      const raw = await store.compareAndSet(key, READ_ONLY, READ_ONLY);
      const current = raw === null ? null : (JSON.parse(raw) as T);
      const value = next(current);
      if (value === null) return null;
      if ((await store.compareAndSet(key, raw, JSON.stringify(value))) === raw) return value;
    }
    return null;
  };
  const beat = (): Promise<unknown> =>
    update<{ atMs: number }>(HEARTBEAT_KEY, (c) => ({ atMs: Math.max(c?.atMs ?? 0, clock.now()) }));
  const holdLease = (): Promise<Lease | null> =>
    update<Lease>(LEASE_KEY, (c) =>
      c === null || c.owner === me || c.untilMs <= clock.now() ? { owner: me, untilMs: clock.now() + leaseMs } : null,
    );
  const releaseLease = (): Promise<unknown> =>
    update<Lease>(LEASE_KEY, (c) => (c?.owner === me ? { owner: me, untilMs: 0 } : null));

  const recover = async (api: SearchApi, window: { sinceMs: number; untilMs: number }): Promise<void> => {
    const renew = setInterval(
      () => void holdLease().catch((err: unknown) => log.warn({ err }, "reconcile: renewing the lease failed")),
      Math.max(1_000, Math.floor(leaseMs / 3)),
    );
    try {
      const report = await reconcile({
        api,
        store,
        receiver: options.receiver,
        ...window,
        signal: abort.signal,
        ...(options.pacing ? { pacing: options.pacing } : {}),
        log,
        clock,
      });
      status = { ...status, state: "done", report };
      log.info(
        {
          ...summary(report),
          since: new Date(window.sinceMs).toISOString(),
          until: new Date(window.untilMs).toISOString(),
        },
        "reconcile after downtime: done",
      );
    } catch (err) {
      status = { ...status, state: "failed", error: (err as Error).message };
      if (!abort.signal.aborted)
        log.error({ err: (err as Error).message }, "reconcile after downtime failed; run `intercom-bridge reconcile`");
    } finally {
      clearInterval(renew);
      await releaseLease().catch(() => undefined);
      options.onFinished?.(status);
    }
  };

  return {
    async start() {
      const raw = await store.compareAndSet(HEARTBEAT_KEY, READ_ONLY, READ_ONLY);
      const lastHeartbeatAt = raw === null ? null : (JSON.parse(raw) as { atMs: number }).atMs;
      const now = clock.now();
      await beat();
      timer = setInterval(
        () => void beat().catch((err: unknown) => log.warn({ err }, "heartbeat: the store did not take it")),
        heartbeatEveryMs,
      );
      timer.unref();
      const gapMs = lastHeartbeatAt === null ? null : Math.max(0, now - lastHeartbeatAt);
      status = { ...status, lastHeartbeatAt, gapMs };
      if (minGapMs === null) return (status = { ...status, state: "off" });
      if (gapMs === null) return (status = { ...status, state: "first-start" });
      if (gapMs <= minGapMs) return (status = { ...status, state: "no-gap" });
      const oldest = now - options.receiver.settings.dedupeTtlMs + 60_000;
      const window = { sinceMs: Math.max(oldest, lastHeartbeatAt! - skewMarginMs), untilMs: now };
      status = { ...status, window };
      if (options.api === undefined) {
        log.warn(
          { gapMs, since: new Date(window.sinceMs).toISOString() },
          "serve was down longer than --reconcile-min-gap; set INTERCOM_ACCESS_TOKEN to recover the changes Intercom could not deliver, or run `intercom-bridge reconcile --since <time>`",
        );
        return (status = { ...status, state: "no-token" });
      }
      if ((await holdLease()) === null) {
        log.info({ gapMs }, "reconcile after downtime: another instance holds the lease and recovers the gap");
        return (status = { ...status, state: "other-instance" });
      }
      if (window.sinceMs > lastHeartbeatAt! - skewMarginMs)
        log.warn(
          { since: new Date(window.sinceMs).toISOString() },
          "the downtime is longer than the dedupe retention; changes older than it cannot be recovered",
        );
      log.info(
        { gapMs, since: new Date(window.sinceMs).toISOString(), until: new Date(window.untilMs).toISOString() },
        "serve was down: reconciling the gap in the background",
      );
      status = { ...status, state: "running" };
      running = recover(options.api, window);
      return status;
    },
    status: () => status,
    settled: () => running,
    async stop() {
      clearInterval(timer);
      abort.abort(new Error("serve is shutting down"));
      await running;
    },
  };
}

function summary(report: ReconcileReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [type, c] of Object.entries(report.counts)) {
    out[`${type}Scanned`] = c.scanned;
    out[`${type}AlreadySeen`] = c.alreadySeen;
    out[`${type}Synthesized`] = c.synthesized;
  }
  return out;
}
