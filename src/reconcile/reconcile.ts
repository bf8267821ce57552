/**
 * Gap recovery: asks Intercom's search API which conversations, contacts and tickets changed in a time window, and
 * for every change the store has not seen (no notification about the same item, same app, created at or after the
 * item's `updated_at`) stores a synthetic `reconcile.<type>` notification through the receiver's normal pipeline
 * (dedupe, handlers, forwards, retries, dashboard). Its id is derived from type, item id and `updated_at`, so a second
 * run over the same window stores nothing. Requests are paced inside the outbox's rate budget (`pacer.ts`).
 */
import { createHash } from "node:crypto";
import { systemClock, type Clock } from "../core/clock.js";
import { ConfigError, IntercomApiError } from "../core/errors.js";
import { createLogger, type Logger } from "../core/logger.js";
import type { Receiver } from "../core/receiver.js";
import type { Store } from "../store/store.js";
import type { IntercomNotification } from "../topics/index.js";
import { describeSendResult } from "../outbound/classify.js";
import { createSearchPacer, type SearchPacerOptions } from "./pacer.js";
import { isTopicOf, RECONCILE_TOPICS, SEARCH_RESOURCES, type SearchResource } from "./resources.js";
import type { ApiAnswer, SearchApi, SearchPage } from "./search-api.js";

/** Options of {@link reconcile}. */
export interface ReconcileOptions {
  /** Intercom's REST API (`createSearchApi`). */
  api: SearchApi;
  /** The store whose notifications decide what was seen (and whose limiter paces the requests). */
  store: Store;
  /** Stores synthetic notifications through the normal pipeline; `settings.dedupeTtlMs` bounds the window. */
  receiver: Pick<Receiver, "ingest" | "settings">;
  /** Start of the window, epoch ms: items updated at or after it are checked. */
  sinceMs: number;
  /** End of the window, epoch ms. @defaultValue now */
  untilMs?: number;
  /** Which resources to scan. @defaultValue all three */
  resources?: readonly SearchResource[];
  /** Count what would be synthesized; store nothing. @defaultValue false */
  dryRun?: boolean;
  /** Results per search page (Intercom allows up to 150). @defaultValue 150 */
  perPage?: number;
  /** Pacing: the rate budget and the share of it searches may use. */
  pacing?: Pick<SearchPacerOptions, "rateLimitPerMinute" | "rateLimitWindowMs" | "share" | "maxAttempts">;
  /** Stops the run (it rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Called after every page. */
  onProgress?: (p: { resource: SearchResource; pages: number; counts: ReconcileCounts }) => void;
  /** Logger; pino fits. @defaultValue silent */
  log?: Partial<Logger>;
  /** Time source (tests). @defaultValue the system clock */
  clock?: Clock;
}

/** What one resource's scan found. */
export interface ReconcileCounts {
  /** Items updated within the window. */
  scanned: number;
  /** Of those, changes the store already holds a notification for. */
  alreadySeen: number;
  /** Of those, synthetic notifications stored (with `dryRun`: that would be stored). */
  synthesized: number;
}

/** The result of one run. */
export interface ReconcileReport {
  /** The workspace (`app_id`) the token belongs to. */
  appId: string;
  sinceMs: number;
  untilMs: number;
  dryRun: boolean;
  /** Per scanned resource. */
  counts: Partial<Record<SearchResource, ReconcileCounts>>;
  /** Search pages fetched. */
  pages: number;
  /** 429 answers waited out. */
  rateLimited: number;
  durationMs: number;
}

/** Contacts search matches dates by calendar day in the workspace's (unknown) timezone: query two days wider. */
const CONTACTS_DAY_MARGIN_S = 2 * 86_400;

