/**
 * The receiver: one request in, verified (signature, size, age), parsed, routed to its targets and stored with one
 * delivery per target before the caller answers 200; duplicates are recognised by the store's dedupe key. `start()`
 * runs the deliveries through the store's processor with `delivery/dispatch.ts`. Framework- and driver-free: it depends
 * on the store contract, never on a store implementation, `node:http` or `process`.
 */
import { ConfigError, IntercomBridgeError, PayloadError, SignatureVerificationError, StoreError } from "./errors.js";
import { bodyBase64IfNotUtf8 } from "./exact-body.js";
import { createLogger, type Logger } from "./logger.js";
import { dedupeKeyOf, itemIdOf, parseNotification } from "./notification.js";
import { createRouter, type ErrorHandler, type Handler, type HandlerOptions, type Router } from "./router.js";
import { normalizeSecrets, rawBodyToBuffer, verifySignature, type RawBody } from "./signature.js";
import { systemClock, type Clock } from "./clock.js";
import { withTimeout } from "./with-timeout.js";
import { DEFAULTS, requireInt, resolveRetry } from "../config/options.js";
import { createRunner } from "../delivery/dispatch.js";
import { orderingKeyOf } from "../delivery/ordering-key.js";
import type { RetryPolicy } from "../delivery/types.js";
import type { DeliveryInput, Processor, ProcessorEvents, Store } from "../store/store.js";
import type { IntercomNotification, NotificationFor, TopicPattern } from "../topics/index.js";

/** Options of {@link createReceiver}. */
export interface ReceiverOptions {
  /** The app's client secret(s). Several = rotation: a body signed with any of them verifies. Required. */
  secrets: string | readonly string[];
  /** Where notifications and deliveries are kept. */
  store: Store;
  /** Largest body accepted, bytes. @defaultValue 1_048_576 (1 MiB) */
  maxBodyBytes?: number;
  /** How long dedupe keys are kept and the age past which a notification is refused as stale, ms. @defaultValue 7 days */
  dedupeTtlMs?: number;
  /** Longest a store write may take before `receive` fails with `IB_ERR_STORE_UNAVAILABLE`, ms. @defaultValue 2_000 */
  storeTimeoutMs?: number;
  /** Default retry policy of every handler. @defaultValue 8 attempts, exponential from 1 s, ±20 % jitter, cap 1 h */
  retry?: Partial<RetryPolicy>;
  /** Default per-run handler timeout, ms. @defaultValue 30_000 */
  handlerTimeoutMs?: number;
  /** Deliveries run at once by `start()`. @defaultValue 8 */
  concurrency?: number;
  /** Lease of a running delivery, ms. @defaultValue 30_000 */
  leaseMs?: number;
  /** Run deliveries of the same `data.item.id` one at a time in `created_at` order. @defaultValue true */
  ordered?: boolean;
  /** Unknown topics are always accepted; `warn` logs each once. @defaultValue "warn" */
  onUnknownTopic?: "warn" | "ignore";
  /** Logger; pino fits. @defaultValue silent */
  log?: Partial<Logger>;
  /** Time source (tests). @defaultValue the system clock */
  clock?: Clock;
  /** Processor listeners (metrics). */
  on?: Partial<ProcessorEvents>;
}

/** A request as any framework can describe it. Header names are matched case-insensitively. */
export interface ReceiveInput {
  /** The exact bytes received. Never a parsed-and-re-serialised object. */
  body: RawBody;
  headers: Record<string, string | readonly string[] | undefined> | Headers;
}

/** The outcome of a successful {@link Receiver.receive}. */
export interface ReceiveResult {
  status: "accepted" | "duplicate";
  /** Store id of the record (null for a duplicate whose original id the store does not know). */
  recordId: string | null;
  topic: string;
  notificationId: string | null;
  /** Names of the handlers and targets a delivery was created for. */
  targets: string[];
}

