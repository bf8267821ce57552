/**
 * The operational routes of `serve`: `/healthz` (the process answers), `/readyz` (every critical check passes; the
 * store's ping is one, plugins add more) and `/metrics` (Prometheus). Composed by `create-service.ts`.
 */
import type { FastifyInstance } from "fastify";
import type { Store } from "../store/store.js";
import type { ServiceMetrics } from "./metrics.js";

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
  const readiness = new Map<string, { check: () => Promise<void>; critical: boolean }>([
    ["store", { check: () => store.ping(), critical: true }],
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
    return reply.code(ready ? 200 : 503).send({ ready, checks });
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
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(t));
}
