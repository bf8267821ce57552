/**
 * The optional parts of `serve`, each registered on the service context before the server listens: the outbound Data
 * Events API and worker (when an access token is set) and the operator dashboard. Also the outbound settings `serve`
 * takes.
 */
import { Gauge } from "prom-client";
import { ENV } from "../config/env.js";
import { ConfigError } from "../core/errors.js";
import { registerDashboard } from "../dashboard/api.js";
import { createEventTracker, type EventTracker } from "../outbound/outbox.js";
import type { ServiceContext } from "./create-service.js";
import { registerEventsRoutes } from "./events-routes.js";
import { reconcilePlugin, type ReconcileServiceOptions } from "./reconcile-plugin.js";

/** Outbound settings of `serve`. */
export interface OutboundServiceOptions {
  /** Intercom access token (`INTERCOM_ACCESS_TOKEN`); without it, outbound sending is off. */
  token?: string | undefined;
  /** `us`, `eu` or `au` (`INTERCOM_REGION`). @defaultValue "us" */
  region?: string | undefined;
  /** Overrides the regional host (`INTERCOM_API_BASE_URL`), e.g. a `fake-intercom`. */
  baseUrl?: string | undefined;
  /** Pinned `Intercom-Version` (`INTERCOM_VERSION`). */
  intercomVersion?: string | undefined;
  /** Budget until `X-RateLimit-Limit` is seen, per minute (spread over the windows). @defaultValue 10_000 */
  rateLimitPerMinute?: number;
  /**
   * Rate-limit window length, ms: Intercom uses 10 s; a `fake-intercom --window-seconds 2` needs 2_000, or sending
   * runs at a fifth of its limit. @defaultValue 10_000
   */
  rateLimitWindowMs?: number;
  /** More than 10 metadata keys in `POST /api/events`: refuse the event, or keep the first 10 with a warning. @defaultValue "error" */
  metadataOverflow?: "error" | "truncate";
  /** Metadata keys differing only in case in `POST /api/events`: accept with a warning, or refuse. @defaultValue "warn" */
  metadataKeyCase?: "warn" | "error";
  /** Distinct event names before a warning (Intercom keeps 120 active ones per workspace). @defaultValue 120 */
  maxEventNames?: number;
}

/**
 * The optional parts of `serve`: the outbound Data Events API and worker (when an access token is set), the heartbeat
 * and gap recovery after downtime, and the operator dashboard. Each is a function of the service context, registered before the server listens.
 */
export function servicePlugins(
  outbound: OutboundServiceOptions,
  gap: Pick<ReconcileServiceOptions, "minGapMs"> = {},
): Array<(ctx: ServiceContext) => Promise<void> | void> {
  let tracker: EventTracker | undefined;
  // Gap recovery uses the same token, host and rate budget as outbound events.
  const recovery = reconcilePlugin({
    token: outbound.token,
    region: outbound.region,
    baseUrl: outbound.baseUrl,
    intercomVersion: outbound.intercomVersion,
    ...(gap.minGapMs !== undefined ? { minGapMs: gap.minGapMs } : {}),
    ...(outbound.rateLimitPerMinute ? { rateLimitPerMinute: outbound.rateLimitPerMinute } : {}),
    ...(outbound.rateLimitWindowMs ? { rateLimitWindowMs: outbound.rateLimitWindowMs } : {}),
  });
  return [
    (ctx) => {
      if (!outbound.token) {
        ctx.log.info({}, `Outbound Data Events are off: set ${ENV.accessToken} to send events to Intercom`);
        return;
      }
      const region = outbound.region ?? "us";
      if (region !== "us" && region !== "eu" && region !== "au")
        throw new ConfigError(`${ENV.region} must be us, eu or au; got "${region}"`);
      const t = createEventTracker({
        store: ctx.store,
        token: outbound.token,
        region,
        ...(outbound.baseUrl ? { baseUrl: outbound.baseUrl } : {}),
        ...(outbound.intercomVersion ? { intercomVersion: outbound.intercomVersion } : {}),
        ...(outbound.rateLimitPerMinute ? { rateLimitPerMinute: outbound.rateLimitPerMinute } : {}),
        ...(outbound.maxEventNames ? { maxEventNames: outbound.maxEventNames } : {}),
        ...(outbound.rateLimitWindowMs ? { rateLimitWindowMs: outbound.rateLimitWindowMs } : {}),
        ...(outbound.metadataOverflow ? { metadataOverflow: outbound.metadataOverflow } : {}),
        ...(outbound.metadataKeyCase ? { metadataKeyCase: outbound.metadataKeyCase } : {}),
        log: ctx.log,
      });
      tracker = t;
      registerEventsRoutes(ctx.app, {
        tracker: t,
        adminToken: ctx.adminToken,
        store: ctx.store,
        ...(outbound.metadataOverflow ? { metadataOverflow: outbound.metadataOverflow } : {}),
        ...(outbound.metadataKeyCase ? { metadataKeyCase: outbound.metadataKeyCase } : {}),
      });
      t.start();
      ctx.onClose(() => t.close());
      // Outbound problems are reported, not made fatal: failing readiness would take the webhook receiver out of the
      // load balancer, and Intercom would then lose notifications over a Data Events token problem.
      ctx.addReadinessCheck(
        "outbound",
        async () => {
          const s = await t.status();
          if (s.state === "paused-unauthorized")
            throw new Error(
              `paused: Intercom refused the access token (${s.pauseReason ?? "401/403"}); fix it and run \`intercom-bridge events resume\``,
            );
        },
        { critical: false },
      );
      new Gauge({
        name: "intercom_bridge_outbound_paused",
        help: "1 while outbound sending is paused, by reason (rate-limited, unauthorized)",
        labelNames: ["reason"] as const,
        registers: [ctx.metrics.registry],
        async collect() {
          const s = await t.status();
          this.reset();
          this.set({ reason: "rate-limited" }, s.state === "paused-rate-limited" ? 1 : 0);
          this.set({ reason: "unauthorized" }, s.state === "paused-unauthorized" ? 1 : 0);
        },
      });
      new Gauge({
        name: "intercom_bridge_outbound_budget_per_window",
        help: "Intercom requests allowed per rate-limit window (from X-RateLimit-Limit once seen)",
        registers: [ctx.metrics.registry],
        async collect() {
          this.set((await t.status()).perWindow);
        },
      });
    },
    recovery.plugin,
    (ctx) =>
      registerDashboard(ctx.app, {
        store: ctx.store,
        adminToken: ctx.adminToken,
        log: ctx.log,
        events: ctx.receiver,
        routes: ctx.receiver.router,
        retention: () => ctx.retention(),
        ...(tracker ? { outboundStatus: () => tracker!.status() } : {}),
        reconcileStatus: recovery.status,
      }),
  ];
}
