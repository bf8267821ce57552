/**
 * `intercom-bridge serve`: check the handlers module, open the store, compose the service, listen, and shut down
 * cleanly on SIGTERM/SIGINT. Its options live in ../serve-options.ts (shared with `doctor`); docs/serve.md documents
 * every one, and a test fails when one is missing there.
 */
import type { Command } from "commander";
import { ENV, secretsFromEnv, splitList } from "../../config/env.js";
import { parseForward } from "../../service/forward.js";
import { loadHandlersModule } from "../../service/handlers-module.js";
import { serveOptions, type ServeFlags } from "../serve-options.js";
import { dataDirOf, openStore } from "../store-url.js";
import { isVolatileRedisAllowed } from "../store-options.js";
import { pino } from "pino";
import { servicePlugins } from "../../service/plugins.js";

/** `intercom-bridge serve`: the webhook receiver, workers, operator API and dashboard in one process. */
export function registerServeCommand(program: Command): void {
  const serve = program
    .command("serve")
    .summary("receive webhooks; run handlers, forwards, the dashboard and outbound events")
    .description(
      "Receive Intercom webhooks (POST /webhooks/intercom), store each before answering 200, and run handlers and forwards with retries.\n" +
        `Secrets come from ${ENV.clientSecret.join(" or ")} (comma-separated for rotation); without one a development secret is generated.\n` +
        `The dashboard and /api use ${ENV.adminToken} (generated when unset).`,
    )
    .showHelpAfterError("(add --help for usage)");
  for (const option of serveOptions()) serve.addOption(option);
  serve.action(async (flags: ServeFlags, cmd: Command) => {
    // Before anything is created: a handlers module that does not load or has a typo key exits 2 here.
    const handlersOrigin = cmd.getOptionValueSource("handlers") === "env" ? ENV.handlers : "--handlers";
    if (flags.handlers) await loadHandlersModule(flags.handlers, handlersOrigin);
    const forwards = [...(flags.forward ?? []), ...splitList(process.env[ENV.forward] ?? "")].map(parseForward);
    const dataDir = flags.dataDir ?? dataDirOf(flags.store);
    const store = await openStore(flags.store, {
      redisPrefix: flags.redisPrefix,
      spoolPath: `${dataDir}/redis-spool.db`,
      allowVolatileRedis: isVolatileRedisAllowed(flags),
      postgresSchema: flags.postgresSchema,
      // The store logs before the service exists (its persistence check): JSON lines on stdout, like the service's.
      log: pino({ level: flags.logLevel }),
    });
    const { createService } = await import("../../service/create-service.js");
    const service = await createService({
      secrets: secretsFromEnv(),
      store,
      dataDir,
      port: flags.port,
      host: flags.host,
      ...(flags.handlers ? { handlersModule: flags.handlers, handlersModuleOrigin: handlersOrigin } : {}),
      forwards,
      builtInLogHandler: !flags.handlers && forwards.length === 0,
      ...(flags.forwardSecret ? { forwardSecret: flags.forwardSecret } : {}),
      maxAttempts: flags.maxAttempts,
      retryBaseMs: flags.retryBaseMs,
      handlerTimeoutMs: flags.handlerTimeoutMs,
      concurrency: flags.concurrency,
      dedupeRetentionMs: flags.dedupeRetention,
      retentionMs: flags.retention,
      maxBodyBytes: flags.maxBodyBytes,
      requestTimeoutMs: flags.requestTimeout,
      ...(flags.maxConnections !== undefined ? { maxConnections: flags.maxConnections } : {}),
      leaseMs: flags.leaseMs,
      shutdownTimeoutMs: flags.shutdownTimeout,
      logLevel: flags.logLevel,
      logFormat: flags.logFormat,
      adminToken: flags.adminToken ?? "",
      plugins: servicePlugins(
        {
          token: process.env[ENV.accessToken],
          region: process.env[ENV.region],
          baseUrl: process.env[ENV.apiBaseUrl],
          intercomVersion: process.env[ENV.intercomVersion],
          rateLimitPerMinute: flags.rateLimitPerMinute,
          maxEventNames: flags.maxEventNames,
          rateLimitWindowMs: flags.rateLimitWindowSeconds * 1000,
          metadataOverflow: flags.metadataOverflow,
          metadataKeyCase: flags.metadataKeyCase,
        },
        { minGapMs: flags.reconcileMinGap === "off" ? null : flags.reconcileMinGap },
      ),
    });
    const url = await service.listen();
    service.log.info(
      { url: `${url}/webhooks/intercom`, store: store.kind, dashboard: `${url}/dashboard` },
      "intercom-bridge is receiving Intercom webhooks",
    );
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      service.log.info({ signal }, "shutting down: no new requests; finishing in-flight deliveries");
      service.close().then(
        () => process.exit(0),
        (err: unknown) => {
          service.log.error({ err }, "shutdown failed");
          process.exit(1);
        },
      );
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
