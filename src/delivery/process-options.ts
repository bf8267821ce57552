/**
 * Validation of the options every store's `process()` takes, in one place so the lease loop and the BullMQ worker
 * refuse the same values with the same messages. Pure: imports only the error classes and the delivery types.
 */
import { ConfigError } from "../core/errors.js";
import type { ProcessOptions } from "./types.js";

/** Validates {@link ProcessOptions}; throws {@link ConfigError} naming the option. */
export function checkProcessOptions(opts: ProcessOptions): void {
  if (!Number.isSafeInteger(opts.concurrency) || opts.concurrency < 1)
    throw new ConfigError("concurrency must be an integer >= 1");
  if (!Number.isFinite(opts.leaseMs) || opts.leaseMs < 10) throw new ConfigError("leaseMs must be a number >= 10");
  if (opts.pollMs !== undefined && (!Number.isFinite(opts.pollMs) || opts.pollMs < 1))
    throw new ConfigError("pollMs must be a number >= 1");
}
