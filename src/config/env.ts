/**
 * Environment variables the service and CLI read (STYLE §8). The library never reads `process.env`.
 */
export const ENV = Object.freeze({
  clientSecret: ["INTERCOM_CLIENT_SECRET", "INTERCOM_WEBHOOK_SECRET"],
  store: "INTERCOM_BRIDGE_STORE",
  handlers: "INTERCOM_BRIDGE_HANDLERS",
  forward: "INTERCOM_BRIDGE_FORWARD",
  forwardSecret: "INTERCOM_BRIDGE_FORWARD_SECRET",
  adminToken: "INTERCOM_BRIDGE_ADMIN_TOKEN",
  redisPrefix: "INTERCOM_BRIDGE_REDIS_PREFIX",
  allowVolatileRedis: "INTERCOM_BRIDGE_ALLOW_VOLATILE_REDIS",
  postgresSchema: "INTERCOM_BRIDGE_POSTGRES_SCHEMA",
  accessToken: "INTERCOM_ACCESS_TOKEN",
  region: "INTERCOM_REGION",
  apiBaseUrl: "INTERCOM_API_BASE_URL",
  intercomVersion: "INTERCOM_VERSION",
  maxEventNames: "INTERCOM_BRIDGE_MAX_EVENT_NAMES",
  rateLimitPerMinute: "INTERCOM_BRIDGE_RATE_LIMIT_PER_MINUTE",
  rateLimitWindowSeconds: "INTERCOM_BRIDGE_RATE_LIMIT_WINDOW_SECONDS",
  metadataOverflow: "INTERCOM_BRIDGE_METADATA_OVERFLOW",
  metadataKeyCase: "INTERCOM_BRIDGE_METADATA_KEY_CASE",
});

/** The client secrets from `INTERCOM_CLIENT_SECRET` (or its alias `INTERCOM_WEBHOOK_SECRET`), comma-separated for rotation. */
export function secretsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  // An empty INTERCOM_CLIENT_SECRET= must not hide the alias.
  const raw = env["INTERCOM_CLIENT_SECRET"] || env["INTERCOM_WEBHOOK_SECRET"] || "";
  return splitList(raw);
}

/** Splits a comma-separated list, trimming blanks. */
export function splitList(raw: string): string[] {
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
