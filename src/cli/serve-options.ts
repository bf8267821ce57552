/**
 * The options of `intercom-bridge serve`, grouped for `--help` (Inbound, Store, Delivery, Outbound, Dashboard,
 * Logging). `doctor` takes the same options, so it resolves exactly the configuration `serve` would run with and can
 * say where each value came from. Every time option takes a duration (`500ms`, `30s`, `2h`; a bare number is ms).
 */
import { allowVolatileRedisOption, postgresSchemaOption } from "./store-options.js";
import { Option } from "commander";
import { ENV } from "../config/env.js";
import { DEFAULTS } from "../config/options.js";
import { LOG_FORMATS, defaultLogFormat } from "../service/log-format.js";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "../service/service-config.js";
import { outboundOptions } from "./outbound-options.js";
import { collect, durationArg, durationAtLeast, intArg } from "./parse.js";
import { DEFAULT_STORE_URL } from "./store-url.js";

/** The values commander resolves from {@link serveOptions}. */
export interface ServeFlags {
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
  logFormat: "pretty" | "json";
  redisPrefix: string;
  allowVolatileRedis?: boolean;
  postgresSchema: string;
  dataDir?: string;
  adminToken?: string;
  rateLimitPerMinute: number;
  maxEventNames: number;
  rateLimitWindowSeconds: number;
  metadataOverflow: "error" | "truncate";
  /** A duration, or `off`. */
  reconcileMinGap: number | "off";
  metadataKeyCase: "warn" | "error";
}

const g = (group: string, option: Option): Option => option.helpGroup(`${group}:`);

