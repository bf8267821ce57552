import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UnrecoverableError } from "../../../src/core/errors.js";
import { createMemoryStore } from "../../../src/store/memory/memory-store.js";
import type { Store } from "../../../src/store/store.js";
import { createEventTracker, type EventTracker } from "../../../src/outbound/outbox.js";
import { registerEventsRoutes } from "../../../src/service/events-routes.js";

const ADMIN = "admin-token-xyz";
let app: FastifyInstance;
let store: Store;
let tracker: EventTracker;

beforeEach(async () => {
  store = createMemoryStore();
  // No worker runs: these tests are about storing, listing and requeueing.
  tracker = createEventTracker({ store, token: "tok", baseUrl: "http://127.0.0.1:9" });
  app = Fastify();
  registerEventsRoutes(app, { tracker, adminToken: ADMIN, store });
  await app.ready();
});

afterEach(async () => {
  await app.close();
  await tracker.close();
  await store.close();
});

const auth = { authorization: `Bearer ${ADMIN}` };
const ev = (i: number): Record<string, unknown> => ({
  event_name: "placed-order",
  user_id: `u${i}`,
  created_at: 1_700_000_000 + i,
});

describe("POST /api/events", () => {
  it("answers 401 without a token and with a wrong one, storing nothing", async () => {
    for (const headers of [{}, { authorization: "Bearer nope" }, { authorization: ADMIN }]) {
      const res = await app.inject({ method: "POST", url: "/api/events", headers, payload: ev(1) });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: "IB_ERR_UNAUTHORIZED" } });
      expect(res.body).not.toContain(ADMIN);
    }
    expect((await store.stats()).counts.outbox.pending).toBe(0);
  });

  it("stores one event and answers 202 with its id", async () => {
    const res = await app.inject({ method: "POST", url: "/api/events", headers: auth, payload: ev(1) });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ index: 0, isDuplicate: false, createdAt: 1_700_000_001 });
    expect((await store.getJob(body.id))?.record.body).toBe(
      JSON.stringify({ event_name: "placed-order", created_at: 1_700_000_001, user_id: "u1" }),
    );
  });

  it("stores an array and answers 202 with every id; a repeat is marked duplicate with the same id", async () => {
    const res = await app.inject({ method: "POST", url: "/api/events", headers: auth, payload: [ev(1), ev(2)] });
    expect(res.statusCode).toBe(202);
    const { events } = res.json();
    expect(events).toHaveLength(2);
    const again = await app.inject({ method: "POST", url: "/api/events", headers: auth, payload: [ev(2)] });
    expect(again.json().events[0]).toMatchObject({ id: events[1].id, isDuplicate: true });
  });

  it("answers 422 with every problem per event index and stores nothing", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/events",
      headers: auth,
      payload: [
        ev(1),
        { eventName: "x", user_id: "1" },
        ev(3),
        { ...ev(4), created_at: 1_700_000_000_000, metadata: { a: { b: 1 } } },
      ],
    });
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.error.code).toBe("IB_ERR_EVENT_INVALID");
    expect(body.error.events.map((e: { index: number }) => e.index)).toEqual([1, 3]);
    expect(body.error.events[1].issues.map((i: { field: string }) => i.field).sort()).toEqual([
      "created_at",
      "metadata.a",
    ]);
    expect((await store.stats()).counts.outbox.pending).toBe(0);
  });

  it("answers malformed JSON with 400 IB_ERR_BODY_INVALID in this API's error shape, and 401 first without a token", async () => {
    const headers = { ...auth, "content-type": "application/json" };
    const bad = await app.inject({ method: "POST", url: "/api/events", headers, payload: '{"event_name": ' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: "IB_ERR_BODY_INVALID", message: expect.any(String) } });
    expect(Object.keys(bad.json<object>())).toEqual(["error"]);
    const anonymous = await app.inject({
      method: "POST",
      url: "/api/events",
      headers: { "content-type": "application/json" },
      payload: '{"event_name": ',
    });
    expect(anonymous.statusCode).toBe(401);
    const wrongType = await app.inject({
      method: "POST",
      url: "/api/events",
      headers: { ...auth, "content-type": "text/csv" },
      payload: "a,b",
    });
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.json()).toMatchObject({ error: { code: "IB_ERR_UNSUPPORTED_MEDIA_TYPE" } });
  });

  it("answers 400 IB_ERR_BODY_INVALID for an empty array and for more than 1,000 events, storing nothing", async () => {
    const empty = await app.inject({ method: "POST", url: "/api/events", headers: auth, payload: [] });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toEqual({ error: { code: "IB_ERR_BODY_INVALID", message: "the array is empty" } });
    const many = Array.from({ length: 1_001 }, (_, i) => ev(i));
    const tooMany = await app.inject({ method: "POST", url: "/api/events", headers: auth, payload: many });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json()).toMatchObject({ error: { code: "IB_ERR_BODY_INVALID", message: /at most 1000 events/ } });
    expect((await store.stats()).counts.outbox.pending).toBe(0);
  });
});

