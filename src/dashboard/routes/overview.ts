/**
 * `GET /api/overview`: delivery counts per queue and state, dead letters, the oldest pending age, notifications
 * received per minute by topic (and how many matched no handler), outbound sending and its rate budget, retention.
 * One answer per window is shared by every caller for `overviewCacheMs`. Reads through the Store contract only.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "../../core/logger.js";
import type { QueueName } from "../../delivery/types.js";
import type { DashboardOptions, OutboundStatus } from "../options.js";
import { sendError, type ApiContext } from "./context.js";

const MINUTE_MS = 60_000;
// Intercom's rate-limit window (facts §2.6), for the budget when the outbound status does not say.
const DEFAULT_WINDOW_MS = 10_000;
const MAX_WINDOW_MINUTES = 24 * 60;

/** Registers `GET /api/overview`. */
export function registerOverviewRoute(api: FastifyInstance, ctx: ApiContext): void {
  const { options, now } = ctx;
  const overviewCacheMs = options.overviewCacheMs ?? 5_000;
  // Shared by every open dashboard for `overviewCacheMs`: the histogram scans every record of the window, so N browsers
  // refreshing must not mean N scans (1M records in the window take seconds on SQLite).
  const overviewCache = new Map<number, { at: number; value: Promise<unknown> }>();
  const overview = (windowMinutes: number): Promise<unknown> => {
    const cached = overviewCache.get(windowMinutes);
    if (cached && now() - cached.at < overviewCacheMs) return cached.value;
    const value = buildOverview(ctx, windowMinutes);
    overviewCache.set(windowMinutes, { at: now(), value });
    value.catch(() => overviewCache.delete(windowMinutes));
    return value;
  };

  api.get<{ Querystring: Record<string, unknown> }>("/api/overview", async (req, reply) => {
    const extra = Object.keys(req.query).filter((k) => k !== "windowMinutes");
    if (extra.length > 0)
      return sendError(reply, "IB_ERR_QUERY_INVALID", `Unknown parameter "${extra[0]}"; expected: windowMinutes`);
    const rawWindow = req.query["windowMinutes"];
    const windowMinutes = rawWindow === undefined ? 60 : Number(rawWindow);
    if (
      typeof rawWindow === "object" ||
      !Number.isInteger(windowMinutes) ||
      windowMinutes < 1 ||
      windowMinutes > MAX_WINDOW_MINUTES
    ) {
      return sendError(
        reply,
        "IB_ERR_QUERY_INVALID",
        `windowMinutes must be an integer from 1 to ${MAX_WINDOW_MINUTES}`,
      );
    }
    return overview(windowMinutes);
  });
}

async function buildOverview({ store, options, log, now }: ApiContext, windowMinutes: number) {
  const at = now();
  const since = Math.floor((at - windowMinutes * MINUTE_MS) / MINUTE_MS) * MINUTE_MS;
  const [stats, buckets, limiter, status] = await Promise.all([
    store.stats(),
    store.receivedHistogram("inbound", since, MINUTE_MS),
    store.limiter(options.limiterName ?? "intercom-events").state(),
    readOutboundStatus(options.outboundStatus, log),
  ]);
  const totals = new Map<string, number>();
  for (const b of buckets) totals.set(b.topic, (totals.get(b.topic) ?? 0) + b.count);
  const topics = [...totals].sort((a, b) => b[1] - a[1]).map(([topic, total]) => ({ topic, total }));
  const ageOf = (q: QueueName): number | null => {
    const due = stats.oldestDueAt[q];
    return due === null ? null : Math.max(0, at - due);
  };
  const out = stats.counts.outbox;
  const paused = limiter.pausedUntil !== null && limiter.pausedUntil > at;
  // The limiter keeps the last window's usage until the next request starts a new one: once that window is over,
  // nothing of the current window has been used yet.
  const windowMs = typeof status?.windowMs === "number" && status.windowMs > 0 ? status.windowMs : DEFAULT_WINDOW_MS;
  const isWindowOver = at - limiter.windowStart >= windowMs;
  return {
    now: at,
    counts: stats.counts,
    dead: { inbound: stats.counts.inbound.dead, outbox: out.dead, total: stats.counts.inbound.dead + out.dead },
    oldestPendingAgeMs: { inbound: ageOf("inbound"), outbox: ageOf("outbox") },
    received: {
      since,
      until: at,
      bucketMs: MINUTE_MS,
      topics,
      buckets,
      unmatched: unmatchedOf(topics, options.routes),
    },
    outbound: {
      sent: out.done,
      failed: out.failed,
      dead: out.dead,
      pending: out.pending + out.running,
      paused,
      // No status source: this service sends nothing (serve without INTERCOM_ACCESS_TOKEN).
      state:
        typeof status?.state === "string"
          ? status.state
          : options.outboundStatus === undefined
            ? "off"
            : paused
              ? "paused"
              : "sending",
      pausedUntil: paused ? limiter.pausedUntil : null,
      pauseReason: paused ? limiter.pauseReason : null,
      budget: {
        used: isWindowOver ? 0 : limiter.used,
        // Every store aligns the limiter's windows to multiples of the window length since the epoch.
        windowStart: isWindowOver
          ? limiter.windowStart + Math.floor((at - limiter.windowStart) / windowMs) * windowMs
          : limiter.windowStart,
        maxPerWindow: typeof status?.perWindow === "number" ? status.perWindow : null,
        windowMs: typeof status?.windowMs === "number" ? status.windowMs : null,
      },
      status,
    },
    retention: options.retention ? options.retention() : null,
  };
}

/**
 * The notifications of the window whose topic no handler or forward matches, per topic (most first); null without
 * `routes`. A notification matching nothing is stored with no delivery, so this is what the service received and
 * did nothing with.
 */
function unmatchedOf(
  topics: readonly { topic: string; total: number }[],
  routes: DashboardOptions["routes"],
): { total: number; topics: { topic: string; total: number }[] } | null {
  if (!routes) return null;
  const unmatched = topics.filter((t) => routes.targetsFor(t.topic).length === 0);
  return { total: unmatched.reduce((sum, t) => sum + t.total, 0), topics: unmatched };
}

async function readOutboundStatus(
  source: DashboardOptions["outboundStatus"],
  log: Logger,
): Promise<OutboundStatus | null> {
  if (!source) return null;
  try {
    return await source();
  } catch (err) {
    log.warn({ err }, "dashboard could not read the outbound status");
    return null;
  }
}
