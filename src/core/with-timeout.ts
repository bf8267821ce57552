/**
 * One way to bound a wait: races a promise against a timer and always clears the timer, so a settled promise leaves
 * nothing pending in the event loop. Pure: imports nothing (core may use it; so may stores and the service).
 */

/**
 * Resolves or rejects like `promise`, or rejects with `onTimeout()` once `ms` have passed without an answer.
 * The timer is cleared as soon as either side settles.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
