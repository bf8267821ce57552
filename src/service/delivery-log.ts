/**
 * What `serve` logs about delivery runs: every failed run at warn with the error itself (its stack included),
 * whether it will be retried and when, and one line at error when a delivery goes dead, naming the notification,
 * topic, target and attempts, so a dead letter is never silent. Fed by the store's processor events.
 */
import type { Logger } from "../core/logger.js";
import type { ProcessorEvents } from "../store/store.js";

/** Processor listeners that log failed runs and dead letters. */
export function deliveryLogEvents(log: Logger): Partial<ProcessorEvents> {
  return {
    finished(e) {
      if (e.outcome === "completed") return;
      const isDead = e.outcome === "dead";
      const nextRunAt = typeof e.nextRunAt === "number" ? new Date(e.nextRunAt).toISOString() : null;
      log.warn(
        {
          err: e.error,
          deliveryId: e.jobId,
          target: e.target,
          topic: e.topic,
          attempt: e.attempt,
          outcome: e.outcome,
          willRetry: !isDead,
          nextRunAt,
        },
        "delivery failed",
      );
      if (isDead) {
        log.error(
          {
            notificationId: e.notificationId ?? null,
            topic: e.topic,
            target: e.target,
            deliveryId: e.jobId,
            attempts: e.attempt,
            err: e.error,
          },
          "delivery is dead: it will not be retried (replay it once the cause is fixed)",
        );
      }
    },
  };
}

/** Listeners that call each of `parts` in turn; one listener's failure does not stop the others. */
export function combineProcessorEvents(...parts: Array<Partial<ProcessorEvents>>): Partial<ProcessorEvents> {
  return {
    started(e) {
      for (const p of parts) {
        try {
          p.started?.(e);
        } catch {
          // a listener's bug must not stop the next one
        }
      }
    },
    finished(e) {
      for (const p of parts) {
        try {
          p.finished?.(e);
        } catch {
          // a listener's bug must not stop the next one
        }
      }
    },
  };
}
