/**
 * The HTTP server of `serve`: a `node:http` server whose webhook path runs the library's own request flow directly
 * (the hot path Intercom waits on) and whose every other path goes to fastify (health, metrics, admin API,
 * dashboard). It owns what the HTTP layer says on its own behalf: request, header and keep-alive timeouts, the cap on
 * open connections, and the JSON error shape of every answer that is not produced by a route (408, 431, malformed HTTP,
 * unknown paths). Composed by `create-service.ts`; imports no store.
 */
import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { IntercomBridgeError, type ErrorCode } from "../core/errors.js";
import type { DestinationStream } from "pino";
import type { Logger } from "../core/logger.js";
import type { Receiver } from "../core/receiver.js";
import { type WebhookResponse } from "../http/handle-webhook.js";
import { NODE_REQUEST_HOOKS, pathOf, send, type NodeRequest } from "../http/node-io.js";
import { createRequestFlow } from "../http/request-flow.js";
import { STATUS_BY_CODE, bodyErrorCode, toErrorResponse } from "../http/status.js";
import type { ServiceMetrics } from "./metrics.js";

/** Headers must arrive within this (or the request timeout, if shorter). Intercom sends them at once. */
const HEADERS_TIMEOUT_MS = 10_000;
/** Longer than the 60 s idle timeout of common load balancers, so they never reuse a connection we just closed. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** What {@link createHttpServer} needs. */
export interface HttpServerOptions {
  webhookPath: string;
  logLevel: string;
  maxBodyBytes: number;
  /** Headers and body must have arrived within this, ms; 0 turns the limit off. */
  requestTimeoutMs: number;
  /** Open connections beyond this are closed at once. */
  maxConnections: number;
  /** Where log lines go instead of stdout as JSON (`--log-format pretty`). @defaultValue JSON on stdout */
  logStream?: DestinationStream | undefined;
}

/** The server {@link createHttpServer} built, not yet listening. */
export interface HttpServer {
  app: FastifyInstance;
  log: Logger;
  /** Routes the webhook path to the receiver (until then it answers 404 through fastify). */
  routeWebhooks(receiver: Receiver, metrics: ServiceMetrics): void;
  /** Closes idle keep-alive connections, so a shutdown does not wait for them. */
  closeIdleConnections(): void;
}

/** Builds fastify on a `node:http` server configured with `options`' timeouts and connection cap. */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  let server: Server | undefined;
  let webhooks: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const timedOut = new WeakSet<Socket>();
  const quietLog = createQuietRequestLog();
  const app = Fastify({
    logger: {
      level: options.logLevel,
      redact: ["req.headers.authorization", 'req.headers["x-hub-signature"]'],
      // Paths only: a token put in a query string must not reach the logs.
      serializers: { req: serializeRequest },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    ...(quietLog ? { logController: quietLog } : {}),
    bodyLimit: options.maxBodyBytes,
    clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket) {
      if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") timedOut.add(socket);
      answerClientError(err, socket, log);
    },
    serverFactory: (fastifyHandler) => {
      const requestTimeout = options.requestTimeoutMs;
      server = createServer(
        {
          requestTimeout,
          headersTimeout: requestTimeout > 0 ? Math.min(requestTimeout, HEADERS_TIMEOUT_MS) : HEADERS_TIMEOUT_MS,
          keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
          // How often Node looks for requests past their timeout (its default, 30 s, would make a short limit late).
          connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor((requestTimeout || 10_000) / 10))),
        },
        (req, res) => {
          // The webhook path bypasses fastify's routing: this is the hot path Intercom waits on.
          if (webhooks && pathOf(req.url) === options.webhookPath) webhooks(req, res);
          else fastifyHandler(req, res);
        },
      );
      server.maxConnections = options.maxConnections;
      return server;
    },
  });
  const log = app.log as unknown as Logger;
  registerErrorShape(app);

  return {
    app,
    log,
    routeWebhooks(receiver, metrics) {
      const flow = createRequestFlow<NodeRequest, ServerResponse, void>({
        ...NODE_REQUEST_HOOKS,
        send(res, r, req) {
          if (r.code !== undefined) observeRefusal(r, req, timedOut.has(req.socket), metrics, log);
          send(res, r);
        },
        unexpectedError: (err) => log.error({ err }, "webhook request failed"),
      });
      webhooks = (req, res) => void flow(receiver, req, res);
    },
    closeIdleConnections: () => server?.closeIdleConnections(),
  };
}

/** Counts and logs a webhook request that did not end in 200: refusals at warn, a client going away at info. */
function observeRefusal(
  r: WebhookResponse,
  req: IncomingMessage,
  isTimedOut: boolean,
  metrics: ServiceMetrics,
  log: Logger,
): void {
  const fields = { method: req.method, path: pathOf(req.url) };
  if (r.code === "IB_ERR_CLIENT_ABORTED") {
    // Not a server fault: no 5xx, no alert. A request past --request-timeout was answered 408 by the server.
    const code = isTimedOut ? "IB_ERR_REQUEST_TIMEOUT" : "aborted";
    metrics.observeReceived(null, code);
    if (isTimedOut) log.warn({ ...fields, status: 408, code }, "webhook request timed out before its body arrived");
    else log.info({ ...fields, outcome: code }, "webhook request aborted by the client before its body arrived");
    return;
  }
  metrics.observeReceived(null, r.code ?? String(r.status));
  log.warn({ ...fields, status: r.status, code: r.code }, "webhook request refused");
}

/**
 * Answers what Node's HTTP parser refuses before any route runs (a request past its timeout, headers too large,
 * something that is not HTTP) with our JSON error shape, then closes the connection.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket, log: Logger): void {
  // A reset connection has nobody left to answer.
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const code: ErrorCode =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? "IB_ERR_REQUEST_TIMEOUT"
      : err.code === "HPE_HEADER_OVERFLOW"
        ? "IB_ERR_HEADERS_TOO_LARGE"
        : "IB_ERR_BAD_REQUEST";
  const message =
    code === "IB_ERR_REQUEST_TIMEOUT"
      ? "The request's headers and body did not arrive in time (--request-timeout)"
      : code === "IB_ERR_HEADERS_TOO_LARGE"
        ? "The request's headers are too large"
        : "The request is not valid HTTP";
  log.debug({ code, reason: err.code }, "client error");
  // Once a route started answering, the status line is out: all that is left is to close.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && inFlight?.headersSent !== true) {
    const status = STATUS_BY_CODE[code];
    const body = JSON.stringify({ error: { code, message } });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Unknown paths and errors no route handled answer `{"error":{"code","message"}}` like everything else. */
function registerErrorShape(app: FastifyInstance): void {
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send({ error: { code: "IB_ERR_NOT_FOUND", message: `No route for ${req.method} ${pathOf(req.url)}` } }),
  );
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    if (err instanceof IntercomBridgeError) {
      const { status, body } = toErrorResponse(err);
      return reply.code(status).send(body);
    }
    if (typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500) {
      const code = bodyErrorCode(err.statusCode);
      return reply.code(STATUS_BY_CODE[code]).send({ error: { code, message: err.message } });
    }
    req.log.error({ err }, "request failed");
    const { status, body } = toErrorResponse(err);
    return reply.code(status).send(body);
  });
  // Admin API answers are JSON only: no browser may guess another type from their content.
  app.addHook("onRequest", (req, reply, done) => {
    if (req.url.startsWith("/api/") || req.url === "/api") reply.header("x-content-type-options", "nosniff");
    done();
  });
}

/** pino's request fields, with the path instead of the URL: no query string (it may hold a token) is logged. */
function serializeRequest(req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: pathOf(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
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