describe("GET /api/events and POST /api/events/:id/retry", () => {
  it("lists events with presented states and filters by state", async () => {
    await app.inject({ method: "POST", url: "/api/events", headers: auth, payload: [ev(1), ev(2)] });
    const all = await app.inject({ method: "GET", url: "/api/events", headers: auth });
    expect(all.statusCode).toBe(200);
    expect(all.json().items.map((i: { state: string }) => i.state)).toEqual(["pending", "pending"]);
    const sent = await app.inject({ method: "GET", url: "/api/events?state=sent", headers: auth });
    expect(sent.json().items).toEqual([]);
    const bad = await app.inject({ method: "GET", url: "/api/events?state=weird", headers: auth });
    expect(bad.statusCode).toBe(400);
    expect((await app.inject({ method: "GET", url: "/api/events" })).statusCode).toBe(401);
  });

  const list = (query: string, headers: Record<string, string> = auth) =>
    app.inject({ method: "GET", url: `/api/events${query}`, headers });

  /** Runs every pending outbox delivery once; each one fails for good (Intercom refused it). */
  async function killAll(): Promise<void> {
    const processor = store.process(
      "outbox",
      async () => {
        throw new UnrecoverableError("Intercom said no");
      },
      { concurrency: 2, leaseMs: 5_000, pollMs: 5 },
    );
    const until = Date.now() + 5_000;
    while ((await store.countJobs({ queue: "outbox", state: "dead" })) < (await store.countJobs({ queue: "outbox" }))) {
      if (Date.now() > until) throw new Error("events did not die");
      await new Promise((r) => setTimeout(r, 10));
    }
    await processor.close();
  }

  it("answers 401 to GET without the right token, and never echoes the token", async () => {
    for (const headers of [{}, { authorization: "Bearer nope" }, { authorization: `Basic ${ADMIN}` }]) {
      const res = await list("", headers);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: "IB_ERR_UNAUTHORIZED" } });
      expect(res.headers["cache-control"]).toBe("no-store");
    }
  });

  it("answers 400 IB_ERR_QUERY_INVALID naming the parameter, as the dashboard does", async () => {
    const cases: [string, RegExp][] = [
      ["?cursor=garbage", /cursor/],
      ["?limit=abc", /limit must be an integer from 1 to 500/],
      ["?limit=0", /limit must be/],
      ["?state=weird", /Unknown state "weird"/],
      ["?event_name=has%20space", /event_name must be/],
      ["?since=yesterday", /since must be/],
      ["?since=2000&until=1000", /since must be before until/],
      ["?status=sent", /Unknown parameter "status"; expected one of: state, event_name, since, until, limit, cursor/],
      ["?topic=placed-order", /Unknown parameter "topic"/],
      ["?state=sent&state=failed", /"state" must be given once/],
    ];
    for (const [query, message] of cases) {
      const res = await list(query);
      expect(res.statusCode, `${query}: ${res.body}`).toBe(400);
      expect(res.json().error.code).toBe("IB_ERR_QUERY_INVALID");
      expect(res.json().error.message).toMatch(message);
    }
  });

  it("filters by event name and pages with limit and cursor", async () => {
    await app.inject({
      method: "POST",
      url: "/api/events",
      headers: auth,
      payload: [ev(1), ev(2), ev(3), { ...ev(4), event_name: "signed-up" }],
    });
    expect((await list("?event_name=signed-up")).json().items.map((i: { contact: string }) => i.contact)).toEqual([
      "u4",
    ]);
    const first = (await list("?event_name=placed-order&limit=2")).json();
    expect(first.items).toHaveLength(2);
    const second = (
      await list(`?event_name=placed-order&limit=2&cursor=${encodeURIComponent(first.nextCursor)}`)
    ).json();
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.items, ...second.items].map((i: { id: string }) => i.id)).size).toBe(3);
  });

  it("reads state=failed as given up (the queue's dead) and accepts the queue's names done and dead too", async () => {
    await app.inject({ method: "POST", url: "/api/events", headers: auth, payload: [ev(1)] });
    await killAll();
    for (const state of ["failed", "dead"]) {
      const items = (await list(`?state=${state}`)).json().items;
      expect(items.map((i: { state: string }) => i.state)).toEqual(["failed"]);
    }
    expect((await list("?state=retrying")).json().items).toEqual([]);
    expect((await list("?state=sent,done")).json().items).toEqual([]);
  });

  it("retries a failed event: 202, pending again with its attempts reset; 401 without the token", async () => {
    const { id } = (await app.inject({ method: "POST", url: "/api/events", headers: auth, payload: ev(1) })).json();
    await killAll();
    const refused = await app.inject({ method: "POST", url: `/api/events/${id}/retry` });
    expect(refused.statusCode).toBe(401);
    expect((await store.getJob(id))?.state).toBe("dead");
    const res = await app.inject({ method: "POST", url: `/api/events/${id}/retry`, headers: auth });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ id, state: "pending" });
    expect(await store.getJob(id)).toMatchObject({ state: "pending", attempts: 0 });
  });

  it("refuses to retry a pending event (409) and an unknown one (404)", async () => {
    const { id } = (await app.inject({ method: "POST", url: "/api/events", headers: auth, payload: ev(1) })).json();
    expect((await app.inject({ method: "POST", url: `/api/events/${id}/retry`, headers: auth })).statusCode).toBe(409);
    expect((await app.inject({ method: "POST", url: `/api/events/nope-0/retry`, headers: auth })).statusCode).toBe(404);
  });
});
