/**
 * The first step of composing `serve`: every default of {@link ServiceOptions} applied in one place, and the secrets
 * resolved (the client secrets and the admin token, generated into the data directory on a first development run).
 * Imports no framework and no store.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Logger } from "../core/logger.js";
import type { ServiceOptions } from "./create-service.js";

/** Default of `requestTimeoutMs`: headers and body must have arrived within 30 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** File descriptors kept back from the connection cap: the store, its threads, logs, the outbound client. */
const RESERVED_FDS = 256;

/**
 * Open connections `serve` accepts by default: what the process's open-file limit leaves after
 * {@link RESERVED_FDS}, at least 64 and at most 10,000; 1,024 where the limit cannot be read.
 */
export function defaultMaxConnections(): number {
  let soft = Number.NaN;
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    soft = line?.[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(line?.[1]);
  } catch {
    // Not Linux: no /proc. Fall through to the fixed default.
  }
  if (!Number.isFinite(soft) && soft !== Number.POSITIVE_INFINITY) return 1_024;
  return Math.max(64, Math.min(10_000, soft - RESERVED_FDS));
}

/** {@link ServiceOptions} with every default applied. */
export interface ServiceConfig {
  dataDir: string;
  webhookPath: string;
  port: number;
  host: string;
  logLevel: string;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  maxConnections: number;
  shutdownTimeoutMs: number;
  /** null keeps everything. */
  retentionMs: number | null;
}

/** Applies the defaults of {@link ServiceOptions}. Reads nothing but the open-file limit. */
export function resolveConfiguration(options: ServiceOptions): ServiceConfig {
  return {
    dataDir: resolve(options.dataDir ?? "./data"),
    webhookPath: options.webhookPath ?? "/webhooks/intercom",
    port: options.port ?? 8080,
    host: options.host ?? "127.0.0.1",
    logLevel: options.logLevel ?? "info",
    maxBodyBytes: options.maxBodyBytes ?? 1_048_576,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    maxConnections: options.maxConnections ?? defaultMaxConnections(),
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 10_000,
    retentionMs: options.retentionMs !== undefined && options.retentionMs > 0 ? options.retentionMs : null,
  };
}

/** The secrets a service runs with. */
export interface ServiceSecrets {
  /** Client secrets that verify `X-Hub-Signature` (several during a rotation). */
  clientSecrets: readonly string[];
  adminToken: string;
  /** True when the admin token was generated in this run (`serve` then prints the dashboard's address). */
  isAdminTokenCreated: boolean;
}

/**
 * The configured client secrets and admin token, or ones generated in `dataDir` (mode 0600) and announced once: a
 * development secret when no client secret is set, an admin token when none is set.
 */
export function resolveSecrets(options: ServiceOptions, config: ServiceConfig, log: Logger): ServiceSecrets {
  const clientSecrets =
    options.secrets.length > 0
      ? options.secrets
      : [loadOrCreateSecret(config.dataDir, "dev-client-secret", log, "secret").value];
  const admin =
    options.adminToken && options.adminToken.length > 0
      ? { value: options.adminToken, isCreated: false }
      : loadOrCreateSecret(config.dataDir, "admin-token", log, "admin");
  return { clientSecrets, adminToken: admin.value, isAdminTokenCreated: admin.isCreated };
}

/** Reads `dataDir/file`, or creates it (mode 0600) and says so once; `isCreated` tells which. */
function loadOrCreateSecret(
  dataDir: string,
  file: string,
  log: Logger,
  kind: "secret" | "admin",
): { value: string; isCreated: boolean } {
  const path = join(dataDir, file);
  if (existsSync(path)) return { value: readFileSync(path, "utf8").trim(), isCreated: false };
  mkdirSync(dataDir, { recursive: true });
  const value = randomBytes(24).toString("base64url");
  writeFileSync(path, value + "\n", { mode: 0o600 });
  if (kind === "secret") {
    // Printed once, on creation, to the terminal (not the structured log) so `simulate` users can sign with it.
    process.stderr.write(
      `\n  WARNING: no INTERCOM_CLIENT_SECRET set. Generated a development secret in ${path}:\n    ${value}\n  \`intercom-bridge simulate\` uses it automatically. Set INTERCOM_CLIENT_SECRET to your app's client secret in production.\n\n`,
    );
    log.warn(
      { file: path },
      "No INTERCOM_CLIENT_SECRET set: generated a DEVELOPMENT client secret (stored in the file named here). Only requests signed with it are accepted; set INTERCOM_CLIENT_SECRET to your app's client secret for production.",
    );
  } else {
    process.stderr.write(
      `\n  No INTERCOM_BRIDGE_ADMIN_TOKEN set. Generated an admin token in ${path}:\n    ${value}\n  Sign in to the dashboard with it (its address follows once the service listens).\n`,
    );
    log.warn(
      { file: path },
      "No INTERCOM_BRIDGE_ADMIN_TOKEN set: generated an admin token for the dashboard and /api (stored in the file named here)",
    );
  }
  return { value, isCreated: true };
}
