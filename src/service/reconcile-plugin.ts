/**
 * The `serve` part of gap recovery: a heartbeat in the store and, on start after a downtime longer than
 * `--reconcile-min-gap`, a background reconcile of the gap (see `reconcile/after-downtime.ts`), with its state on
 * `/metrics` and (through the returned getter) the dashboard overview.
 */
import { Counter, Gauge } from "prom-client";
import { ConfigError } from "../core/errors.js";
import { createDowntimeRecovery, type DowntimeRecoveryStatus } from "../reconcile/after-downtime.js";
import { createSearchApi } from "../reconcile/search-api.js";
import type { ServiceContext } from "./create-service.js";

/** Gap-recovery settings of `serve`. */
export interface ReconcileServiceOptions {
  /** Access token (`INTERCOM_ACCESS_TOKEN`); without it a gap is only reported. */
  token?: string | undefined;
  region?: string | undefined;
  baseUrl?: string | undefined;
  intercomVersion?: string | undefined;
  /** Reconcile on start when the last heartbeat is older than this, ms; null disables. @defaultValue 90_000 */
  minGapMs?: number | null;
  /** Pacing shared with the outbox. */
  rateLimitPerMinute?: number;
  rateLimitWindowMs?: number;
}

/**
 * Returns the plugin and a getter of its status (null until the plugin ran), for the dashboard. The recovery starts
 * when the plugin runs (before the server listens); it only stores notifications, which the workers deliver once
 * `listen()` starts them.
 */
export function reconcilePlugin(options: ReconcileServiceOptions): {
  plugin: (ctx: ServiceContext) => Promise<void>;
  status: () => DowntimeRecoveryStatus | null;
} {
  let getStatus: () => DowntimeRecoveryStatus | null = () => null;
  const plugin = async (ctx: ServiceContext): Promise<void> => {
    const region = options.region ?? "us";
    if (region !== "us" && region !== "eu" && region !== "au")
      throw new ConfigError(`INTERCOM_REGION must be us, eu or au; got "${region}"`);
    const api = options.token
      ? createSearchApi({
          token: options.token,
          region: region,
          ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
          ...(options.intercomVersion ? { intercomVersion: options.intercomVersion } : {}),
        })
      : undefined;
    const runs = new Counter({
      name: "intercom_bridge_reconcile_runs_total",
      help: "Gap recoveries after downtime run by this process, by outcome (done, failed)",
      labelNames: ["outcome"] as const,
      registers: [ctx.metrics.registry],
    });
    const recovery = createDowntimeRecovery({
      store: ctx.store,
      receiver: ctx.receiver,
      api,
      minGapMs: options.minGapMs === undefined ? 90_000 : options.minGapMs,
      pacing: {
        ...(options.rateLimitPerMinute ? { rateLimitPerMinute: options.rateLimitPerMinute } : {}),
        ...(options.rateLimitWindowMs ? { rateLimitWindowMs: options.rateLimitWindowMs } : {}),
      },
      onFinished: (s) => runs.inc({ outcome: s.state === "done" ? "done" : "failed" }),
      log: ctx.log,
    });
    new Gauge({
      name: "intercom_bridge_downtime_gap_seconds",
      help: "How long no serve instance was alive before this one started (from the store's heartbeat); 0 on a first start",
      registers: [ctx.metrics.registry],
      collect() {
        this.set((recovery.status().gapMs ?? 0) / 1000);
      },
    });
    getStatus = () => recovery.status();
    ctx.onClose(() => recovery.stop());
    await recovery.start();
  };
  return { plugin, status: () => getStatus() };
}
