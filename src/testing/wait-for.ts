/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long, ms. @defaultValue 5000 */
  timeoutMs?: number;
  /** Pause between tries, ms. @defaultValue 10 */
  intervalMs?: number;
}

/**
 * Calls `check` until it returns a truthy value without throwing, and returns that value. Throws the last error (or a
 * timeout error) after `timeoutMs`. Real time, no fake timers: store backends run on their own clocks (STYLE §12).
 */
export async function waitFor<T>(check: () => T | Promise<T>, options: WaitForOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = new Error(`waitFor: condition still false after ${timeoutMs} ms`);
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) throw lastError;
    await sleep(intervalMs);
  }
}

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