/** Receives, stores and dispatches Intercom webhook notifications. */
export interface Receiver {
  /** Registers a typed handler; see {@link Router.on}. */
  on<const P extends TopicPattern>(
    pattern: P | readonly P[],
    handler: Handler<NotificationFor<P>>,
    options?: HandlerOptions,
  ): () => void;
  /** Registers a handler for every notification. */
  onAny(handler: Handler, options?: HandlerOptions): () => void;
  /** Listens to failed handler runs. */
  onError(handler: ErrorHandler): () => void;
  /**
   * Verifies, parses, deduplicates and durably stores one request. Resolves once stored (answer 200 then);
   * rejects with an {@link IntercomBridgeError} whose `code` decides the HTTP status (see `http/status.ts`).
   */
  receive(input: ReceiveInput): Promise<ReceiveResult>;
  /**
   * Stores a notification that did not arrive over HTTP (one `reconcile` synthesized from Intercom's REST API) through
   * the same envelope checks, dedupe, routing and storage as {@link Receiver.receive}, without a signature: only call
   * it with notifications your own code built. `headers` are kept for operators (e.g. a `user-agent` naming the
   * source).
   * @throws {PayloadError} when the envelope is invalid or older than the dedupe retention; {@link StoreError}.
   */
  ingest(notification: IntercomNotification<string>, headers?: Record<string, string>): Promise<ReceiveResult>;
  /** Starts running deliveries in this process. Idempotent. */
  start(): void;
  /** Stops running deliveries (waiting up to `timeoutMs`), then closes the store. */
  close(timeoutMs?: number): Promise<void>;
  /** The underlying router (targets, names). */
  readonly router: Router;
  /** The store. */
  readonly store: Store;
  /** Resolved settings. */
  readonly settings: Readonly<{
    maxBodyBytes: number;
    dedupeTtlMs: number;
    storeTimeoutMs: number;
    retry: RetryPolicy;
  }>;
  /** Listens to stored notifications (live views). */
  onReceived(listener: (result: ReceiveResult, notification: IntercomNotification<string>) => void): () => void;
}

/**
 * Creates a receiver: verify → parse → dedupe + store → route → deliver.
 * @example
 * const receiver = createReceiver({ secrets: [process.env.INTERCOM_CLIENT_SECRET!], store: createMemoryStore() });
 * receiver.on("conversation.user.replied", async (n) => console.log(n.data.item.id));
 * receiver.start();
 */
