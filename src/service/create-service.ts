/**
 * The composition root of `serve`: the only place fastify and a concrete store meet the library. {@link createService}
 * reads top to bottom as its steps: resolve the configuration, build the HTTP server, resolve the secrets, build the
 * receiver and its handlers, route webhooks, register health routes, mount the plugins (outbound API, dashboard),
 * and hand back the lifecycle. Each step is a short function in this folder.
 */
import type { FastifyInstance } from "fastify";
import { ConfigError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { itemIdOf } from "../core/notification.js";
import { createReceiver, type Receiver } from "../core/receiver.js";
import type { RetentionStatus } from "../store/retention.js";
import type { Store } from "../store/store.js";
import { combineProcessorEvents, deliveryLogEvents } from "./delivery-log.js";
import { createForwardHandler, forwardTargetName, type ForwardTarget } from "./forward.js";
import { registerHealthRoutes } from "./health-routes.js";
import { installHandlersModule } from "./handlers-module.js";
import { createHttpServer } from "./http-server.js";
import { createLifecycle } from "./lifecycle.js";
import { logDestination, type LogFormat } from "./log-format.js";
import { createMetrics, type ServiceMetrics } from "./metrics.js";
import { resolveConfiguration, resolveSecrets } from "./service-config.js";

/** Options of {@link createService}; `intercom-bridge serve` maps its flags and environment onto these. */
export interface ServiceOptions {
  /** Client secret(s); empty = generate a development secret in `dataDir` (with a warning). */
  secrets: readonly string[];
  store: Store;
  /** Directory for generated secrets and tokens. @defaultValue "./data" */
  dataDir?: string;
  /** @defaultValue 8080 */
  port?: number;
  /** @defaultValue "127.0.0.1" */
  host?: string;
  /** Webhook path. @defaultValue "/webhooks/intercom" */
  webhookPath?: string;
  /** Path of a `.js`/`.mjs` module whose default export maps patterns to handlers. */
  handlersModule?: string;
  /** Where `handlersModule` came from (`--handlers`, `INTERCOM_BRIDGE_HANDLERS`), named in its errors. */
  handlersModuleOrigin?: string;
  /** Forward targets (`pattern=url`). */
  forwards?: readonly ForwardTarget[];
  /**
   * Register the built-in `log` handler for every topic (it logs each notification). `serve` turns it on when neither
   * `--handlers` nor `--forward` is given, so a first run shows what arrives. @defaultValue false
   */
  builtInLogHandler?: boolean;
  /** Secret used to sign forwarded bodies. @defaultValue the first client secret */
  forwardSecret?: string;
  /** @defaultValue 8 */
  maxAttempts?: number;
  /** First retry delay, ms (doubling, capped at 1 h). @defaultValue 1000 */
  retryBaseMs?: number;
  /** @defaultValue 30_000 */
  handlerTimeoutMs?: number;
  /** @defaultValue 8 */
  concurrency?: number;
  /** @defaultValue 7 days */
  dedupeRetentionMs?: number;
  /**
   * Records (notifications and outbound events) received longer ago than this, whose deliveries are all done or dead,
   * are deleted every minute; 0 or undefined keeps everything. `serve --retention` defaults to 30 days.
   */
  retentionMs?: number;
  /** @defaultValue 1 MiB */
  maxBodyBytes?: number;
  /**
   * A request whose headers and body have not all arrived within this is answered 408 (`IB_ERR_REQUEST_TIMEOUT`)
   * and its connection closed, ms; 0 turns the limit off. Headers alone must arrive within 10 s (or this, if
   * shorter). @defaultValue 30_000
   */
  requestTimeoutMs?: number;
  /**
   * Open connections beyond this are closed at once, so slow or idle clients cannot use up the process's file
   * descriptors. @defaultValue the open-file limit less 256 (at least 64, at most 10,000; 1,024 when unknown)
   */
  maxConnections?: number;
  /** Lease of a running delivery, ms. @defaultValue 30_000 */
  leaseMs?: number;
  /** pino level. @defaultValue "info" */
  logLevel?: string;
  /** `json` (one object per line) or `pretty` (pino-pretty's coloured lines). @defaultValue "json" */
  logFormat?: LogFormat;
  /** Bearer token of `/api/*` and the dashboard; empty = generate one in `dataDir` and print the dashboard URL once. */
  adminToken?: string;
  /** Grace period for in-flight work on shutdown, ms. @defaultValue 10_000 */
  shutdownTimeoutMs?: number;
  /** Extra route registration (outbound API, dashboard), called with the app before it listens. */
  plugins?: ReadonlyArray<(ctx: ServiceContext) => Promise<void> | void>;
}

/** What plugins receive. */
export interface ServiceContext {
  app: FastifyInstance;
  receiver: Receiver;
  store: Store;
  metrics: ServiceMetrics;
  adminToken: string;
  log: Logger;
  /**
   * Registers an extra readiness check; it rejects when not ready. A non-critical check is reported in `/readyz`'s
   * body without turning the answer into 503.
   */
  addReadinessCheck(name: string, check: () => Promise<void>, options?: { critical?: boolean }): void;
  /** Registers work to run on shutdown, after the HTTP server stopped accepting. */
  onClose(fn: () => Promise<void>): void;
  /** The retention this service applies (`retentionMs`, null when it keeps everything) and what it purged so far. */
  retention(): RetentionStatus;
}

/** A composed, not yet listening service. */
export interface Service extends Omit<ServiceContext, "addReadinessCheck" | "onClose"> {
  /** Starts workers and listens; resolves with the base URL. */
  listen(): Promise<string>;
  /** Stops accepting, finishes or releases in-flight work within the grace period, closes the store. */
  close(): Promise<void>;
}

/** Name of the handler `serve` registers when neither `--handlers` nor `--forward` is given: it logs each notification. */
export const BUILT_IN_LOG_HANDLER = "log";

/** Composes a service from `options`, not yet listening: each line is one step. */
export async function createService(options: ServiceOptions): Promise<Service> {
  const config = resolveConfiguration(options);
  const http = createHttpServer({ ...config, logStream: await logDestination(options.logFormat ?? "json") });
  const { app, log } = http;
  const secrets = resolveSecrets(options, config, log);
  const metrics = createMetrics(options.store);
  const store = metrics.timeEnqueue(options.store);
  const receiver = await buildReceiver({ ...options, store }, secrets.clientSecrets, metrics, log);
  http.routeWebhooks(receiver, metrics);
  const readiness = registerHealthRoutes(app, store, metrics);
  const lifecycle = createLifecycle({
    http,
    receiver,
    store,
    metrics,
    log,
    config,
    announceDashboard: secrets.isAdminTokenCreated,
  });
  const parts = { app, receiver, store, metrics, adminToken: secrets.adminToken, log, retention: lifecycle.retention };
  await mountPlugins({ ...parts, addReadinessCheck: readiness.add, onClose: lifecycle.onClose }, options.plugins ?? []);
  return { ...parts, listen: lifecycle.listen, close: lifecycle.close };
}

/**
 * The receiver with everything that runs deliveries: the handlers module, the forward targets, and the built-in log
 * handler when neither is configured. Accepted notifications are counted in `metrics`.
 */
async function buildReceiver(
  options: ServiceOptions,
  secrets: readonly string[],
  metrics: ServiceMetrics,
  log: Logger,
): Promise<Receiver> {
  const receiver = createReceiver({
    secrets,
    store: options.store,
    log,
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.dedupeRetentionMs !== undefined ? { dedupeTtlMs: options.dedupeRetentionMs } : {}),
    ...(options.handlerTimeoutMs !== undefined ? { handlerTimeoutMs: options.handlerTimeoutMs } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
    retry: {
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.retryBaseMs !== undefined
        ? { backoff: { type: "exponential", delayMs: options.retryBaseMs, jitter: 0.2, maxDelayMs: 3_600_000 } }
        : {}),
    },
    on: combineProcessorEvents(metrics.processorEvents, deliveryLogEvents(log)),
  });
  receiver.onReceived((r) => metrics.observeReceived(r.topic, r.status === "duplicate" ? "duplicate" : "accepted"));

  if (options.handlersModule)
    await installHandlersModule(receiver.router, options.handlersModule, { origin: options.handlersModuleOrigin, log });
  registerForwards(receiver, options.forwards ?? [], options.forwardSecret ?? secrets[0]!);
  if (options.builtInLogHandler === true) registerBuiltInLogHandler(receiver, log);
  return receiver;
}

