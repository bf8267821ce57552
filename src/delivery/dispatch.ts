/**
 * Run-time dispatch of inbound deliveries: the job runner the engine calls for the `inbound` queue. It looks the
 * delivery's stable name up in a {@link HandlerLookup} (the router satisfies it), runs the handler with its context
 * under a timeout, and reports failures. Routing a topic to names happens at receive time, in `core/router.ts`; this
 * file must not import the router or the receiver (it takes the lookup as a parameter), nor a store or a framework.
 */
import { recordBodyBytes } from "../core/exact-body.js";
import { HandlerMissingError, HandlerTimeoutError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { IntercomNotification } from "../topics/index.js";
import type { JobRunner } from "./types.js";

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
  /**
   * The notification body as text, decoded as UTF-8. It is exactly what was received unless the body was not valid
   * UTF-8; to forward, sign or archive it byte for byte, use {@link HandlerContext.rawBodyBytes}.
   */
  rawBody: string;
  /** The notification body exactly as received, byte for byte (what Intercom signed). */
  rawBodyBytes: Buffer;
}

/** What dispatch needs of the router: a registration by name, and the `onError` listeners. */
export interface HandlerLookup {
  get(name: string):
    | {
        handler: (notification: IntercomNotification<string>, context: HandlerContext) => Promise<void> | void;
        timeoutMs: number | undefined;
      }
    | undefined;
  emitError(
    error: unknown,
    info: { name: string; notification: IntercomNotification<string>; attempt: number; willRetry: boolean },
  ): void;
}

/** Options of {@link createRunner}. */
export interface RunnerOptions {
  /** Default per-run timeout, ms (a registration's `timeoutMs` wins). */
  handlerTimeoutMs: number;
  log: Logger;
}

/**
 * The job runner every store calls for the inbound queue: finds the registration named by the delivery, runs it with
 * a context (attempt, signal, log) under a timeout, and reports failures to `onError` listeners.
 * A delivery whose name is no longer registered dead-letters with `IB_ERR_HANDLER_MISSING`.
 */
export function createRunner(router: HandlerLookup, options: RunnerOptions): JobRunner {
  return async (job, signal) => {
    const reg = router.get(job.target);
    if (!reg) throw new HandlerMissingError(job.target);
    const notification = JSON.parse(job.record.body) as IntercomNotification<string>;
    let bytes: Buffer | undefined;
    const timeoutMs = reg.timeoutMs ?? options.handlerTimeoutMs;
    const timeout = new AbortController();
    const combined = AbortSignal.any([signal, timeout.signal]);
    const log = bindLogger(options.log, {
      deliveryId: job.id,
      handler: job.target,
      topic: job.record.topic,
      attempt: job.attempt,
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new HandlerTimeoutError(job.target, timeoutMs);
        timeout.abort(err);
        reject(err);
      }, timeoutMs);
      timer.unref?.();
    });
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason as Error);
      signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
    });
    try {
      await Promise.race([
        Promise.resolve().then(() =>
          reg.handler(notification, {
            attempt: job.attempt,
            maxAttempts: job.maxAttempts,
            signal: combined,
            log,
            deliveryId: job.id,
            name: job.target,
            rawBody: job.record.body,
            // Built on first use: most handlers never read the bytes.
            get rawBodyBytes() {
              return (bytes ??= recordBodyBytes(job.record));
            },
          }),
        ),
        timedOut,
        aborted,
      ]);
    } catch (error) {
      router.emitError(error, {
        name: job.target,
        notification,
        attempt: job.attempt,
        willRetry: job.attempt < job.maxAttempts,
      });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
}

function bindLogger(log: Logger, bindings: object): Logger {
  const child = (log as Logger & { child?: (b: object) => Logger }).child;
  if (typeof child === "function") return child.call(log, bindings);
  return {
    debug: (o, m) => log.debug({ ...bindings, ...o }, m),
    info: (o, m) => log.info({ ...bindings, ...o }, m),
    warn: (o, m) => log.warn({ ...bindings, ...o }, m),
    error: (o, m) => log.error({ ...bindings, ...o }, m),
  };
}
