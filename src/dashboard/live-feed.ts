/**
 * The live feed behind `GET /api/stream`: fans newly stored notifications out to every open stream, from the
 * receiver's notices, from polling the store (what other processes on the same store received), or both, each record
 * once. Listens and polls only while a stream is open. Reads through the Store contract only.
 */
import type { Logger } from "../core/logger.js";
import type { Page, QueueName, RecordSummary } from "../delivery/types.js";
import type { StoreReader } from "../store/store.js";
import { presentNotification, type NotificationView } from "./present.js";

/** What the service reports when a notification has been stored; the receiver's `ReceiveResult` is one. */
export interface ReceivedNotice {
  /** The stored record's id; null (or a `duplicate` status) means nothing new was stored. */
  recordId: string | null;
  /** `"duplicate"` notices are ignored. */
  status?: string;
  /** Notices about other queues are ignored. @defaultValue "inbound" */
  queue?: QueueName;
}

/**
 * Where newly stored notifications are announced: either the receiver itself (`receiver.onReceived(listener)` returns
 * an unsubscribe function) or an `EventEmitter`-like object emitting `"received"` with a {@link ReceivedNotice}.
 */
export type ReceivedEventSource =
  | { onReceived(listener: (notice: ReceivedNotice) => void): () => void }
  | {
      on(event: "received", listener: (notice: ReceivedNotice) => void): unknown;
      off(event: "received", listener: (notice: ReceivedNotice) => void): unknown;
    };

/** Options of {@link createLiveFeed}. */
export interface LiveFeedOptions {
  store: StoreReader;
  /** Push source. Without it the feed polls the store while someone listens. */
  events?: ReceivedEventSource | undefined;
  /**
   * Also poll the store while `events` pushes: other processes sharing the store (a second `serve` on the same Redis
   * prefix or SQLite file) receive notifications this process is never told about. Records both paths see are sent
   * once. Ignored without `events` (the feed polls anyway). @defaultValue false
   */
  pollWithEvents?: boolean | undefined;
  /** Poll interval, ms. @defaultValue 1_000 */
  pollMs?: number;
  log: Logger;
  now: () => number;
}

/** Fans newly received notifications out to every connected stream; listens or polls only while someone is connected. */
export interface LiveFeed {
  /** Adds a listener; returns its unsubscribe function. */
  subscribe(send: (row: NotificationView) => void): () => void;
  /** Number of listeners. */
  readonly size: number;
  /** Drops every listener and stops listening or polling. */
  close(): void;
}

const POLL_BATCH = 200;
/** Pages one poll may walk through a burst: 1,000 records a poll interval before the stream skips ahead. */
const POLL_MAX_PAGES = 5;
// Records stored by another process may land with a slightly older receive time than our watermark; look back this far.
const POLL_LAG_MS = 2_000;

/** Creates the feed behind `GET /api/stream`. */
export function createLiveFeed(opts: LiveFeedOptions): LiveFeed {
  const { store, events, log, now } = opts;
  const pollMs = opts.pollMs ?? 1_000;
  const listeners = new Set<(row: NotificationView) => void>();
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let watermark = 0;
  const seen = new Map<string, number>();
  let unsubscribeSource: (() => void) | undefined;
  let polling = false;

  // Sends a record once, whichever path (push or poll) sees it first: the check and the mark happen in one turn.
  // Without polling, pushes are the only path and `seen` (pruned by the poll) stays empty.
  const broadcastOnce = (row: NotificationView): void => {
    if (polling) {
      if (seen.has(row.id)) return;
      seen.set(row.id, row.receivedAt);
    }
    for (const send of listeners) {
      try {
        send(row);
      } catch (err) {
        log.warn({ err }, "dashboard stream listener failed");
      }
    }
  };

  const onNotice = (notice: ReceivedNotice): void => {
    const recordId = notice?.recordId;
    if (
      typeof recordId !== "string" ||
      notice.status === "duplicate" ||
      (notice.queue !== undefined && notice.queue !== "inbound")
    )
      return;
    // Serialise lookups so rows go out in the order they were received.
    chain = chain.then(async () => {
      try {
        const detail = await store.getRecord(recordId);
        if (detail && detail.record.queue === "inbound") broadcastOnce(presentNotification(detail));
      } catch (err) {
        log.warn({ err, recordId }, "dashboard stream could not read a received record");
      }
    });
  };

  const poll = async (): Promise<void> => {
    try {
      // Newest first and bounded: a cheap query whatever the store holds, since the watermark follows what arrives.
      // A full page that still held unseen records may hide more behind it (a burst received elsewhere): follow its
      // cursor, up to POLL_MAX_PAGES pages; a page of records already sent ends the walk.
      const found: RecordSummary[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < POLL_MAX_PAGES; pages++) {
        const page: Page<RecordSummary> = await store.listRecords({
          queue: "inbound",
          since: watermark - POLL_LAG_MS,
          limit: POLL_BATCH,
          ...(cursor !== null ? { cursor } : {}),
        });
        found.push(...page.items);
        cursor = page.nextCursor;
        if (cursor === null || page.items.every((s) => seen.has(s.record.id))) break;
      }
      for (const s of found.reverse()) {
        watermark = Math.max(watermark, s.record.receivedAt);
        broadcastOnce(presentNotification(s));
      }
      for (const [id, at] of seen) if (at < watermark - 2 * POLL_LAG_MS) seen.delete(id);
    } catch (err) {
      log.warn({ err }, "dashboard stream poll failed");
    }
  };

  // Each start gets a generation, so a poll still in flight after a stop/start does not start a second loop.
  let generation = 0;
  const schedule = (gen: number): void => {
    timer = setTimeout(() => {
      void poll().finally(() => {
        if (gen === generation && listeners.size > 0) schedule(gen);
      });
    }, pollMs);
    timer.unref();
  };

  const start = (): void => {
    if (events) {
      if ("onReceived" in events) unsubscribeSource = events.onReceived(onNotice);
      else events.on("received", onNotice);
      if (opts.pollWithEvents !== true) return;
    }
    const gen = ++generation;
    polling = true;
    watermark = now();
    seen.clear();
    // Remember what is already there so the first poll does not replay the last seconds.
    void store
      .listRecords({ queue: "inbound", since: watermark - POLL_LAG_MS, limit: POLL_BATCH })
      .then((page) => {
        for (const s of page.items) seen.set(s.record.id, s.record.receivedAt);
      })
      .catch((err: unknown) => log.warn({ err }, "dashboard stream poll failed"))
      .finally(() => {
        if (gen === generation && listeners.size > 0) schedule(gen);
      });
  };

  const stop = (): void => {
    if (events && "off" in events) events.off("received", onNotice);
    unsubscribeSource?.();
    unsubscribeSource = undefined;
    generation++;
    polling = false;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  return {
    subscribe(send) {
      listeners.add(send);
      if (listeners.size === 1) start();
      return () => {
        if (listeners.delete(send) && listeners.size === 0) stop();
      };
    },
    get size() {
      return listeners.size;
    },
    close() {
      listeners.clear();
      stop();
    },
  };
}
