/**
 * The Prometheus metrics `serve` exposes on `/metrics`: Node.js process metrics under their standard names
 * (`process_cpu_seconds_total`, `nodejs_eventloop_lag_seconds`…, so stock dashboards work), and the bridge's own under
 * `intercom_bridge_`. Each fact is counted once (refusals by reason are `notifications_received_total`'s `outcome`
 * label, not counters of their own). docs/serve.md lists every metric; keep it in step.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ProcessorEvents, Store, StoreReader } from "../store/store.js";
import { JOB_STATES, type QueueName } from "../delivery/types.js";
import { isKnownTopic } from "../topics/index.js";

/** Prometheus metrics of one service. Gauges of the store are read when `/metrics` is scraped. */
export interface ServiceMetrics {
  registry: Registry;
  /** Counts one webhook request's outcome (`accepted`, `duplicate`, or an error code). */
  observeReceived(topic: string | null, outcome: string): void;
  /** Counts records deleted by retention. */
  observePurged(count: number): void;
  /** Processor listeners feeding attempts, durations and dead letters. */
  processorEvents: Partial<ProcessorEvents>;
  /** The same store, its `enqueue` timed into `intercom_bridge_store_enqueue_seconds`. */
  timeEnqueue(store: Store): Store;
}

/** Creates the metrics registry; `store` is read on scrape for deliveries by state, queue depth and oldest pending age. */
export function createMetrics(store: Pick<StoreReader, "stats">): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const received = new Counter({
    name: "intercom_bridge_notifications_received_total",
    help: "Webhook requests by topic and outcome (accepted, duplicate, or the error code)",
    labelNames: ["topic", "outcome"] as const,
    registers: [registry],
  });
  const attempts = new Counter({
    name: "intercom_bridge_delivery_attempts_total",
    help: "Delivery runs by queue, handler/target and outcome",
    labelNames: ["queue", "target", "outcome"] as const,
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: "intercom_bridge_dead_letters_total",
    help: "Deliveries that went dead (attempts used up, or an unrecoverable error), by queue and handler/target",
    labelNames: ["queue", "target"] as const,
    registers: [registry],
  });
  const enqueue = new Histogram({
    name: "intercom_bridge_store_enqueue_seconds",
    help: "Time to store one notification (and its deliveries) durably, before the webhook is answered",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
    registers: [registry],
  });
  const purged = new Counter({
    name: "intercom_bridge_records_purged_total",
    help: "Finished records deleted by retention (--retention)",
    registers: [registry],
  });
  const duration = new Histogram({
    name: "intercom_bridge_handler_duration_seconds",
    help: "Wall time of one delivery run",
    labelNames: ["queue", "target"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: "intercom_bridge_deliveries",
    help: "Deliveries by queue and state",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      // During a store outage the other metrics (spool size, counters) must still be served: keep the last values.
      const stats = await store.stats().catch(() => undefined);
      if (!stats) return;
      for (const queue of Object.keys(stats.counts) as QueueName[]) {
        for (const state of JOB_STATES) this.set({ queue, state }, stats.counts[queue][state]);
      }
      depth.reset();
      oldest.reset();
      for (const queue of Object.keys(stats.counts) as QueueName[]) {
        depth.set({ queue }, stats.counts[queue].pending + stats.counts[queue].failed);
        const due = stats.oldestDueAt[queue];
        oldest.set({ queue }, due === null ? 0 : Math.max(0, (Date.now() - due) / 1000));
      }
    },
  });
  const depth = new Gauge({
    name: "intercom_bridge_queue_depth",
    help: "Deliveries waiting (pending + failed awaiting retry)",
    labelNames: ["queue"] as const,
    registers: [registry],
  });
  const oldest = new Gauge({
    name: "intercom_bridge_oldest_pending_age_seconds",
    help: "How long the oldest due delivery has been waiting",
    labelNames: ["queue"] as const,
    registers: [registry],
  });

  return {
    registry,
    observeReceived(topic, outcome) {
      const label = topic === null ? "none" : isKnownTopic(topic) ? topic : "unknown";
      received.inc({ topic: label, outcome });
    },
    observePurged(count) {
      purged.inc(count);
    },
    processorEvents: {
      finished(e) {
        attempts.inc({ queue: e.queue, target: e.target, outcome: e.outcome });
        duration.observe({ queue: e.queue, target: e.target }, e.durationMs / 1000);
        if (e.outcome === "dead") deadLetters.inc({ queue: e.queue, target: e.target });
      },
    },
    timeEnqueue(store) {
      return new Proxy(store, {
        get(target, prop, receiver) {
          if (prop !== "enqueue") return Reflect.get(target, prop, receiver) as unknown;
          return async (input: Parameters<Store["enqueue"]>[0]) => {
            const end = enqueue.startTimer();
            try {
              return await target.enqueue(input);
            } finally {
              end();
            }
          };
        },
      });
    },
  };
}
