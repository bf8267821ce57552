import { HandlerMissingError, HandlerTimeoutError, describeError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Router } from "../core/router.js";
import type { IntercomNotification } from "../topics/index.js";
import type { JobRunner } from "./types.js";

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
export function createRunner(router: Router, options: RunnerOptions): JobRunner {
  return async (job, signal) => {
    const reg = router.get(job.target);
    if (!reg) throw new HandlerMissingError(job.target);
    const notification = JSON.parse(job.record.body) as IntercomNotification<string>;
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
      log.warn({ err: describeError(error) }, "handler failed");
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
