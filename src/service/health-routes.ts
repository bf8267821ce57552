/**
 * The operational routes of `serve`: `/healthz` (the process answers), `/readyz` (every critical check passes; the
 * store's ping is one, plugins add more) and `/metrics` (Prometheus). Composed by `create-service.ts`.
 */
import type { FastifyInstance } from "fastify";
import { withTimeout } from "../core/with-timeout.js";
import type { Store } from "../store/store.js";
import type { ServiceMetrics } from "./metrics.js";
import { registerSpoolGauge, storeReadiness } from "./store-health.js";

/** Registers readiness checks; `/readyz` runs them all. */
export interface Readiness {
  /**
   * Registers an extra readiness check; it rejects when not ready. A non-critical check is reported in `/readyz`'s
   * body without turning the answer into 503.
   */
  add: (name: string, check: () => Promise<void>, options?: { critical?: boolean }) => void;
}

/** Registers `/healthz`, `/readyz` (starting with the store's ping) and `/metrics` on `app`. */
export function registerHealthRoutes(app: FastifyInstance, store: Store, metrics: ServiceMetrics): Readiness {
  const storeReady = storeReadiness(store);
  registerSpoolGauge(store, metrics.registry);
  const readiness = new Map<string, { check: () => Promise<void>; critical: boolean }>([
    ["store", { check: storeReady.check, critical: true }],
  ]);
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
    const details = await withDeadline(storeReady.details(), 2_000).catch(() => ({}));
    return reply.code(ready ? 200 : 503).send({ ready, checks, ...details });
  });
  app.get("/metrics", async (_req, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
  return {
    add: (name, check, options) => readiness.set(name, { check, critical: options?.critical ?? true }),
  };
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return withTimeout(p, ms, () => new Error(`no answer within ${ms} ms`));
}
