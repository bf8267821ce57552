/**
 * The operator writes: `POST /api/notifications/:id/replay` (every finished delivery of one notification),
 * `POST /api/deliveries/:id/replay` (one delivery) and `POST /api/dead-letters/replay` (the dead deliveries a filter
 * selects, only when their count is still the one the operator confirmed). Replaying makes a dead, failed or done
 * delivery due now with its attempts reset. Writes through the Store contract only.
 */
import type { FastifyInstance } from "fastify";
import type { JobFilter } from "../../delivery/types.js";
import { replayRecord } from "../../store/replay.js";
import { parseFilter } from "../parse-filter.js";
import { presentDelivery } from "../present.js";
import { DEAD_FILTER_PARAMS, ID_RE, sendError, type ApiContext } from "./context.js";

/** Registers the three replay routes. */
export function registerReplayRoutes(api: FastifyInstance, { store }: ApiContext): void {
  api.post<{ Params: { id: string } }>("/api/notifications/:id/replay", async (req, reply) => {
    const result = ID_RE.test(req.params.id)
      ? await replayRecord(store, req.params.id, { queue: "inbound" })
      : ({ status: "not-found", message: `No notification with id "${req.params.id}"` } as const);
    if (result.status === "requeued") return { requeued: result.requeued };
    return sendError(reply, result.status === "not-found" ? "IB_ERR_NOT_FOUND" : "IB_ERR_CONFLICT", result.message);
  });

  api.post<{ Params: { id: string } }>("/api/deliveries/:id/replay", async (req, reply) => {
    const id = req.params.id;
    const result = ID_RE.test(id) ? await store.requeue(id) : "not-found";
    switch (result) {
      case "not-found":
        return sendError(reply, "IB_ERR_NOT_FOUND", `No delivery with id "${id}"`);
      case "conflict": {
        const job = await store.getJob(id);
        return sendError(
          reply,
          "IB_ERR_CONFLICT",
          `Delivery "${id}" is ${job?.state ?? "in progress"}; only dead, failed or done deliveries can be replayed`,
        );
      }
      case "requeued": {
        const job = await store.getJob(id);
        return { status: "requeued", delivery: job ? presentDelivery(job) : null };
      }
    }
  });

  api.post<{ Body: unknown }>("/api/dead-letters/replay", async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body !== "object" || Array.isArray(body))
      return sendError(
        reply,
        "IB_ERR_BODY_INVALID",
        'Body must be a JSON object: { "filter": {…}, "expectedCount": N }',
      );
    const extra = Object.keys(body).filter((k) => k !== "filter" && k !== "expectedCount");
    if (extra.length > 0)
      return sendError(
        reply,
        "IB_ERR_BODY_INVALID",
        `Unknown body field "${extra[0]}"; expected: filter, expectedCount`,
      );
    const rawFilter = body["filter"] ?? {};
    if (typeof rawFilter !== "object" || rawFilter === null || Array.isArray(rawFilter)) {
      return sendError(
        reply,
        "IB_ERR_BODY_INVALID",
        "filter must be an object of the same fields GET /api/dead-letters/count takes",
      );
    }
    const parsed = parseFilter(rawFilter, DEAD_FILTER_PARAMS);
    if (!parsed.ok) return sendError(reply, "IB_ERR_BODY_INVALID", `filter: ${parsed.message}`);
    const expected = body["expectedCount"];
    const filter: JobFilter = { ...parsed.value.filter, state: "dead" };
    if (expected !== undefined) {
      if (typeof expected !== "number" || !Number.isInteger(expected) || expected < 0) {
        return sendError(reply, "IB_ERR_BODY_INVALID", "expectedCount must be an integer >= 0");
      }
      // The operator confirmed "Replay N deliveries?"; do not replay a different number than they agreed to.
      const count = await store.countJobs(filter);
      if (count !== expected) {
        return sendError(
          reply,
          "IB_ERR_CONFLICT",
          `The filter now selects ${count} dead deliveries, not ${expected}; check the count and confirm again`,
        );
      }
      if (expected === 0) return { requeued: 0 };
      // Dead letters arriving between the count and the requeue must not ride along: replay at most what was confirmed.
      filter.limit = expected;
    }
    return { requeued: await store.requeueMany(filter) };
  });
}
