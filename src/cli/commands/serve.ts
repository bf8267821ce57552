import { Option, type Command } from "commander";
import { ENV, secretsFromEnv, splitList } from "../../config/env.js";
import { DEFAULTS } from "../../config/options.js";
import { parseForward } from "../../service/forward.js";
import { collect, durationArg, intArg } from "../parse.js";
import { outboundOptions } from "../outbound-options.js";
import { DEFAULT_STORE_URL, dataDirOf, openStore } from "../store-url.js";
import { servicePlugins } from "../../service/plugins.js";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "../../service/service-config.js";

interface ServeFlags {
  port: number;
  host: string;
  store: string;
  handlers?: string;
  forward?: string[];
  forwardSecret?: string;
  maxAttempts: number;
  retryBaseMs: number;
  handlerTimeoutMs: number;
  concurrency: number;
  dedupeRetention: number;
  retention: number;
  maxBodyBytes: number;
  requestTimeout: number;
  maxConnections?: number;
  leaseMs: number;
  shutdownTimeout: number;
  logLevel: string;
  redisPrefix: string;
  dataDir?: string;
  rateLimitPerMinute: number;
  maxEventNames: number;
  rateLimitWindowSeconds: number;
  metadataOverflow: "error" | "truncate";
  metadataKeyCase: "warn" | "error";
}

