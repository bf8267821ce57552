/**
 * Readiness and outage metrics from a store that can say more than `ping()`: a store with a `health()` method (the
 * Redis store) reports whether it can still accept durably (Redis, or else its local spool), whether it is durable,
 * and how much waits in its spool. `/readyz` answers 200 while the instance can accept and puts these facts in its
 * body; `/metrics` gets the spool size. Must not import a store implementation: it sees stores only through this shape.
 */
import { Gauge, type Registry } from "prom-client";
import type { Store } from "../store/store.js";

/** What a store with a `health()` method reports (the Redis store's `RedisStoreHealth`). */
export interface StoreHealthReport {
  /** The instance can store a notification durably now. */
  accepting: boolean;
  /** The backend keeps what it acknowledges; null while unknown. */
  durable: boolean | null;
  /** Notifications waiting in a local spool for the backend. */
  spooled: number;
  /** The backend answers. */
  reachable: boolean;
}

type HealthStore = Store & { health(): Promise<StoreHealthReport> };

function hasHealth(store: Store): store is HealthStore {
  return typeof (store as Partial<HealthStore>).health === "function";
}

/**
 * The readiness check of the store: `health().accepting` where the store reports health, else `ping()`. `details`
 * gives the fields `/readyz` adds to its body (`durable`, `spooled`), empty for a store without `health()`.
 */
export function storeReadiness(store: Store): {
  check: () => Promise<void>;
  details: () => Promise<Record<string, unknown>>;
} {
  if (!hasHealth(store)) return { check: () => store.ping(), details: () => Promise.resolve({}) };
  return {
    async check() {
      const h = await store.health();
      // Accepting into the spool while the backend is away still counts as ready: the body says `reachable: false`.
      if (!h.accepting) throw new Error("the store cannot accept notifications (unreachable, and no writable spool)");
    },
    async details() {
      const h = await store.health();
      return { durable: h.durable, reachable: h.reachable, spooled: h.spooled };
    },
  };
}

/** Registers `intercom_bridge_spooled_notifications` for a store that reports health. */
export function registerSpoolGauge(store: Store, registry: Registry): void {
  if (!hasHealth(store)) return;
  new Gauge({
    name: "intercom_bridge_spooled_notifications",
    help: "Notifications acknowledged into the local spool and not yet moved into Redis",
    registers: [registry],
    async collect() {
      this.set((await store.health()).spooled);
    },
  });
}