/**
 * With nothing configured, every notification still gets one delivery that logs it, so a first run shows what
 * arrives (logs, deliveries list, dashboard) instead of storing it silently.
 */
function registerBuiltInLogHandler(receiver: Receiver, log: Logger): void {
  receiver.router.register(BUILT_IN_LOG_HANDLER, ["*"], (n, ctx) => {
    ctx.log.info(
      { topic: n.topic, notificationId: n.id, appId: n.app_id, itemId: itemIdOf(n) },
      "notification received",
    );
  });
  log.info(
    { handler: BUILT_IN_LOG_HANDLER },
    "No --handlers module and no --forward target: every notification is delivered to the built-in log handler",
  );
}

/** Runs the plugins (outbound Data Events API, dashboard) in order, before the server listens. */
async function mountPlugins(
  ctx: ServiceContext,
  plugins: ReadonlyArray<(ctx: ServiceContext) => Promise<void> | void>,
): Promise<void> {
  for (const plugin of plugins) await plugin(ctx);
}

function registerForwards(receiver: Receiver, forwards: readonly ForwardTarget[], secret: string): void {
  const byUrl = new Map<string, string[]>();
  for (const f of forwards) byUrl.set(f.url, [...(byUrl.get(f.url) ?? []), f.pattern]);
  const urlByName = new Map<string, string>();
  for (const [url, patterns] of byUrl) {
    const name = forwardTargetName(url);
    if (urlByName.has(name))
      throw new ConfigError(
        `--forward: two URLs are both named "${name}" (they differ only in credentials or query string); give each target its own path`,
      );
    urlByName.set(name, url);
    receiver.router.register(name, patterns, createForwardHandler(url, secret));
  }
}
