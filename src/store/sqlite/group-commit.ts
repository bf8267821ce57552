/**
 * Group commit for the SQLite store's `enqueue`: calls of one event-loop turn (or of `groupCommitWindowMs`) share one
 * transaction, on this connection or in the writer thread, with at most {@link MAX_BATCHES_IN_FLIGHT} batches waiting
 * there. Each call resolves only after its transaction committed; one failing item fails alone. Must not import the
 * store class.
 */
import type { Clock } from "../../core/clock.js";
import { StoreError } from "../../core/errors.js";
import type { QueueName } from "../../delivery/types.js";
import type { EnqueueInput, EnqueueResult } from "../store.js";
import type { BatchOutcome, SqliteWriter } from "./sqlite-writer.js";
import type { WriterClient } from "./writer-client.js";

/**
 * Enqueue batches the store sends to its writer thread before waiting for an answer: the second is already waiting
 * in the thread when the first commits, and the thread merges waiting batches into one commit.
 */
const MAX_BATCHES_IN_FLIGHT = 2;

interface PendingEnqueue {
  input: EnqueueInput;
  resolve: (r: EnqueueResult) => void;
  reject: (e: unknown) => void;
}

/** What a {@link GroupCommit} commits through and reports to. */
export interface GroupCommitOptions {
  /** How long a call may wait for others, ms (0: the same event-loop turn). */
  windowMs: number;
  /** Most calls in one transaction. */
  maxBatch: number;
  /** The writer thread, or null to commit on `writer`'s connection. */
  thread: WriterClient | null;
  writer: SqliteWriter;
  clock: Clock;
  isOpen: () => boolean;
  /** Maps a driver error to a StoreError naming the operation. */
  wrap: (error: unknown, what: string) => StoreError;
  /** Called once per queue that got new jobs in a commit. */
  wake: (queue: QueueName) => void;
}

/** Batches validated enqueue inputs into shared transactions; see the file comment. */
export class GroupCommit {
  private batch: PendingEnqueue[] = [];
  private batchScheduled: NodeJS.Immediate | NodeJS.Timeout | null = null;
  /**
   * Batches sent to the writer thread and not answered yet. Up to {@link MAX_BATCHES_IN_FLIGHT} go out without
   * waiting: the thread merges whatever waits for it into one commit, so no batch waits for a round trip.
   */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly o: GroupCommitOptions) {}

  /** Queues one (already validated) input; resolves once its transaction committed. */
  add(input: EnqueueInput): Promise<EnqueueResult> {
    return new Promise<EnqueueResult>((resolve, reject) => {
      this.batch.push({ input, resolve, reject });
      if (this.batch.length >= this.o.maxBatch) this.flushBatch();
      else if (!this.batchScheduled && this.inFlight.size < MAX_BATCHES_IN_FLIGHT) {
        this.batchScheduled =
          this.o.windowMs > 0
            ? setTimeout(() => this.flushBatch(), this.o.windowMs)
            : setImmediate(() => this.flushBatch());
      }
    });
  }

  /** Commits what waits and resolves once no batch is in flight (for close). */
  async drain(): Promise<void> {
    this.flushBatch();
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private flushBatch(): void {
    if (this.batchScheduled) {
      clearTimeout(this.batchScheduled as NodeJS.Timeout);
      clearImmediate(this.batchScheduled as NodeJS.Immediate);
      this.batchScheduled = null;
    }
    // A bounded number of batches at a time through the thread: what arrives meanwhile joins the next batch.
    if (this.o.thread && this.inFlight.size >= MAX_BATCHES_IN_FLIGHT) return;
    const items = this.batch.length > this.o.maxBatch ? this.batch.splice(0, this.o.maxBatch) : this.batch;
    if (items === this.batch) this.batch = [];
    if (items.length === 0) return;
    if (!this.o.isOpen()) {
      const e = new StoreError("Store is closed");
      for (const item of items) item.reject(e);
      return;
    }
    const inputs = items.map((item) => item.input);
    if (this.o.thread) {
      const sent: Promise<void> = this.o.thread.enqueue(inputs).then(
        (results) => this.settleBatch(items, results),
        (error: unknown) => {
          const e = this.o.wrap(error, "enqueue");
          for (const item of items) item.reject(e);
        },
      );
      this.inFlight.add(sent);
      void sent.finally(() => {
        this.inFlight.delete(sent);
        if (this.batch.length > 0) this.flushBatch();
      });
      return;
    }
    let results: BatchOutcome[];
    try {
      results = this.o.writer.enqueueBatch(inputs, this.o.clock.now());
    } catch (error) {
      const e = this.o.wrap(error, "enqueue");
      for (const item of items) item.reject(e);
      return;
    }
    this.settleBatch(items, results);
  }

  private settleBatch(items: readonly PendingEnqueue[], results: readonly BatchOutcome[]): void {
    const woken = new Set<QueueName>();
    results.forEach((result, i) => {
      const item = items[i];
      if (!item) return;
      if ("error" in result) item.reject(new StoreError(`SQLite enqueue failed: ${result.error}`));
      else {
        if (result.status === "enqueued" && result.jobIds.length > 0) woken.add(item.input.record.queue);
        item.resolve(result);
      }
    });
    for (const q of woken) this.o.wake(q);
  }
}
