/**
 * The dashboard API marks synthetic reconcile.* notifications (list and detail) and filters on them with
 * `origin=synthetic`; a wrong origin or a topic outside reconcile.* is refused with a clear message.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createReceiver, type Receiver } from "../../../src/core/receiver.js";
import { sign } from "../../../src/core/signature.js";
import { registerDashboard } from "../../../src/dashboard/api.js";
import { synthesize } from "../../../src/reconcile/reconcile.js";
import { createMemoryStore } from "../../../src/store/memory/memory-store.js";

const TOKEN = "dash-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };
let app: FastifyInstance;
let receiver: Receiver;

beforeEach(async () => {
  receiver = createReceiver({ secrets: ["s"], store: createMemoryStore() });
  receiver.on("*", () => undefined, { name: "sync" });
  app = Fastify();
  await registerDashboard(app, { store: receiver.store, adminToken: TOKEN });
  await app.ready();
  const now = Math.floor(Date.now() / 1000);
  const real = JSON.stringify({
    type: "notification_event",
    app_id: "app1",
    id: "notif_real",
    topic: "ticket.created",
    created_at: now,
    data: { type: "notification_event_data", item: { type: "ticket", id: "7" } },
  });
  await receiver.receive({ body: real, headers: { "x-hub-signature": sign(real, "s") } });
  await receiver.ingest(synthesize("tickets", { type: "ticket", id: "8", updated_at: now }, "8", now, "app1"));
});
afterEach(async () => {
  await app.close();
  await receiver.close(100);
});

describe("dashboard: synthetic notifications", () => {
  it("marks them in the list and the detail, and origin=synthetic keeps only them", async () => {
    const all = (await app.inject({ url: "/api/notifications", headers: AUTH })).json<{
      items: { id: string; topic: string; synthetic: boolean }[];
    }>();
    expect(all.items.map((n) => [n.topic, n.synthetic])).toEqual([
      ["reconcile.ticket", true],
      ["ticket.created", false],
    ]);
    const only = (await app.inject({ url: "/api/notifications?origin=synthetic", headers: AUTH })).json<{
      items: { topic: string }[];
    }>();
    expect(only.items.map((n) => n.topic)).toEqual(["reconcile.ticket"]);
    const detail = (await app.inject({ url: `/api/notifications/${all.items[0]!.id}`, headers: AUTH })).json<{
      record: { synthetic: boolean };
    }>();
    expect(detail.record.synthetic).toBe(true);
  });

  it("refuses an unknown origin and a topic outside reconcile.*", async () => {
    const bad = await app.inject({ url: "/api/notifications?origin=webhooks", headers: AUTH });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { message: string } }>().error.message).toMatch(/Unknown origin.*expected synthetic/);
    const clash = await app.inject({ url: "/api/notifications?origin=synthetic&topic=ticket.*", headers: AUTH });
    expect(clash.statusCode).toBe(400);
    expect(clash.json<{ error: { message: string } }>().error.message).toMatch(/reconcile\.\* topics/);
    const fine = await app.inject({
      url: "/api/notifications?origin=synthetic&topic=reconcile.ticket",
      headers: AUTH,
    });
    expect(fine.json<{ items: unknown[] }>().items).toHaveLength(1);
  });
});
