/**
 * The options of the dashboard plugin ({@link DashboardOptions}) and the outbound status it reports. Types only, so
 * the plugin and every route module can share them without importing each other. Imports no store implementation.
 */
import type { Logger } from "../core/logger.js";
import type { RetentionStatus } from "../store/retention.js";
import type { StoreAdmin, StoreCoordination, StoreReader } from "../store/store.js";
import type { ReceivedEventSource } from "./live-feed.js";

/**
 * What the outbound side reports for the overview; the outbox's `EventTracker.status()` satisfies it. Every field is
 * optional: the overview shows what it gets and passes the whole object through as `outbound.status`.
 */
export interface OutboundStatus {
  /**
   * `sending`, or why nothing is sent (`paused-rate-limited`, `paused-unauthorized`, `paused`). The overview reports
   * `off` when no status source is given at all.
   */
  state?: string;
  /** Requests allowed per window (from `X-RateLimit-Limit` once seen, else the configured budget). */
  perWindow?: number;
  /** Window length, ms (Intercom: 10 000, facts §2.6). */
  windowMs?: number;
}

/**
 * Which handlers and forward targets a topic goes to; the receiver's `router` satisfies it. The overview uses it to
 * count the notifications that matched none.
 */
export interface TopicRoutes {
  /** The targets a notification of `topic` is delivered to; empty when none matches. */
  targetsFor(topic: string): readonly unknown[];
}

/** Options of {@link registerDashboard}. */
export interface DashboardOptions {
  /** The store to read and requeue through (memory, SQLite or Redis). */
  store: StoreReader & StoreAdmin & Pick<StoreCoordination, "limiter">;
  /** The bearer token every `/api/` request must carry; compared in constant time. Must not be empty. */
  adminToken: string;
  /** Where warnings go (a failed stream poll, missing assets); `serve` passes fastify's pino. @defaultValue silent */
  log?: Partial<Logger>;
  /**
   * Source of `"received"` notices pushed to `GET /api/stream`. Without it the stream polls the store once per
   * `streamPollMs` while a browser is connected.
   */
  events?: ReceivedEventSource;
  /**
   * Poll the store for new notifications even when `events` is given, so a browser connected to this process also
   * sees what other processes on the same store received (several `serve` instances on one Redis prefix or one SQLite
   * file). Records seen both ways are sent once.
   * @defaultValue true unless the store is the in-process memory store (`store.kind === "memory"`)
   */
  streamPollsStore?: boolean;
  /**
   * The handlers and forwards of the service (`receiver.router`). With it, the overview counts the notifications of
   * its window whose topic no handler or forward matches, per topic (`received.unmatched`); without it that count
   * is null.
   */
  routes?: TopicRoutes;
  /** Outbound rate budget and pause details for the overview. */
  outboundStatus?: () => Promise<OutboundStatus>;
  /** The retention the service applies and what it purged, for the overview (`serve` passes its own). */
  retention?: () => RetentionStatus;
  /** Name of the store limiter the outbox uses. @defaultValue "intercom-events" */
  limiterName?: string;
  /** Poll interval of the stream (without `events`, or with `streamPollsStore`), ms. @defaultValue 1_000 */
  streamPollMs?: number;
  /** Interval of `: keep-alive` comments on the stream, ms (proxies close idle connections). @defaultValue 15_000 */
  streamHeartbeatMs?: number;
  /** How long one overview answer is reused for every caller, ms; 0 disables. @defaultValue 5_000 */
  overviewCacheMs?: number;
  /**
   * Folder of index.html, app.js, app.css and the `views/` modules. @defaultValue the `assets/` folder next to this
   * module
   */
  assetsDir?: URL | string;
  /** Epoch ms; inject for tests. @defaultValue Date.now */
  now?: () => number;
}
