/**
 * Waiting for outbound deliveries to finish (`EventTracker.waitFor` and `flush`): deliveries finished by this
 * process's worker are confirmed from the store at once, those run by other instances are polled a slice at a time.
 * Keeps the set of deliveries tracked by this process that are not finished yet. Imports no store implementation.
 */
import type { Clock } from "../core/clock.js";
import type { JobId, JobState, JobSummary } from "../delivery/types.js";
import type { StoreReader } from "../store/store.js";

/** Delivery states after which nothing more happens to an outbound event. */
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set<JobState>(["done", "dead"]);

/** Options of {@link JobWaiter.waitFor}. */
export interface EventWaitOptions {
  /** Stop waiting after this long, ms. @defaultValue no limit */
  timeoutMs?: number;
  /** Stop waiting when aborted. */
  signal?: AbortSignal;
  /** Called when more deliveries finished: how many of `total` are `done` or `dead`. */
  onProgress?: (settled: number, total: number) => void;
}

/** Waits for deliveries; see {@link createJobWaiter}. */
export interface JobWaiter {
  /** Notes a delivery this process tracked and has not seen finish. */
  track(jobId: JobId): void;
  /** The deliveries noted by {@link JobWaiter.track} that have not finished here yet. */
  pending(): JobId[];
  /** Called when this process's worker finished a delivery (done or dead): wakes the waits at once. */
  settled(jobId: JobId): void;
  /** Waits until the given deliveries are `done` or `dead` (or the wait ends early); returns their current summaries. */
  waitFor(jobIds: readonly JobId[], options?: EventWaitOptions): Promise<JobSummary[]>;
}

/**
 * Creates the waiter of one tracker. `hasLocalWorker` says whether this process runs a worker: without one every open
 * delivery is polled (a slice at a time); with one, deliveries finished here are checked at once and the rest (run by
 * other instances) only once a second.
 */
export function createJobWaiter(
  store: Pick<StoreReader, "getJob">,
  clock: Clock,
  hasLocalWorker: () => boolean,
): JobWaiter {
  const pending = new Set<JobId>();
  const locallyTerminal = new Set<JobId>();
  let waiting = 0;
  let wakers: (() => void)[] = [];

  const waitFor = async (jobIds: readonly JobId[], waitOptions: EventWaitOptions = {}): Promise<JobSummary[]> => {
    const deadline = clock.now() + (waitOptions.timeoutMs ?? Number.POSITIVE_INFINITY);
    const { signal, onProgress } = waitOptions;
    const open = new Set(jobIds);
    waiting++;
    try {
      let pollEveryMs = 20;
      let lastSlowPollAt = 0;
      while (open.size > 0) {
        // A local completion is confirmed from the store (its settlement may still be on the way).
        const candidates = new Set<JobId>();
        for (const id of locallyTerminal) if (open.has(id)) candidates.add(id);
        if (!hasLocalWorker() || clock.now() - lastSlowPollAt >= 1_000) {
          lastSlowPollAt = clock.now();
          for (const id of open) {
            if (candidates.size >= 100 + locallyTerminal.size) break;
            candidates.add(id);
          }
        }
        let progressed = false;
        for (const id of candidates) {
          const job = await store.getJob(id);
          if (job === undefined || TERMINAL_STATES.has(job.state)) {
            open.delete(id);
            locallyTerminal.delete(id);
            progressed = true;
          }
        }
        if (progressed) onProgress?.(jobIds.length - open.size, jobIds.length);
        if (open.size === 0 || clock.now() >= deadline || signal?.aborted) break;
        pollEveryMs = progressed ? 20 : Math.min(1_000, pollEveryMs * 2);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => wake(), Math.min(pollEveryMs, Math.max(1, deadline - clock.now())));
          const wake = (): void => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", wake);
            resolve();
          };
          wakers.push(wake);
          signal?.addEventListener("abort", wake, { once: true });
        });
      }
    } finally {
      waiting--;
      if (waiting === 0) locallyTerminal.clear();
    }
    const out: JobSummary[] = [];
    for (const id of jobIds) {
      const job = await store.getJob(id);
      if (job) out.push(job);
    }
    return out;
  };

  return {
    track: (jobId) => void pending.add(jobId),
    pending: () => [...pending],
    settled(jobId) {
      pending.delete(jobId);
      if (waiting > 0) locallyTerminal.add(jobId);
      const ws = wakers;
      wakers = [];
      for (const w of ws) w();
    },
    waitFor,
  };
}
