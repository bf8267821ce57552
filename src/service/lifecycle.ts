/**
 * The last step of composing `serve`: what happens on `listen()` (workers start, retention starts and catches up,
 * the server listens) and on `close()` (stop accepting, run the plugins' shutdown steps, finish or release running
 * deliveries within the grace period). Composed by `create-service.ts`.
 */
import type { Logger } from "../core/logger.js";
import type { Receiver } from "../core/receiver.js";
import { startRetention, type Retention, type RetentionStatus } from "../store/retention.js";
import type { Store } from "../store/store.js";
import type { HttpServer } from "./http-server.js";
import type { ServiceMetrics } from "./metrics.js";
import type { ServiceConfig } from "./service-config.js";

/** What {@link createLifecycle} starts and stops. */
export interface LifecycleParts {
  http: HttpServer;
  receiver: Receiver;
  store: Store;
  metrics: ServiceMetrics;
  log: Logger;
  config: ServiceConfig;
  /** Print the dashboard's address once listening (the admin token was generated in this run). */
  announceDashboard: boolean;
}

/** A service's start and stop, and the shutdown steps plugins register. */
export interface Lifecycle {
  /** Registers work to run on shutdown, after the HTTP server stopped accepting. */
  onClose: (fn: () => Promise<void>) => void;
  /** The retention applied and what it purged so far. */
  retention: () => RetentionStatus;
  /** Starts workers and retention, listens; resolves with the base URL. */
  listen: () => Promise<string>;
  /** Stops accepting, runs shutdown steps, finishes or releases in-flight work within the grace period. Idempotent. */
  close: () => Promise<void>;
}

/** Builds the lifecycle of a composed service. */
export function createLifecycle(parts: LifecycleParts): Lifecycle {
  const { http, receiver, store, metrics, log, config } = parts;
  const closers: Array<() => Promise<void>> = [];
  let retention: Retention | undefined;
  let purgedSinceStart = 0;
  let closing: Promise<void> | undefined;

  function startRetentionOnce(retentionMs: number): void {
    if (retention) return;
    const started = startRetention({
      store,
      retentionMs,
      log,
      onPurged: (n) => {
        purgedSinceStart += n;
        metrics.observePurged(n);
      },
    });
    retention = started;
    closers.unshift(() => started.stop());
    // What expired while the service was down goes now, not a minute from now.
    started.runOnce().catch((err: unknown) => log.warn({ err }, "retention run failed; will try again"));
  }

  return {
    onClose: (fn) => closers.push(fn),
    retention: () => ({ retentionMs: config.retentionMs, purgedSinceStart }),
    async listen() {
      receiver.start();
      if (config.retentionMs !== null) startRetentionOnce(config.retentionMs);
      const address = await http.app.listen({ port: config.port, host: config.host });
      // With the token generated in this run, say where to use it: only now is the port known (it may be 0).
      if (parts.announceDashboard) process.stderr.write(`  Dashboard: ${address.replace(/\/$/, "")}/dashboard/\n\n`);
      return address;
    },
    close() {
      closing ??= (async () => {
        // Stop accepting first; in-flight requests finish (their data is committed before they answer).
        http.closeIdleConnections();
        await http.app.close();
        for (const fn of closers) await fn().catch((err: unknown) => log.error({ err }, "shutdown step failed"));
        await receiver.close(config.shutdownTimeoutMs);
      })();
      return closing;
    },
  };
}
