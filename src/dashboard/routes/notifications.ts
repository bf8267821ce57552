/**
 * `GET /api/notifications` (the received notifications, newest first, filtered and searched by notification or item
 * id) and `GET /api/notifications/:id` (one notification with its payload, safe headers and every delivery with its
 * attempts). Reads through the Store contract only.
 */
import type { FastifyInstance } from "fastify";
import type { JobFilter } from "../../delivery/types.js";
import type { StoreReader } from "../../store/store.js";
import { DEFAULT_PAGE_SIZE, parseFilter, type FilterParam, type ParsedFilter } from "../parse-filter.js";
import { presentNotification, presentRecordDetail } from "../present.js";
import { ID_RE, sendError, type ApiContext } from "./context.js";

const LIST_PARAMS: readonly FilterParam[] = [
  "state",
  "topic",
  "since",
  "until",
  "q",
  "notificationId",
  "itemId",
  "appId",
  "limit",
  "cursor",
];

/** Registers the notifications list and detail. */
export function registerNotificationRoutes(api: FastifyInstance, { store }: ApiContext): void {
  api.get<{ Querystring: Record<string, unknown> }>("/api/notifications", async (req, reply) => {
    const parsed = parseFilter(req.query, LIST_PARAMS);
    if (!parsed.ok) return sendError(reply, "IB_ERR_QUERY_INVALID", parsed.message);
    const result = await listNotifications(store, parsed.value);
    if ("error" in result) return sendError(reply, "IB_ERR_QUERY_INVALID", result.error);
    return result;
  });

  api.get<{ Params: { id: string } }>("/api/notifications/:id", async (req, reply) => {
    const detail = ID_RE.test(req.params.id) ? await store.getRecord(req.params.id) : undefined;
    if (!detail || detail.record.queue !== "inbound")
      return sendError(reply, "IB_ERR_NOT_FOUND", `No notification with id "${req.params.id}"`);
    return presentRecordDetail(detail);
  });
}

type NotificationsResult =
  | {
      items: ReturnType<typeof presentNotification>[];
      nextCursor: string | null;
      match: "notificationId" | "itemId" | null;
    }
  | { error: string };

/**
 * One page of notifications. `q` is an exact notification id or item id: the notification id is tried first (it
 * selects at most a handful of records), then the item id. The mode is carried in the cursor (`n~` / `i~`) so later
 * pages keep searching the same field.
 */
async function listNotifications(store: StoreReader, parsed: ParsedFilter): Promise<NotificationsResult> {
  const { q } = parsed;
  const base: JobFilter = { ...parsed.filter, queue: "inbound", limit: parsed.filter.limit ?? DEFAULT_PAGE_SIZE };
  if (q === undefined) {
    const page = await store.listRecords(base);
    return { items: page.items.map(presentNotification), nextCursor: page.nextCursor, match: null };
  }
  let mode: "n" | "i" | undefined;
  let cursor: string | undefined;
  if (base.cursor !== undefined) {
    const m = /^([ni])~(.+)$/.exec(base.cursor);
    if (!m) return { error: "cursor does not belong to this search; start again without a cursor" };
    mode = m[1] as "n" | "i";
    cursor = m[2];
  }
  const run = async (field: "n" | "i") => {
    const filter: JobFilter = { ...base, ...(field === "n" ? { notificationId: q } : { itemId: q }) };
    if (cursor !== undefined) filter.cursor = cursor;
    else delete filter.cursor;
    const page = await store.listRecords(filter);
    return {
      items: page.items.map(presentNotification),
      nextCursor: page.nextCursor === null ? null : `${field}~${page.nextCursor}`,
      match: field === "n" ? ("notificationId" as const) : ("itemId" as const),
    };
  };
  if (mode !== undefined) return run(mode);
  const byNotification = await run("n");
  if (byNotification.items.length > 0) return byNotification;
  const byItem = await run("i");
  // Neither field matched: say so, rather than "matched by item id" over an empty table.
  return byItem.items.length > 0 ? byItem : { ...byItem, match: null };
}
