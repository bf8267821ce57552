import { startRetention, type Retention, type RetentionStatus } from "../store/retention.js";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { ConfigError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { itemIdOf } from "../core/notification.js";
import { createReceiver, type Receiver } from "../core/receiver.js";
import type { Handler } from "../core/router.js";
import { handleNodeRequest, send } from "../http/node.js";
import type { Store } from "../store/store.js";
import { createForwardHandler, type ForwardTarget } from "./forward.js";
import { createMetrics, type ServiceMetrics } from "./metrics.js";

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
  /** Lease of a running delivery, ms. @defaultValue 30_000 */
  leaseMs?: number;
  /** pino level. @defaultValue "info" */
  logLevel?: string;
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

/** The composition root: the only place fastify and a concrete store meet the library. */
export async function createService(options: ServiceOptions): Promise<Service> {
  const dataDir = resolve(options.dataDir ?? "./data");
  const webhookPath = options.webhookPath ?? "/webhooks/intercom";
  let serverRef: Server | undefined;
  const hotPath: { handle?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  const quietLog = createQuietRequestLog();
  const app = Fastify({
    logger: {
      level: options.logLevel ?? "info",
      redact: ["req.headers.authorization", 'req.headers["x-hub-signature"]'],
    },
    ...(quietLog ? { logController: quietLog } : {}),
    bodyLimit: options.maxBodyBytes ?? 1_048_576,
    serverFactory: (fastifyHandler) => {
      // The webhook path bypasses fastify's routing: this is the hot path Intercom waits on.
      serverRef = createServer((req, res) => {
        const url = req.url ?? "/";
        const q = url.indexOf("?");
        if ((q === -1 ? url : url.slice(0, q)) === webhookPath && hotPath.handle) hotPath.handle(req, res);
        else fastifyHandler(req, res);
      });
      serverRef.keepAliveTimeout = 65_000;
      return serverRef;
    },
  });
  const log = app.log as unknown as Logger;

  const secrets =
    options.secrets.length > 0
      ? options.secrets
      : [loadOrCreateSecret(dataDir, "dev-client-secret", log, "secret").value];
  const store = options.store;
  const metrics = createMetrics(store);
  const receiver = createReceiver({
    secrets,
    store,
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
    on: metrics.processorEvents,
  });
  receiver.onReceived((r) => metrics.observeReceived(r.topic, r.status === "duplicate" ? "duplicate" : "accepted"));

  if (options.handlersModule) await loadHandlers(receiver, options.handlersModule);
  registerForwards(receiver, options.forwards ?? [], options.forwardSecret ?? secrets[0]!);
  if (options.builtInLogHandler === true) {
    // With nothing configured, every notification still gets one delivery that logs it, so a first run shows what
    // arrives (logs, deliveries list, dashboard) instead of storing it silently.
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

  hotPath.handle = (req, res) => {
    handleNodeRequest(receiver, req).then(
      (r) => {
        if (r.status !== 200) {
          const code = r.body
            ? ((JSON.parse(r.body) as { error?: { code?: string } }).error?.code ?? String(r.status))
            : String(r.status);
          metrics.observeReceived(null, code);
          log.warn({ status: r.status, code, method: req.method }, "webhook request refused");
        }
        send(res, r);
      },
      (err: unknown) => {
        log.error({ err }, "webhook handler failed");
        send(res, {
          status: 500,
          headers: { "content-type": "application/json" },
          body: '{"error":{"code":"IB_ERR_INTERNAL","message":"Internal error"}}',
        });
      },
    );
  };

  const admin =
    options.adminToken && options.adminToken.length > 0
      ? { value: options.adminToken, isCreated: false }
      : loadOrCreateSecret(dataDir, "admin-token", log, "admin");
  const adminToken = admin.value;
  const readiness = new Map<string, { check: () => Promise<void>; critical: boolean }>([
    ["store", { check: () => store.ping(), critical: true }],
  ]);
  const closers: Array<() => Promise<void>> = [];
  let retention: Retention | undefined;
  let purgedSinceStart = 0;
  const retentionStatus = (): RetentionStatus => ({
    retentionMs: options.retentionMs !== undefined && options.retentionMs > 0 ? options.retentionMs : null,
    purgedSinceStart,
  });

  app.get("/healthz", (_req, reply) => reply.send({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const checks: Record<string, string> = {};
    let ready = true;
    for (const [name, { check, critical }] of readiness) {
      try {
        await withDeadline(check(), 2_000);
        checks[name] = "ok";
      } catch (err) {
        if (critical) ready = false;
        checks[name] = (err as Error).message;
      }
    }
    return reply.code(ready ? 200 : 503).send({ ready, checks });
  });
  app.get("/metrics", async (_req, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });

  const ctx: ServiceContext = {
    app,
    receiver,
    store,
    metrics,
    adminToken,
    log,
    addReadinessCheck: (name, check, opts) => readiness.set(name, { check, critical: opts?.critical ?? true }),
    onClose: (fn) => closers.push(fn),
    retention: retentionStatus,
  };
  for (const plugin of options.plugins ?? []) await plugin(ctx);

  let closing: Promise<void> | undefined;
  return {
    app,
    receiver,
    store,
    metrics,
    adminToken,
    log,
    retention: retentionStatus,
    async listen() {
      receiver.start();
      if (options.retentionMs !== undefined && options.retentionMs > 0 && !retention) {
        retention = startRetention({
          store,
          retentionMs: options.retentionMs,
          log,
          onPurged: (n) => {
            purgedSinceStart += n;
            metrics.observePurged(n);
          },
        });
        closers.unshift(() => retention!.stop());
        // What expired while the service was down goes now, not a minute from now.
        retention.runOnce().catch((err: unknown) => log.warn({ err }, "retention run failed; will try again"));
      }
      const address = await app.listen({ port: options.port ?? 8080, host: options.host ?? "127.0.0.1" });
      // With the token generated in this run, say where to use it: only now is the port known (it may be 0).
      if (admin.isCreated) process.stderr.write(`  Dashboard: ${address.replace(/\/$/, "")}/dashboard/\n\n`);
      return address;
    },
    close() {
      closing ??= (async () => {
        const deadline = options.shutdownTimeoutMs ?? 10_000;
        // Stop accepting first; in-flight requests finish (their data is committed before they answer).
        serverRef?.closeIdleConnections();
        await app.close();
        for (const fn of closers) await fn().catch((err: unknown) => log.error({ err }, "shutdown step failed"));
        await receiver.close(deadline);
      })();
      return closing;
    },
  };
}

/** Reads the dashboard polls (every few seconds per open browser): logged at debug, so info logs stay about events. */
function isDashboardRead(req: FastifyRequest): boolean {
  const url = req.url;
  return req.method === "GET" && (url.startsWith("/api/") || url === "/dashboard" || url.startsWith("/dashboard/"));
}

/**
 * fastify logs "incoming request" and "request completed" at info for every request. An open dashboard polls the
 * overview every 5 s, which buried everything else; its reads (GET /api/*, the page and its files) go to debug.
 * Writes (replays, POST /api/events) stay at info as an audit trail. Undefined on a fastify without `LogController`.
 */
function createQuietRequestLog(): InstanceType<typeof Fastify.LogController> | undefined {
  const Base = (Fastify as { LogController?: typeof Fastify.LogController }).LogController;
  if (!Base) return undefined;
  class QuietDashboardLog extends Base {
    override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
      if (!isDashboardRead(request)) return super.incomingRequest(request, reply);
      request.log.debug({ req: request }, "incoming request");
    }
    override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
      if (error || !isDashboardRead(request)) return super.requestCompleted(error, request, reply);
      reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, "request completed");
    }
  }
  return new QuietDashboardLog();
}

/** The handlers-module key that receives every notification, unknown topics included (the module's `onAny`). */
const ANY_TOPIC_KEY = "**";

async function loadHandlers(receiver: Receiver, modulePath: string): Promise<void> {
  const abs = resolve(modulePath);
  if (!existsSync(abs)) throw new ConfigError(`--handlers: module "${modulePath}" does not exist`);
  const mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
  const map = mod.default;
  if (!map || typeof map !== "object") {
    throw new ConfigError(
      `--handlers: "${modulePath}" must default-export an object mapping topic patterns to handlers`,
    );
  }
  for (const [pattern, handler] of Object.entries(map as Record<string, unknown>)) {
    if (typeof handler !== "function")
      throw new ConfigError(`--handlers: "${pattern}" in "${modulePath}" is not a function`);
    // "**" is the module's onAny; other keys are typed by defineHandlers like on(): catalogued topics only.
    if (pattern === ANY_TOPIC_KEY) receiver.router.register(pattern, ["*"], handler as Handler);
    else receiver.router.register(pattern, [pattern], handler as Handler, { knownTopicsOnly: true });
  }
}

function registerForwards(receiver: Receiver, forwards: readonly ForwardTarget[], secret: string): void {
  const byUrl = new Map<string, string[]>();
  for (const f of forwards) byUrl.set(f.url, [...(byUrl.get(f.url) ?? []), f.pattern]);
  for (const [url, patterns] of byUrl)
    receiver.router.register(`forward:${url}`, patterns, createForwardHandler(url, secret));
}

/** Reads `dataDir/file`, or creates it (mode 0600) and says so once; `isCreated` tells which. */
function loadOrCreateSecret(
  dataDir: string,
  file: string,
  log: Logger,
  kind: "secret" | "admin",
): { value: string; isCreated: boolean } {
  const path = join(dataDir, file);
  if (existsSync(path)) return { value: readFileSync(path, "utf8").trim(), isCreated: false };
  mkdirSync(dataDir, { recursive: true });
  const value = randomBytes(24).toString("base64url");
  writeFileSync(path, value + "\n", { mode: 0o600 });
  if (kind === "secret") {
    // Printed once, on creation, to the terminal (not the structured log) so `simulate` users can sign with it.
    process.stderr.write(
      `\n  WARNING: no INTERCOM_CLIENT_SECRET set. Generated a development secret in ${path}:\n    ${value}\n  \`intercom-bridge simulate\` uses it automatically. Set INTERCOM_CLIENT_SECRET to your app's client secret in production.\n\n`,
    );
    log.warn(
      { file: path },
      "No INTERCOM_CLIENT_SECRET set: generated a DEVELOPMENT client secret (stored in the file named here). Only requests signed with it are accepted; set INTERCOM_CLIENT_SECRET to your app's client secret for production.",
    );
  } else {
    process.stderr.write(
      `\n  No INTERCOM_BRIDGE_ADMIN_TOKEN set. Generated an admin token in ${path}:\n    ${value}\n  Sign in to the dashboard with it (its address follows once the service listens).\n`,
    );
    log.warn(
      { file: path },
      "No INTERCOM_BRIDGE_ADMIN_TOKEN set: generated an admin token for the dashboard and /api (stored in the file named here)",
    );
  }
  return { value, isCreated: true };
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(t));
}
