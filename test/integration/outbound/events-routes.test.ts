import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryStore } from "../../../src/store/memory-store.js";
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

  it("answers 400 for an empty array", async () => {
    const res = await app.inject({ method: "POST", url: "/api/events", headers: auth, payload: [] });
    expect(res.statusCode).toBe(400);
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

  it("refuses to retry a pending event (409) and an unknown one (404)", async () => {
    const { id } = (await app.inject({ method: "POST", url: "/api/events", headers: auth, payload: ev(1) })).json();
    expect((await app.inject({ method: "POST", url: `/api/events/${id}/retry`, headers: auth })).statusCode).toBe(409);
    expect((await app.inject({ method: "POST", url: `/api/events/nope-0/retry`, headers: auth })).statusCode).toBe(404);
  });
});
