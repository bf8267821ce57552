/**
 * The `serve` options that decide where a notification goes and how its deliveries retry (`--handlers`, `--forward`,
 * `--forward-secret`, `--max-attempts`, `--retry-base-ms`, `--dedupe-retention`), for `reconcile`: a synthetic
 * notification it stores must get the deliveries `serve` would have created for it, so it takes the very same option
 * definitions (same environment variables and defaults) from `serveOptions()`.
 */
import type { Option } from "commander";
import { ENV, splitList } from "../config/env.js";
import { parseForward, type ForwardTarget } from "../service/forward.js";
import { serveOptions, type ServeFlags } from "./serve-options.js";

/** The flags {@link routingOptions} adds, as commander parses them. */
export type RoutingFlags = Pick<
  ServeFlags,
  "handlers" | "forward" | "forwardSecret" | "maxAttempts" | "retryBaseMs" | "dedupeRetention"
>;

const ROUTING = new Set([
  "--handlers",
  "--forward",
  "--forward-secret",
  "--max-attempts",
  "--retry-base-ms",
  "--dedupe-retention",
]);

/** The routing and retry options of `serve`, with their environment variables and defaults. */
export function routingOptions(): Option[] {
  return serveOptions().filter((o) => ROUTING.has(o.long ?? ""));
}

/** The forward targets of `--forward` and INTERCOM_BRIDGE_FORWARD together. */
export function forwardsOf(flags: Pick<RoutingFlags, "forward">): ForwardTarget[] {
  return [...(flags.forward ?? []), ...splitList(process.env[ENV.forward] ?? "")].map(parseForward);
}
