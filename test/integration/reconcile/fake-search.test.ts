/**
 * fake-intercom's workspace endpoints over real HTTP: GET /me, the three searches with Intercom's date semantics
 * (contacts by calendar day in the workspace timezone, the others to the second), AND/OR groups and their limits,
 * cursor pagination, the bearer token, the shared rate-limit window and injected failures.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startFakeIntercom, type FakeIntercom } from "../../../src/outbound/fake-intercom.js";

let fake: FakeIntercom | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of several shapes, read field by field
type Json = any;

async function post(
  path: string,
  body: unknown,
  token = "t",
): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(`${fake!.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

const updatedAfter = (field: string, op: string, value: number | string) => ({ field, operator: op, value });

describe("fake-intercom workspace", () => {
  it("answers GET /me with the app id_code, only with the token", async () => {
    fake = await startFakeIntercom({ token: "t", appId: "app_x", timezone: "Europe/Dublin" });
    const ok = await fetch(`${fake.url}/me`, { headers: { authorization: "Bearer t" } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-ratelimit-limit")).not.toBeNull();
    const me = (await ok.json()) as { app: { id_code: string; timezone: string } };
    expect(me.app).toMatchObject({ id_code: "app_x", timezone: "Europe/Dublin" });
    const refused = await fetch(`${fake.url}/me`, { headers: { authorization: "Bearer wrong" } });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("unauthorized");
  });

  it("compares conversation and ticket dates to the second, > and < including the value", async () => {
    fake = await startFakeIntercom({ token: "t" });
    fake.workspace.upsert("conversations", [
      { id: "1", updated_at: 1_000 },
      { id: "2", updated_at: 1_001 },
      { id: "3", updated_at: 1_002 },
    ]);
    fake.workspace.upsert("tickets", [{ id: "7", updated_at: 1_001 }]);
    const r = await post("/conversations/search", {
      query: {
        operator: "AND",
        value: [updatedAfter("updated_at", ">", 1_001), updatedAfter("updated_at", "<", 1_002)],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.type).toBe("conversation.list");
    expect(r.body.conversations.map((c: { id: string }) => c.id)).toEqual(["2", "3"]);
    const t = await post("/tickets/search", { query: updatedAfter("updated_at", ">", "1001") });
    expect(t.body.type).toBe("ticket.list");
    expect(t.body.tickets.map((c: { id: string }) => c.id)).toEqual(["7"]);
  });

  it("matches contact dates by calendar day in the workspace timezone and refuses >=, <=, !=, IN, NIN on them", async () => {
    fake = await startFakeIntercom({ token: "t", timezone: "America/New_York" });
    // 2026-03-10 in New York starts at 05:00 UTC (EDT begins on 2026-03-08).
    const day10 = Date.UTC(2026, 2, 10, 4) / 1000; // 00:00 EDT on the 10th
    fake.workspace.upsert("contacts", [
      { id: "a".repeat(24), updated_at: day10 - 60 }, // 9th, 23:59 local
      { id: "b".repeat(24), updated_at: day10 + 9 * 3600 }, // 10th, 09:00 local
      { id: "c".repeat(24), updated_at: day10 + 24 * 3600 + 60 }, // 11th, 00:01 local
    ]);
    const ids = (r: { body: { data: { id: string }[] } }) => r.body.data.map((c) => c.id[0]);
    // > 10th 15:00 local: starts at the 11th.
    const gt = await post("/contacts/search", { query: updatedAfter("updated_at", ">", day10 + 15 * 3600) });
    expect(gt.body.type).toBe("list");
    expect(ids(gt)).toEqual(["c"]);
    // < 10th 15:00 local: ends before the 10th.
    expect(ids(await post("/contacts/search", { query: updatedAfter("updated_at", "<", day10 + 15 * 3600) }))).toEqual([
      "a",
    ]);
    // = any instant of the 10th: the whole day.
    expect(ids(await post("/contacts/search", { query: updatedAfter("updated_at", "=", day10 + 3600) }))).toEqual([
      "b",
    ]);
    for (const op of [">=", "<=", "!=", "IN", "NIN"]) {
      const value = op === "IN" || op === "NIN" ? [day10] : day10;
      const r = await post("/contacts/search", { query: { field: "updated_at", operator: op, value } });
      expect(r.status, op).toBe(400);
      expect(r.body.errors[0].message).toContain("not supported on Date fields");
    }
  });

  it("evaluates OR groups and string operators, and enforces the nesting and group-size limits", async () => {
    fake = await startFakeIntercom({ token: "t" });
    fake.workspace.upsert("conversations", [
      { id: "1", state: "open" },
      { id: "2", state: "closed" },
      { id: "3", state: "snoozed" },
    ]);
    const r = await post("/conversations/search", {
      query: {
        operator: "OR",
        value: [
          { field: "state", operator: "=", value: "closed" },
          {
            operator: "AND",
            value: [
              { field: "id", operator: "IN", value: ["3", "9"] },
              { field: "state", operator: "^", value: "sno" },
            ],
          },
        ],
      },
    });
    expect(r.body.conversations.map((c: { id: string }) => c.id).sort()).toEqual(["2", "3"]);
    // A group may hold groups two levels deep, not three.
    const leaf = { field: "id", operator: "=", value: "1" };
    const nested = (levels: number): object => (levels === 0 ? leaf : { operator: "AND", value: [nested(levels - 1)] });
    expect((await post("/conversations/search", { query: nested(3) })).status).toBe(200);
    expect((await post("/conversations/search", { query: nested(4) })).status).toBe(400);
    const tooWide = {
      operator: "OR",
      value: Array.from({ length: 16 }, (_, i) => ({ field: "id", operator: "=", value: String(i) })),
    };
    expect((await post("/conversations/search", { query: tooWide })).status).toBe(400);
    expect((await post("/conversations/search", { pagination: { per_page: 5 } })).status).toBe(400);
  });

  it("pages with per_page and starting_after until pages.next is absent", async () => {
    fake = await startFakeIntercom({ token: "t" });
    const base = Math.floor(Date.now() / 1000) - 1000;
    fake.workspace.upsert(
      "tickets",
      Array.from({ length: 23 }, (_, i) => ({ id: String(500 + i), updated_at: base + i })),
    );
    const seen: string[] = [];
    let startingAfter: string | undefined;
    let pages = 0;
    do {
      const r = await post("/tickets/search", {
        query: updatedAfter("updated_at", ">", base),
        pagination: { per_page: 10, ...(startingAfter ? { starting_after: startingAfter } : {}) },
      });
      expect(r.body.total_count).toBe(23);
      expect(r.body.pages).toMatchObject({ type: "pages", per_page: 10, total_pages: 3, page: pages + 1 });
      seen.push(...r.body.tickets.map((t: { id: string }) => t.id));
      startingAfter = r.body.pages.next?.starting_after;
      pages++;
    } while (startingAfter);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => String(500 + i)));
    expect(
      (await post("/tickets/search", { query: updatedAfter("updated_at", ">", 0), pagination: { per_page: 151 } }))
        .status,
    ).toBe(400);
  });

  it("seeds and updates items over the control endpoint; searches share the /events rate-limit window", async () => {
    fake = await startFakeIntercom({ token: "t", limitPerWindow: 3, windowMs: 60_000 });
    const created = await post("/_fake/items/contacts", [{ id: "f".repeat(24), name: "Ada", updated_at: 100 }]);
    expect(created.status).toBe(200);
    expect(created.body[0]).toMatchObject({ type: "contact", id: "f".repeat(24), name: "Ada", updated_at: 100 });
    const before = Math.floor(Date.now() / 1000);
    const updated = await post("/_fake/items/contacts", { id: "f".repeat(24), name: "Ada L." });
    expect(updated.body[0].name).toBe("Ada L.");
    expect(updated.body[0].updated_at).toBeGreaterThanOrEqual(before);
    expect(fake.workspace.items("contacts")).toHaveLength(1);
    const q = { query: { field: "name", operator: "~", value: "Ada" } };
    expect((await post("/contacts/search", q)).status).toBe(200);
    await post("/events", { event_name: "x", created_at: 1, user_id: "u" });
    const third = await post("/contacts/search", q);
    expect(third.status).toBe(200);
    expect(third.headers.get("x-ratelimit-remaining")).toBe("0");
    const limited = await post("/contacts/search", q);
    expect(limited.status).toBe(429);
    expect(limited.body.errors[0].code).toBe("rate_limit_exceeded");
  });

  it("injects search failures after a number of good answers", async () => {
    fake = await startFakeIntercom({ token: "t" });
    fake.workspace.setSearchFaults({ skip: 1, failNext: 1, failStatus: 429 });
    const q = { query: { field: "id", operator: "=", value: "1" } };
    expect((await post("/tickets/search", q)).status).toBe(200);
    const failed = await post("/tickets/search", q);
    expect(failed.status).toBe(429);
    expect(failed.headers.get("x-ratelimit-reset")).not.toBeNull();
    expect((await post("/tickets/search", q)).status).toBe(200);
    expect(fake.workspace.stats()).toMatchObject({ searches: { tickets: 3 }, injectedFailures: 1 });
  });
});
