/**
 * `GET /api/outbound`: the outbound Data Events, newest first, under the state names the CLI uses (`sent`,
 * `retrying`, …), each with Intercom's error; an event that only waited for a paused outbox shows the error that
 * paused it. Reads through the Store contract only.
 */
import type { FastifyInstance } from "fastify";
import { EVENT_STATE_FILTER_NAMES } from "../../outbound/event-states.js";
import { DEFAULT_PAGE_SIZE, parseFilter, type FilterParam } from "../parse-filter.js";
import { isPauseWait, lastIntercomError, presentOutbound } from "../present.js";
import { sendError, type ApiContext } from "./context.js";

const OUTBOUND_PARAMS: readonly FilterParam[] = ["state", "topic", "since", "until", "q", "limit", "cursor"];

/** Registers `GET /api/outbound`. */
export function registerOutboundRoute(api: FastifyInstance, { store }: ApiContext): void {
  api.get<{ Querystring: Record<string, unknown> }>("/api/outbound", async (req, reply) => {
    const parsed = parseFilter(req.query, OUTBOUND_PARAMS, { states: EVENT_STATE_FILTER_NAMES });
    if (!parsed.ok) return sendError(reply, "IB_ERR_QUERY_INVALID", parsed.message);
    const { filter, q } = parsed.value;
    const page = await store.listJobs({
      ...filter,
      queue: "outbox",
      ...(q !== undefined ? { itemId: q } : {}),
      limit: filter.limit ?? DEFAULT_PAGE_SIZE,
    });
    // An event that only waited for a paused outbox recorded the wait; the cause (a 401, a 429) is in its history.
    const items = await Promise.all(
      page.items.map(async (job) => {
        if (!job.lastError || !isPauseWait(job.lastError)) return presentOutbound(job);
        const detail = await store.getJob(job.id);
        return presentOutbound(job, detail ? lastIntercomError(detail.history) : undefined);
      }),
    );
    return { items, nextCursor: page.nextCursor };
  });
}
