/**
 * The router: named handler registrations matched by exact topic, `group.*` or `*`, resolved to stable target names at
 * receive time, where each name becomes one delivery; run-time dispatch (`delivery/dispatch.ts`) looks the names up
 * again. Framework- and storage-free: must not import a store, a driver or `node:http`.
 */
import { ConfigError } from "./errors.js";
import { createLogger, type Logger } from "./logger.js";
import { checkTopicPattern } from "../topics/check-pattern.js";
import type { HandlerContext } from "../delivery/dispatch.js";
import type { RetryPolicy } from "../delivery/types.js";

export type { HandlerContext } from "../delivery/dispatch.js";
import {
  isKnownTopic,
  topicMatches,
  type IntercomNotification,
  type NotificationFor,
  type TopicPattern,
} from "../topics/index.js";

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

/** Options of {@link Router.register}. */
export interface RegisterOptions extends Omit<HandlerOptions, "name"> {
  /** Match catalogued topics only, as a typed `on()` registration does. @defaultValue false */
  knownTopicsOnly?: boolean;
}

/** Called for every failed handler run (after the failure is recorded). */
export type ErrorHandler = (
  error: unknown,
  info: { name: string; notification: IntercomNotification<string>; attempt: number; willRetry: boolean },
) => void;

/** One registered target: a handler or a forward target. */
export interface Registration {
  /** The stable name deliveries refer to. */
  readonly name: string;
  /** The topics and patterns it matches (`topic`, `group.*`, `*`). */
  readonly patterns: readonly string[];
  /** What runs for each matching notification. */
  readonly handler: Handler;
  /** Retry policy overrides, if any. */
  readonly retry: Partial<RetryPolicy> | undefined;
  /** Per-run timeout override in ms, if any. */
  readonly timeoutMs: number | undefined;
  /**
   * True for typed `on()` registrations: their handler is typed for catalogued topics only, so a topic outside the
   * catalogue never reaches them through `on("*")` or a matching `group.*` (only through a key naming it exactly).
   * `onAny` and `register` receive every topic.
   */
  readonly knownTopicsOnly: boolean;
}

/** Options of {@link createRouter}. */
export interface RouterOptions {
  /** What to do when a topic outside the catalogue arrives: it is always accepted. @defaultValue "warn" */
  onUnknownTopic?: "warn" | "ignore";
  /** Where warnings go (unknown topics, failing `onError` listeners). @defaultValue a pino-compatible no-op logger */
  log?: Partial<Logger>;
}

/** Unknown topics warned about at most once each; past this many distinct ones, no further warnings are kept. */
const MAX_WARNED_TOPICS = 1_000;

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
  /**
   * Registers a handler for every notification, known topics or not; the only typed way to receive topics outside the
   * catalogue (`on("*")` receives catalogued topics only). @defaultValue name `"*"`
   */
  onAny(handler: Handler, options?: HandlerOptions): () => void;
  /** Registers a listener for failed handler runs. Returns an unsubscribe function. */
  onError(handler: ErrorHandler): () => void;
  /**
   * Registers a target under an explicit name for raw patterns (forward targets, handler modules). Untyped, so its
   * patterns match topics outside the catalogue too (`*` and `group.*`) unless `options.knownTopicsOnly` is set.
   */
  register(name: string, patterns: readonly string[], handler: Handler, options?: RegisterOptions): () => void;
  /** The registrations whose patterns match `topic`, in registration order. Logs unknown topics once. */
  targetsFor(topic: string): Registration[];
  /** The registration with this name, if any. */
  get(name: string): Registration | undefined;
  /** All registrations. */
  list(): Registration[];
  /** Reports a failed run to every `onError` listener (listener errors are logged, not thrown). */
  emitError(error: unknown, info: Parameters<ErrorHandler>[1]): void;
}

/**
 * Creates a router: named registrations matched by topic, `group.*` or `*`. Framework- and storage-free; the receiver
 * (`createReceiver`, `createIntercomWebhooks`) owns one.
 * @example
 * const router = createRouter({ log: console });
 * const off = router.on("conversation.user.replied", (n) => console.log(n.data.item.id), { name: "crm-sync" });
 * router.targetsFor("conversation.user.replied"); // [the crm-sync registration]
 * off();
 */
export function createRouter(options: RouterOptions = {}): Router {
  const log = createLogger(options.log);
  const onUnknown = options.onUnknownTopic ?? "warn";
  const registrations = new Map<string, Registration>();
  const errorHandlers = new Set<ErrorHandler>();
  const warnedTopics = new Set<string>();

  function add(name: string, patterns: readonly string[], handler: Handler, opts: RegisterOptions = {}): () => void {
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
      knownTopicsOnly: opts.knownTopicsOnly ?? false,
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
      for (const p of patterns) {
        if (typeof p !== "string") continue; // add() names the problem
        const check = checkTopicPattern(p);
        if (check.kind === "error")
          throw new ConfigError(`on(${JSON.stringify(p)}): ${check.message} (\`intercom-bridge topics\` lists them)`);
        if (check.kind === "uncatalogued") log.warn({ topic: p }, `on(): ${check.message}`);
      }
      const { name, ...rest } = opts;
      return add(name ?? defaultName(patterns.join(",")), patterns, handler as Handler, {
        ...rest,
        knownTopicsOnly: true,
      });
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
      const isKnown = isKnownTopic(topic);
      if (!isKnown && onUnknown === "warn" && !warnedTopics.has(topic) && warnedTopics.size < MAX_WARNED_TOPICS) {
        warnedTopics.add(topic);
        log.warn({ topic }, "Unknown Intercom topic received; accepted and routed to onAny handlers only");
      }
      return [...registrations.values()].filter(
        // A topic outside the catalogue reaches untyped registrations, and typed ones that name it exactly.
        (r) =>
          (isKnown || !r.knownTopicsOnly || r.patterns.includes(topic)) &&
          r.patterns.some((p) => topicMatches(p, topic)),
      );
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