export function createReceiver(options: ReceiverOptions): Receiver {
  if (!options || typeof options !== "object") throw new ConfigError("createReceiver needs an options object");
  const secrets = normalizeSecrets(options.secrets);
  if (!options.store) throw new ConfigError("store is required (createMemoryStore() for a quick start)");
  const store = options.store;
  const maxBodyBytes = requireInt(options.maxBodyBytes ?? DEFAULTS.maxBodyBytes, "maxBodyBytes", 1);
  const dedupeTtlMs = requireInt(options.dedupeTtlMs ?? DEFAULTS.dedupeTtlMs, "dedupeTtlMs", 1_000);
  const storeTimeoutMs = requireInt(options.storeTimeoutMs ?? DEFAULTS.storeTimeoutMs, "storeTimeoutMs", 1);
  const handlerTimeoutMs = requireInt(options.handlerTimeoutMs ?? DEFAULTS.handlerTimeoutMs, "handlerTimeoutMs", 1);
  const concurrency = requireInt(options.concurrency ?? DEFAULTS.concurrency, "concurrency", 1, 10_000);
  const leaseMs = requireInt(options.leaseMs ?? DEFAULTS.leaseMs, "leaseMs", 100);
  const retry = resolveRetry(DEFAULTS.retry, options.retry);
  const ordered = options.ordered ?? true;
  const clock = options.clock ?? systemClock;
  const log = createLogger(options.log);
  const router = createRouter({ onUnknownTopic: options.onUnknownTopic ?? "warn", log });
  const receivedListeners = new Set<(r: ReceiveResult, n: IntercomNotification<string>) => void>();
  let processor: Processor | undefined;
  let closed = false;

  async function receive(input: ReceiveInput): Promise<ReceiveResult> {
    if (closed) throw new IntercomBridgeError("IB_ERR_SHUTTING_DOWN", "The receiver is shutting down");
    const body = input.body;
    const size = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
    if (size > maxBodyBytes) {
      throw new IntercomBridgeError(
        "IB_ERR_BODY_TOO_LARGE",
        `Body is ${size} bytes; the limit is ${maxBodyBytes} (maxBodyBytes)`,
      );
    }
    const header = getHeader(input.headers, "x-hub-signature");
    if (header === undefined || header === "") {
      throw new SignatureVerificationError("IB_ERR_SIGNATURE_MISSING", "Missing X-Hub-Signature header");
    }
    if (!verifySignature(body, header, secrets)) {
      throw new SignatureVerificationError("IB_ERR_SIGNATURE_INVALID", "No matching signature found");
    }
    const parsed = parseNotification(body);
    if (!parsed.ok) throw parsed.error;
    const headers: Record<string, string> = {};
    for (const name of ["content-type", "user-agent", "x-forwarded-for"]) {
      const v = getHeader(input.headers, name);
      if (typeof v === "string") headers[name] = v;
    }
    const bytes = typeof body === "string" ? null : rawBodyToBuffer(body);
    const text = bytes === null ? (body as string) : bytes.toString("utf8");
    return store_(parsed.notification, text, headers, bytes === null ? undefined : bodyBase64IfNotUtf8(bytes, text));
  }

  async function ingest(
    notification: IntercomNotification<string>,
    headers: Record<string, string> = {},
  ): Promise<ReceiveResult> {
    if (closed) throw new IntercomBridgeError("IB_ERR_SHUTTING_DOWN", "The receiver is shutting down");
    const text = JSON.stringify(notification);
    const parsed = parseNotification(text);
    if (!parsed.ok) throw parsed.error;
    return store_(parsed.notification, text, headers);
  }

  /** Stale check, routing, dedupe + store, listeners: what every accepted notification goes through. */
  async function store_(
    n: IntercomNotification<string>,
    text: string,
    headers: Record<string, string>,
    bodyBase64?: string,
  ): Promise<ReceiveResult> {
    const createdAt = typeof n.created_at === "number" ? n.created_at : Math.floor(clock.now() / 1000);
    if (createdAt * 1000 < clock.now() - dedupeTtlMs) {
      throw new PayloadError(
        "stale",
        `Notification created_at ${createdAt} is older than the dedupe retention (${Math.round(dedupeTtlMs / 3_600_000)} h, --dedupe-retention / dedupeTtlMs); refused so a captured request cannot be replayed`,
      );
    }
    const itemId = itemIdOf(n);
    const appId = typeof n.app_id === "string" ? n.app_id : null;
    const targets = router.targetsFor(n.topic);
    const deliveries: DeliveryInput[] = targets.map((t) => ({
      target: t.name,
      retry: t.retry ? resolveRetry(retry, t.retry, `handler "${t.name}" retry`) : retry,
      orderingKey: ordered ? orderingKeyOf(t.name, appId, itemId) : null,
    }));
    const result = await storeAnswer(
      store.enqueue({
        dedupeKey: dedupeKeyOf(n),
        dedupeTtlMs,
        record: {
          queue: "inbound",
          topic: n.topic,
          body: text,
          ...(bodyBase64 !== undefined ? { bodyBase64 } : {}),
          appId,
          notificationId: n.id,
          itemId,
          createdAt,
          headers,
        },
        deliveries,
      }),
      storeTimeoutMs,
    );
    const out: ReceiveResult =
      result.status === "enqueued"
        ? {
            status: "accepted",
            recordId: result.recordId,
            topic: n.topic,
            notificationId: n.id,
            targets: targets.map((t) => t.name),
          }
        : { status: "duplicate", recordId: result.recordId, topic: n.topic, notificationId: n.id, targets: [] };
    for (const l of receivedListeners) {
      try {
        l(out, n);
      } catch (err) {
        log.error({ err }, "onReceived listener threw");
      }
    }
    return out;
  }

  return {
    on: (pattern, handler, opts) => router.on(pattern, handler, opts),
    onAny: (handler, opts) => router.onAny(handler, opts),
    onError: (handler) => router.onError(handler),
    receive,
    ingest,
    start() {
      if (processor || closed) return;
      processor = store.process("inbound", createRunner(router, { handlerTimeoutMs, log }), {
        concurrency,
        leaseMs,
        ordered,
        ...(options.on ? { on: options.on } : {}),
      });
    },
    async close(timeoutMs = DEFAULTS.shutdownTimeoutMs) {
      if (closed) return;
      closed = true;
      await processor?.close(timeoutMs);
      await store.close();
    },
    router,
    store,
    settings: Object.freeze({ maxBodyBytes, dedupeTtlMs, storeTimeoutMs, retry }),
    onReceived(listener) {
      receivedListeners.add(listener);
      return () => receivedListeners.delete(listener);
    },
  };
}

/** Reads one header case-insensitively from a plain object or a `Headers`. Arrays (repeated headers) are returned as-is. */
export function getHeader(headers: ReceiveInput["headers"], name: string): string | readonly string[] | undefined {
  if (typeof (headers as Headers).get === "function" && typeof (headers as Headers).has === "function") {
    return (headers as Headers).get(name) ?? undefined;
  }
  const h = headers as Record<string, string | readonly string[] | undefined>;
  const direct = h[name];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const key of Object.keys(h)) if (key.toLowerCase() === lower) return h[key];
  return undefined;
}

/** The store's answer within `storeTimeoutMs`; a driver failure becomes a {@link StoreError} (a 503). */
function storeAnswer<T>(promise: Promise<T>, ms: number): Promise<T> {
  const mapped = promise.catch((err: unknown) => {
    if (err instanceof IntercomBridgeError) throw err;
    throw new StoreError("The store could not save the notification", { cause: err });
  });
  return withTimeout(mapped, ms, () => new StoreError(`The store did not answer within ${ms} ms (storeTimeoutMs)`));
}
