/** The logging interface intercom-bridge writes to; pino's logger satisfies it. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

/** Fills a partial logger with no-ops, so callers may pass only what they care about. */
export function createLogger(partial: Partial<Logger> = {}): Logger {
  return {
    debug: partial.debug?.bind(partial) ?? noop,
    info: partial.info?.bind(partial) ?? noop,
    warn: partial.warn?.bind(partial) ?? noop,
    error: partial.error?.bind(partial) ?? noop,
  };
}
