/**
 * The selection rule of `requeueMany` for stores that select in code (memory, Redis): given the matching deliveries
 * newest first (the order list reads them in), requeue oldest first and stop after `max` successes, so a caller that
 * confirmed "replay N" never replays more, and what matched after it counted is what is left out. SQLite applies the
 * same rule in SQL (`ORDER BY j.seq LIMIT ?`). Pure apart from the `requeue` callback; imports nothing.
 */

/**
 * Requeues `newestFirst` in reverse (oldest first) through `requeue`, which answers whether that delivery was
 * requeued (false: not in a requeueable state any more). Stops after `max` successes; returns how many.
 */
export async function requeueOldestFirst<T>(
  newestFirst: readonly T[],
  max: number,
  requeue: (item: T) => boolean | Promise<boolean>,
): Promise<number> {
  let n = 0;
  for (let i = newestFirst.length - 1; i >= 0 && n < max; i--) {
    if (await requeue(newestFirst[i] as T)) n++;
  }
  return n;
}