/** Every `serve` option, each in its help group, with its environment variable and default. */
export function serveOptions(): Option[] {
  return [
    g("Inbound", new Option("--port <n>", "port to listen on").env("PORT").argParser(intArg(0)).default(8080)),
    g("Inbound", new Option("--host <host>", "interface to bind").env("HOST").default("127.0.0.1")),
    g(
      "Inbound",
      new Option("--max-body-bytes <n>", "largest webhook body accepted")
        .env("INTERCOM_BRIDGE_MAX_BODY_BYTES")
        .argParser(intArg(1))
        .default(DEFAULTS.maxBodyBytes),
    ),
    g(
      "Inbound",
      new Option(
        "--request-timeout <duration>",
        "a request whose headers and body have not all arrived within this gets 408 and its connection is closed (0: no limit)",
      )
        .env("INTERCOM_BRIDGE_REQUEST_TIMEOUT")
        .argParser(durationArg)
        .default(DEFAULT_REQUEST_TIMEOUT_MS, "30s"),
    ),
    g(
      "Inbound",
      new Option(
        "--max-connections <n>",
        "open connections beyond this are closed at once (default: the open-file limit less 256, at most 10000)",
      )
        .env("INTERCOM_BRIDGE_MAX_CONNECTIONS")
        .argParser(intArg(1)),
    ),
    g(
      "Inbound",
      new Option(
        "--dedupe-retention <duration>",
        "how long notification ids are remembered; older notifications are refused as stale (e.g. 7d, 36h)",
      )
        .env("INTERCOM_BRIDGE_DEDUPE_RETENTION")
        .argParser(durationArg)
        .default(DEFAULTS.dedupeTtlMs, "7d"),
    ),
    g(
      "Store",
      new Option("--store <url>", "sqlite:<path>, memory:, redis://host:port/db or postgres://user:pass@host:5432/db")
        .env(ENV.store)
        .default(DEFAULT_STORE_URL),
    ),
    g(
      "Store",
      new Option("--redis-prefix <prefix>", "key prefix for redis:// stores")
        .env(ENV.redisPrefix)
        .default("intercom-bridge"),
    ),
    g("Store", allowVolatileRedisOption()),
    g("Store", postgresSchemaOption()),
    g(
      "Store",
      new Option(
        "--data-dir <dir>",
        "where generated secrets, tokens and the Redis spool live (default: the SQLite file's folder, else ./data)",
      ).env("INTERCOM_BRIDGE_DATA_DIR"),
    ),
    g(
      "Store",
      new Option(
        "--retention <duration>",
        "delete notifications and events received longer ago than this once all their deliveries are done or dead (0 keeps everything)",
      )
        .env("INTERCOM_BRIDGE_RETENTION")
        .argParser(durationArg)
        .default(DEFAULTS.retentionMs, "30d"),
    ),
    g(
      "Delivery",
      new Option(
        "--handlers <module>",
        '.js/.mjs module whose default export maps topics, "group.*" or "*" (every notification) to async handlers',
      ).env(ENV.handlers),
    ),
    g(
      "Delivery",
      new Option(
        "--forward <pattern=url>",
        "POST matching notifications, signed, to an internal URL (repeatable; env: INTERCOM_BRIDGE_FORWARD, comma-separated)",
      ).argParser(collect),
    ),
    g(
      "Delivery",
      new Option(
        "--forward-secret <secret>",
        "secret that signs forwarded bodies (default: the first client secret)",
      ).env(ENV.forwardSecret),
    ),
    g(
      "Delivery",
      new Option("--max-attempts <n>", "attempts per delivery before it is dead")
        .env("INTERCOM_BRIDGE_MAX_ATTEMPTS")
        .argParser(intArg(1))
        .default(DEFAULTS.retry.maxAttempts),
    ),
    g(
      "Delivery",
      new Option("--retry-base-ms <duration>", "first retry delay; doubles per attempt, with jitter, capped at 1 h")
        .env("INTERCOM_BRIDGE_RETRY_BASE_MS")
        .argParser(durationAtLeast(0))
        .default(DEFAULTS.retry.backoff.delayMs, "1s"),
    ),
    g(
      "Delivery",
      new Option("--handler-timeout-ms <duration>", "per-run handler timeout (the run's AbortSignal fires)")
        .env("INTERCOM_BRIDGE_HANDLER_TIMEOUT_MS")
        .argParser(durationAtLeast(1))
        .default(DEFAULTS.handlerTimeoutMs, "30s"),
    ),
    g(
      "Delivery",
      new Option("--concurrency <n>", "deliveries run at once (one at a time per item)")
        .env("INTERCOM_BRIDGE_CONCURRENCY")
        .argParser(intArg(1))
        .default(DEFAULTS.concurrency),
    ),
    g(
      "Delivery",
      new Option(
        "--lease-ms <duration>",
        "how long a running delivery is leased before another worker may take it over",
      )
        .env("INTERCOM_BRIDGE_LEASE_MS")
        .argParser(durationAtLeast(100))
        .default(DEFAULTS.leaseMs, "30s"),
    ),
    g(
      "Delivery",
      new Option("--shutdown-timeout <duration>", "grace period for in-flight deliveries on SIGTERM/SIGINT")
        .env("INTERCOM_BRIDGE_SHUTDOWN_TIMEOUT")
        .argParser(durationArg)
        .default(DEFAULTS.shutdownTimeoutMs, "10s"),
    ),
    ...outboundOptions("").map((o) => g("Outbound", o)),
    g(
      "Inbound",
      new Option(
        "--reconcile-min-gap <duration>",
        "on start, when no instance was alive for longer than this (the store keeps a heartbeat) and INTERCOM_ACCESS_TOKEN is set, recover the changes Intercom could not deliver meanwhile, in the background (off: never)",
      )
        .env("INTERCOM_BRIDGE_RECONCILE_MIN_GAP")
        .argParser(minGapArg)
        .default(90_000, "90s"),
    ),
    g(
      "Dashboard",
      new Option(
        "--admin-token <token>",
        "bearer token of /dashboard and /api (prefer the variable; default: generated into <data-dir>/admin-token)",
      ).env(ENV.adminToken),
    ),
    g(
      "Logging",
      new Option("--log-level <level>", "fatal, error, warn, info, debug or trace").env("LOG_LEVEL").default("info"),
    ),
    g(
      "Logging",
      new Option("--log-format <format>", "pretty (coloured lines) or json (one object per line)")
        .env("LOG_FORMAT")
        .choices(LOG_FORMATS)
        .default(defaultLogFormat(), "pretty on a terminal, else json"),
    ),
  ];
}

/** A duration, or `off` (a string: commander turns a parsed null into ""). */
function minGapArg(value: string): number | "off" {
  return value.trim().toLowerCase() === "off" ? "off" : durationArg(value);
}
