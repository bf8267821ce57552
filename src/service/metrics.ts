import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ProcessorEvents, StoreReader } from "../store/store.js";
import { JOB_STATES, type QueueName } from "../delivery/types.js";
import { isKnownTopic } from "../topics/index.js";

/** Prometheus metrics of one service. Gauges of the store are read when `/metrics` is scraped. */
export interface ServiceMetrics {
  registry: Registry;
  /** Counts one webhook request's outcome (`accepted`, `duplicate`, or an error code). */
  observeReceived(topic: string | null, outcome: string): void;
  /** Counts records deleted by retention. */
  observePurged(count: number): void;
  /** Processor listeners feeding attempts and durations. */
  processorEvents: Partial<ProcessorEvents>;
}

/** Creates the metrics registry; `store` is read on scrape for deliveries by state, queue depth and oldest pending age. */
export function createMetrics(store: Pick<StoreReader, "stats">): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "intercom_bridge_process_" });
  const received = new Counter({
    name: "intercom_bridge_notifications_received_total",
    help: "Webhook requests by topic and outcome (accepted, duplicate, or the error code)",
    labelNames: ["topic", "outcome"] as const,
    registers: [registry],
  });
  const duplicates = new Counter({
    name: "intercom_bridge_duplicates_total",
    help: "Notifications already stored (Intercom retries)",
    registers: [registry],
  });
  const signatureFailures = new Counter({
    name: "intercom_bridge_signature_failures_total",
    help: "Requests refused for a missing or invalid X-Hub-Signature",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const attempts = new Counter({
    name: "intercom_bridge_delivery_attempts_total",
    help: "Delivery runs by queue, handler/target and outcome",
    labelNames: ["queue", "target", "outcome"] as const,
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
      if (outcome === "duplicate") duplicates.inc();
      if (outcome === "IB_ERR_SIGNATURE_MISSING" || outcome === "IB_ERR_SIGNATURE_INVALID") {
        signatureFailures.inc({ reason: outcome === "IB_ERR_SIGNATURE_MISSING" ? "missing" : "invalid" });
      }
    },
    observePurged(count) {
      purged.inc(count);
    },
    processorEvents: {
      finished(e) {
        attempts.inc({ queue: e.queue, target: e.target, outcome: e.outcome });
        duration.observe({ queue: e.queue, target: e.target }, e.durationMs / 1000);
      },
    },
  };
}
