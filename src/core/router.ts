import { ConfigError } from "./errors.js";
import { createLogger, type Logger } from "./logger.js";
import type { RetryPolicy } from "../queue/types.js";
import {
  isKnownTopic,
  topicMatches,
  type IntercomNotification,
  type NotificationFor,
  type TopicPattern,
} from "../topics/index.js";

/** What a handler receives besides the notification. */
export interface HandlerContext {
  /** 1-based attempt number of this run. */
  attempt: number;
  /** Total attempts this delivery may use. */
  maxAttempts: number;
  /** Aborted on timeout (`handlerTimeoutMs`) or shutdown; pass it to fetch and friends. */
  signal: AbortSignal;
  /** A logger bound to this delivery. */
  log: Logger;
  /** The delivery's id (stable across attempts). */
  deliveryId: string;
  /** The handler's registered name. */
  name: string;
  /** The notification body exactly as received (e.g. to forward or archive it byte for byte). */
  rawBody: string;
}

/** A notification handler. Resolve = done; throw to retry (see `UnrecoverableError`, `RetryLaterError`). */
export type Handler<TNotification = IntercomNotification<string>> = (
  notification: TNotification,
  context: HandlerContext,
) => Promise<void> | void;

/** Options of one registration. */
export interface HandlerOptions {
  /**
   * Stable name deliveries refer to across restarts. Renaming or removing it dead-letters its pending deliveries with
   * `IB_ERR_HANDLER_MISSING`.
   * @defaultValue the pattern (list: patterns joined by `,`), plus `#2`, `#3`… for repeated registrations
   */
  name?: string;
  /** Retry policy overrides for this handler. @defaultValue the receiver's `retry` */
  retry?: Partial<RetryPolicy>;
  /** Per-run timeout in ms; the run's `signal` aborts when it passes. @defaultValue the receiver's `handlerTimeoutMs` */
  timeoutMs?: number;
}

/** Called for every failed handler run (after the failure is recorded). */
export type ErrorHandler = (
  error: unknown,
  info: { name: string; notification: IntercomNotification<string>; attempt: number; willRetry: boolean },
) => void;

/** One registered target: a handler or a forward target. */
export interface Registration {
  readonly name: string;
  readonly patterns: readonly string[];
  readonly handler: Handler;
  readonly retry: Partial<RetryPolicy> | undefined;
  readonly timeoutMs: number | undefined;
}

/** Options of {@link createRouter}. */
export interface RouterOptions {
  /** What to do when a topic outside the catalogue arrives: it is always accepted. @defaultValue "warn" */
  onUnknownTopic?: "warn" | "ignore";
  log?: Partial<Logger>;
}

const NAME_RE = /^[A-Za-z0-9_.*#,:/?=&%@+~-]{1,300}$/;

/** Routes topics to named handlers. Framework- and storage-free. */
export interface Router {
  /**
   * Registers a handler for a topic, a `group.*` pattern, `*`, or a list of them. Returns an unsubscribe function.
   * @example router.on("conversation.user.replied", async (n) => { n.data.item; }, { name: "crm-sync" })
   */
  on<const P extends TopicPattern>(
    pattern: P | readonly P[],
    handler: Handler<NotificationFor<P>>,
    options?: HandlerOptions,
  ): () => void;
  /** Registers a handler for every notification, known topics or not. @defaultValue name `"*"` */
  onAny(handler: Handler, options?: HandlerOptions): () => void;
  /** Registers a listener for failed handler runs. Returns an unsubscribe function. */
  onError(handler: ErrorHandler): () => void;
  /** Registers a target under an explicit name for raw patterns (forward targets, handler modules). */
  register(
    name: string,
    patterns: readonly string[],
    handler: Handler,
    options?: Omit<HandlerOptions, "name">,
  ): () => void;
  /** The registrations whose patterns match `topic`, in registration order. Logs unknown topics once. */
  targetsFor(topic: string): Registration[];
  /** The registration with this name, if any. */
  get(name: string): Registration | undefined;
  /** All registrations. */
  list(): Registration[];
  /** Reports a failed run to every `onError` listener (listener errors are logged, not thrown). */
  emitError(error: unknown, info: Parameters<ErrorHandler>[1]): void;
}

/** Creates a router. */
export function createRouter(options: RouterOptions = {}): Router {
  const log = createLogger(options.log);
  const onUnknown = options.onUnknownTopic ?? "warn";
  const registrations = new Map<string, Registration>();
  const errorHandlers = new Set<ErrorHandler>();
  const warnedTopics = new Set<string>();

  function add(
    name: string,
    patterns: readonly string[],
    handler: Handler,
    opts: Omit<HandlerOptions, "name"> = {},
  ): () => void {
    if (typeof handler !== "function") throw new ConfigError(`handler for "${name}" must be a function`);
    if (!NAME_RE.test(name)) throw new ConfigError(`handler name "${name}" must be 1-300 characters without spaces`);
    if (registrations.has(name)) throw new ConfigError(`a handler named "${name}" is already registered`);
    for (const p of patterns) validatePattern(p);
    const reg: Registration = Object.freeze({
      name,
      patterns: Object.freeze([...patterns]),
      handler,
      retry: opts.retry,
      timeoutMs: opts.timeoutMs,
    });
    registrations.set(name, reg);
    return () => {
      if (registrations.get(name) === reg) registrations.delete(name);
    };
  }

  function defaultName(base: string): string {
    if (!registrations.has(base)) return base;
    for (let i = 2; ; i++) if (!registrations.has(`${base}#${i}`)) return `${base}#${i}`;
  }

  return {
    on(pattern, handler, opts = {}) {
      const patterns = typeof pattern === "string" ? [pattern] : [...(pattern as readonly string[])];
      if (patterns.length === 0) throw new ConfigError("on() needs at least one topic or pattern");
      const { name, ...rest } = opts;
      return add(name ?? defaultName(patterns.join(",")), patterns, handler as Handler, rest);
    },
    onAny(handler, opts = {}) {
      const { name, ...rest } = opts;
      return add(name ?? defaultName("*"), ["*"], handler, rest);
    },
    onError(handler) {
      errorHandlers.add(handler);
      return () => errorHandlers.delete(handler);
    },
    register: add,
    targetsFor(topic) {
      if (!isKnownTopic(topic) && onUnknown === "warn" && !warnedTopics.has(topic)) {
        warnedTopics.add(topic);
        log.warn({ topic }, "Unknown Intercom topic received; accepted and routed to catch-all handlers only");
      }
      return [...registrations.values()].filter((r) => r.patterns.some((p) => topicMatches(p, topic)));
    },
    get: (name) => registrations.get(name),
    list: () => [...registrations.values()],
    emitError(error, info) {
      for (const h of errorHandlers) {
        try {
          h(error, info);
        } catch (listenerError) {
          log.error({ err: listenerError }, "onError listener threw");
        }
      }
    },
  };
}

function validatePattern(p: string): void {
  if (typeof p !== "string" || p.length === 0) throw new ConfigError("a topic pattern must be a non-empty string");
  if (p === "*") return;
  const star = p.indexOf("*");
  // ".*" (an empty group) would silently match nothing.
  if (star !== -1 && !(p.endsWith(".*") && star === p.length - 1 && p.length > 2)) {
    throw new ConfigError(`topic pattern "${p}" is invalid: use an exact topic, "group.*" or "*"`);
  }
}