/**
 * Runs gap recovery over one window.
 * @throws {IntercomApiError} when Intercom refuses the token (401/403) or keeps failing; {@link ConfigError} for a
 * window that is empty or reaches further back than the dedupe retention.
 * @example
 * const report = await reconcile({ api: createSearchApi({ token }), store, receiver, sinceMs: Date.now() - 2 * 3600_000 });
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileReport> {
  const clock = options.clock ?? systemClock;
  const log = createLogger(options.log);
  const startedAt = clock.now();
  const untilMs = options.untilMs ?? startedAt;
  const { sinceMs, store, api, receiver, signal } = options;
  if (!Number.isFinite(sinceMs) || !Number.isFinite(untilMs) || sinceMs >= untilMs)
    throw new ConfigError("reconcile: the window's start must be before its end");
  const oldestAccepted = startedAt - receiver.settings.dedupeTtlMs;
  if (sinceMs < oldestAccepted)
    throw new ConfigError(
      `reconcile: the window starts ${new Date(sinceMs).toISOString()}, before the dedupe retention (${Math.round(receiver.settings.dedupeTtlMs / 3_600_000)} h) allows; notifications older than that are refused as stale. Start at ${new Date(oldestAccepted).toISOString()} or later, or raise --dedupe-retention`,
    );
  const perPage = options.perPage ?? 150;
  const resources = options.resources ?? SEARCH_RESOURCES;
  const pacer = createSearchPacer({
    store,
    clock,
    ...options.pacing,
    onWait: (ms, reason) => log.info({ waitMs: ms }, `reconcile: ${reason}`),
  });

  const me = requireOk(await pacer.run((s) => api.me(s), signal), "GET /me");
  const appId = me.appId;
  const sinceSec = Math.floor(sinceMs / 1000);
  const untilSec = Math.floor(untilMs / 1000);
  const report: ReconcileReport = {
    appId,
    sinceMs,
    untilMs,
    dryRun: options.dryRun === true,
    counts: {},
    pages: 0,
    rateLimited: 0,
    durationMs: 0,
  };

  for (const resource of resources) {
    const counts: ReconcileCounts = { scanned: 0, alreadySeen: 0, synthesized: 0 };
    report.counts[resource] = counts;
    const query = windowQuery(resource, sinceSec, untilSec);
    const done = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const startingAfter: string | null = cursor;
      const page: SearchPage = requireOk(
        await pacer.run((s) => api.search(resource, query, { perPage, startingAfter }, s), signal),
        `POST /${resource}/search`,
      );
      pages++;
      report.pages++;
      for (const item of page.items) {
        const updatedAt = unixSeconds(item["updated_at"]);
        const rawId = item["id"];
        const itemId = typeof rawId === "string" || typeof rawId === "number" ? String(rawId) : null;
        // Contacts come back by whole days: keep exactly the window.
        if (itemId === null || updatedAt === null || updatedAt < sinceSec || updatedAt > untilSec) continue;
        // An item updated while we scan moves behind the cursor and comes back with a newer updated_at; the same
        // change twice is counted once.
        const key = `${itemId}@${updatedAt}`;
        if (done.has(key)) continue;
        done.add(key);
        counts.scanned++;
        if (await hasSeen(store, resource, appId, itemId, updatedAt)) {
          counts.alreadySeen++;
          continue;
        }
        if (options.dryRun) {
          counts.synthesized++;
          continue;
        }
        const result = await receiver.ingest(synthesize(resource, item, itemId, updatedAt, appId), {
          "user-agent": "intercom-bridge-reconcile",
        });
        if (result.status === "accepted") counts.synthesized++;
        else counts.alreadySeen++;
      }
      options.onProgress?.({ resource, pages, counts: { ...counts } });
      cursor = page.next;
    } while (cursor !== null);
    log.info({ resource, ...counts, pages, dryRun: report.dryRun }, `reconcile: ${resource} scanned`);
  }
  report.rateLimited = pacer.rateLimitedCount;
  report.durationMs = clock.now() - startedAt;
  return report;
}

/**
 * The search query of a window. Conversations and tickets compare to the second (`>`/`<` include the value in
 * Intercom's docs; one second wider either way is right whichever way they behave). Contacts match by calendar day
 * in the workspace's timezone, `>` from the next day and `<` before the day: two days wider, filtered exactly after.
 */
export function windowQuery(resource: SearchResource, sinceSec: number, untilSec: number): unknown {
  const margin = resource === "contacts" ? CONTACTS_DAY_MARGIN_S : 1;
  return {
    operator: "AND",
    value: [
      { field: "updated_at", operator: ">", value: sinceSec - margin },
      { field: "updated_at", operator: "<", value: untilSec + margin },
    ],
  };
}

/**
 * True when the store holds a notification about this item (same app, a topic of this resource's family, synthetic
 * ones included) created at or after `updatedAt`.
 */
export async function hasSeen(
  store: Store,
  resource: SearchResource,
  appId: string,
  itemId: string,
  updatedAt: number,
): Promise<boolean> {
  let cursor: string | undefined;
  do {
    const page = await store.listRecords({
      queue: "inbound",
      appId,
      itemId,
      limit: 200,
      ...(cursor !== undefined ? { cursor } : {}),
    });
    if (page.items.some(({ record }) => record.createdAt >= updatedAt && isTopicOf(resource, record.topic)))
      return true;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return false;
}

/** The synthetic notification for one change: a real envelope around the REST object, `created_at` = `updated_at`. */
export function synthesize(
  resource: SearchResource,
  item: Record<string, unknown>,
  itemId: string,
  updatedAt: number,
  appId: string,
): IntercomNotification<string> {
  return {
    type: "notification_event",
    app_id: appId,
    data: { type: "notification_event_data", item },
    links: {},
    id: syntheticId(resource, itemId, updatedAt),
    topic: RECONCILE_TOPICS[resource],
    delivery_status: "pending",
    delivery_attempts: 1,
    delivered_at: 0,
    first_sent_at: updatedAt,
    created_at: updatedAt,
    self: null,
  } as unknown as IntercomNotification<string>;
}

/** `notif_reconcile-<type>-<item id>-<updated_at>` (a hash stands in for an id with unusual characters). */
export function syntheticId(resource: SearchResource, itemId: string, updatedAt: number): string {
  const type = RECONCILE_TOPICS[resource].slice("reconcile.".length);
  const id = /^[A-Za-z0-9_.]{1,80}$/.test(itemId)
    ? itemId
    : createHash("sha256").update(itemId).digest("hex").slice(0, 32);
  return `notif_reconcile-${type}-${id}-${updatedAt}`;
}

function unixSeconds(v: unknown): number | null {
  if (typeof v === "number" && Number.isFinite(v)) return Math.floor(v);
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  if (typeof v === "string") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : Math.floor(t / 1000);
  }
  return null;
}

function requireOk<T>(answer: ApiAnswer<T>, what: string): T {
  if (answer.status !== null && answer.status >= 200 && answer.status < 300 && answer.body !== undefined)
    return answer.body;
  const details = {
    ...(answer.errorCode !== undefined ? { intercomCode: answer.errorCode } : {}),
  };
  if (answer.status === 401 || answer.status === 403)
    throw new IntercomApiError(
      answer.status,
      `Intercom refused the access token on ${what} (${describeSendResult(answer)}). Set INTERCOM_ACCESS_TOKEN to a token of this workspace that may read conversations, contacts and tickets.`,
      details,
    );
  throw new IntercomApiError(answer.status ?? 0, `${what} failed: ${describeSendResult(answer)}`, details);
}