/** `intercom-bridge serve`: the webhook receiver, workers, operator API and dashboard in one process. */
export function registerServeCommand(program: Command): void {
  const serve = program
    .command("serve")
    .description(
      "Receive Intercom webhooks (POST /webhooks/intercom), store each before answering 200, and run handlers and forwards with retries.\n" +
        `Secrets come from ${ENV.clientSecret.join(" or ")} (comma-separated for rotation); without one a development secret is generated.\n` +
        `The dashboard and /api use ${ENV.adminToken} (generated when unset).`,
    )
    .addOption(new Option("--port <n>", "port to listen on").env("PORT").argParser(intArg(0)).default(8080))
    .addOption(new Option("--host <host>", "interface to bind").env("HOST").default("127.0.0.1"))
    .addOption(
      new Option("--store <url>", "sqlite:<path>, memory: or redis://host:port/db")
        .env(ENV.store)
        .default(DEFAULT_STORE_URL),
    )
    .addOption(
      new Option(
        "--handlers <module>",
        '.js/.mjs module whose default export maps topic patterns (catalogued topics; "**" for every topic) to async handlers',
      ).env(ENV.handlers),
    )
    .addOption(
      new Option(
        "--forward <pattern=url>",
        "POST matching notifications, signed, to an internal URL (repeatable; env: INTERCOM_BRIDGE_FORWARD, comma-separated)",
      ).argParser(collect),
    )
    .addOption(
      new Option(
        "--forward-secret <secret>",
        "secret that signs forwarded bodies (default: the first client secret)",
      ).env(ENV.forwardSecret),
    )
    .addOption(
      new Option("--max-attempts <n>", "attempts per delivery before it is dead")
        .env("INTERCOM_BRIDGE_MAX_ATTEMPTS")
        .argParser(intArg(1))
        .default(DEFAULTS.retry.maxAttempts),
    )
    .addOption(
      new Option("--retry-base-ms <ms>", "first retry delay; doubles per attempt, with jitter, capped at 1 h")
        .env("INTERCOM_BRIDGE_RETRY_BASE_MS")
        .argParser(intArg(0))
        .default(DEFAULTS.retry.backoff.delayMs),
    )
    .addOption(
      new Option("--handler-timeout-ms <ms>", "per-run handler timeout (the run's AbortSignal fires)")
        .env("INTERCOM_BRIDGE_HANDLER_TIMEOUT_MS")
        .argParser(intArg(1))
        .default(DEFAULTS.handlerTimeoutMs),
    )
    .addOption(
      new Option("--concurrency <n>", "deliveries run at once (one at a time per item)")
        .env("INTERCOM_BRIDGE_CONCURRENCY")
        .argParser(intArg(1))
        .default(DEFAULTS.concurrency),
    )
    .addOption(
      new Option(
        "--dedupe-retention <duration>",
        "how long notification ids are remembered; older notifications are refused as stale (e.g. 7d, 36h)",
      )
        .env("INTERCOM_BRIDGE_DEDUPE_RETENTION")
        .argParser(durationArg)
        .default(DEFAULTS.dedupeTtlMs, "7d"),
    )
    .addOption(
      new Option(
        "--retention <duration>",
        "delete notifications and events received longer ago than this once all their deliveries are done or dead (0 keeps everything)",
      )
        .env("INTERCOM_BRIDGE_RETENTION")
        .argParser(durationArg)
        .default(DEFAULTS.retentionMs, "30d"),
    )
    .addOption(
      new Option("--max-body-bytes <n>", "largest webhook body accepted")
        .env("INTERCOM_BRIDGE_MAX_BODY_BYTES")
        .argParser(intArg(1))
        .default(DEFAULTS.maxBodyBytes),
    )
    .addOption(
      new Option(
        "--request-timeout <duration>",
        "a request whose headers and body have not all arrived within this gets 408 and its connection is closed (0: no limit)",
      )
        .env("INTERCOM_BRIDGE_REQUEST_TIMEOUT")
        .argParser(durationArg)
        .default(DEFAULT_REQUEST_TIMEOUT_MS, "30s"),
    )
    .addOption(
      new Option(
        "--max-connections <n>",
        "open connections beyond this are closed at once (default: the open-file limit less 256, at most 10000)",
      )
        .env("INTERCOM_BRIDGE_MAX_CONNECTIONS")
        .argParser(intArg(1)),
    )
    .addOption(
      new Option("--lease-ms <ms>", "how long a running delivery is leased before another worker may take it over")
        .env("INTERCOM_BRIDGE_LEASE_MS")
        .argParser(intArg(100))
        .default(DEFAULTS.leaseMs),
    )
    .addOption(
      new Option("--shutdown-timeout <duration>", "grace period for in-flight deliveries on SIGTERM/SIGINT")
        .env("INTERCOM_BRIDGE_SHUTDOWN_TIMEOUT")
        .argParser(durationArg)
        .default(DEFAULTS.shutdownTimeoutMs, "10s"),
    )
    .addOption(
      new Option("--log-level <level>", "fatal, error, warn, info, debug or trace").env("LOG_LEVEL").default("info"),
    )
    .addOption(
      new Option("--redis-prefix <prefix>", "key prefix for redis:// stores")
        .env(ENV.redisPrefix)
        .default("intercom-bridge"),
    )
    .addOption(
      new Option(
        "--data-dir <dir>",
        "where generated secrets, tokens and the Redis spool live (default: the SQLite file's folder, else ./data)",
      ).env("INTERCOM_BRIDGE_DATA_DIR"),
    );
  for (const option of outboundOptions("outbound: ")) serve.addOption(option);
  serve.action(async (flags: ServeFlags) => {
    const forwards = [...(flags.forward ?? []), ...splitList(process.env[ENV.forward] ?? "")].map(parseForward);
    const dataDir = flags.dataDir ?? dataDirOf(flags.store);
    const store = await openStore(flags.store, {
      redisPrefix: flags.redisPrefix,
      spoolPath: `${dataDir}/redis-spool.db`,
    });
    const { createService } = await import("../../service/create-service.js");
    const service = await createService({
      secrets: secretsFromEnv(),
      store,
      dataDir,
      port: flags.port,
      host: flags.host,
      ...(flags.handlers ? { handlersModule: flags.handlers } : {}),
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
      adminToken: process.env[ENV.adminToken] ?? "",
      plugins: servicePlugins({
        token: process.env[ENV.accessToken],
        region: process.env[ENV.region],
        baseUrl: process.env[ENV.apiBaseUrl],
        intercomVersion: process.env[ENV.intercomVersion],
        rateLimitPerMinute: flags.rateLimitPerMinute,
        maxEventNames: flags.maxEventNames,
        rateLimitWindowMs: flags.rateLimitWindowSeconds * 1000,
        metadataOverflow: flags.metadataOverflow,
        metadataKeyCase: flags.metadataKeyCase,
      }),
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
