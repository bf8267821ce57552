/**
 * The delivery views: `GET /api/deliveries/:id` (one delivery with its attempts, last error and stack, and its
 * notification), `GET /api/dead-letters` and `GET /api/dead-letters/count` (dead deliveries of both queues, by
 * filter). Reads through the Store contract only; replaying them is in replay.ts.
 */
import type { FastifyInstance } from "fastify";
import { DEFAULT_PAGE_SIZE, parseFilter } from "../parse-filter.js";
import { presentDelivery, presentDeliveryDetail, presentRecordDetail } from "../present.js";
import { DEAD_FILTER_PARAMS, ID_RE, sendError, type ApiContext } from "./context.js";

const DEAD_LIST_PARAMS = [...DEAD_FILTER_PARAMS, "limit", "cursor"] as const;

/** Registers the delivery detail and the dead-letter list and count. */
export function registerDeliveryRoutes(api: FastifyInstance, { store }: ApiContext): void {
  api.get<{ Params: { id: string } }>("/api/deliveries/:id", async (req, reply) => {
    const job = ID_RE.test(req.params.id) ? await store.getJob(req.params.id) : undefined;
    if (!job) return sendError(reply, "IB_ERR_NOT_FOUND", `No delivery with id "${req.params.id}"`);
    const { record, payload, rawBody, headers } = presentRecordDetail({ record: job.record, jobs: [] });
    return { ...presentDeliveryDetail(job), record, payload, rawBody, headers };
  });

  api.get<{ Querystring: Record<string, unknown> }>("/api/dead-letters", async (req, reply) => {
    const parsed = parseFilter(req.query, DEAD_LIST_PARAMS);
    if (!parsed.ok) return sendError(reply, "IB_ERR_QUERY_INVALID", parsed.message);
    const page = await store.listJobs({
      ...parsed.value.filter,
      state: "dead",
      limit: parsed.value.filter.limit ?? DEFAULT_PAGE_SIZE,
    });
    return { items: page.items.map(presentDelivery), nextCursor: page.nextCursor };
  });

  api.get<{ Querystring: Record<string, unknown> }>("/api/dead-letters/count", async (req, reply) => {
    const parsed = parseFilter(req.query, DEAD_FILTER_PARAMS);
    if (!parsed.ok) return sendError(reply, "IB_ERR_QUERY_INVALID", parsed.message);
    return { count: await store.countJobs({ ...parsed.value.filter, state: "dead" }) };
  });
}
