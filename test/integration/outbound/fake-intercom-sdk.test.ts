/**
 * The official `intercom-client` v7 SDK against fake-intercom: `events.create`, `events.list` with and without
 * `summary=true`, and `events.summaries` succeed, and what comes back has the shapes the SDK's types describe.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IntercomClient, type Intercom } from "intercom-client";
import { jsonReply, startFakeIntercom, type FakeIntercom, type FakeRouteModule } from "../../../src/testing/index.js";

const TOKEN = "tok_sdk";
let fake: FakeIntercom;
let client: IntercomClient;

beforeEach(async () => {
  fake = await startFakeIntercom({ token: TOKEN });
  client = new IntercomClient({ token: TOKEN, baseUrl: fake.url, maxRetries: 0 });
});
afterEach(async () => {
  await fake.close();
});

describe("intercom-client v7 against fake-intercom", () => {
  it("events.create answers 202 with the rate-limit headers, and a repeat is a duplicate", async () => {
    const request: Intercom.CreateDataEventRequest = {
      user_id: "314159",
      event_name: "invited-friend",
      created_at: 1_671_028_894,
      metadata: { invite_code: "ADDAFRIEND" },
    };
    const { data, rawResponse } = await client.events.create(request).withRawResponse();
    expect(data).toBeUndefined();
    expect(rawResponse.status).toBe(202);
    expect(Number(rawResponse.headers.get("x-ratelimit-limit"))).toBe(1666);
    expect(Number(rawResponse.headers.get("x-ratelimit-reset")) * 1000).toBeGreaterThan(Date.now());
    await client.events.create(request);
    expect(fake.stats()).toMatchObject({ accepted: 1, duplicates: 1 });
  });

  it("events.list returns an event.list whose items carry id and intercom_user_id, findable by either identifier", async () => {
    await client.events.create({ user_id: "42", event_name: "placed-order", created_at: 1_700_000_000 });
    await client.events.create({
      email: "ada@example.com",
      event_name: "placed-order",
      created_at: 1_700_000_001,
      metadata: { plan: "pro" },
    });
    const list: Intercom.DataEventSummary = await client.events.list({ type: "user", user_id: "42" });
    // The SDK types every list answer as a DataEventSummary; without summary=true Intercom sends an event.list.
    const asList = list as unknown as Intercom.DataEventList;
    expect(asList.type).toBe("event.list");
    expect(asList.events).toHaveLength(1);
    const item = asList.events![0]!;
    expect(item).toMatchObject({ type: "event", event_name: "placed-order", created_at: 1_700_000_000, user_id: "42" });
    expect(item.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(item.intercom_user_id).toMatch(/^[0-9a-f]{24}$/);
    expect(item.metadata).toEqual({});
    const byIntercomId = (await client.events.list({
      type: "user",
      intercom_user_id: item.intercom_user_id!,
    })) as unknown as Intercom.DataEventList;
    expect(byIntercomId.events?.map((e) => e.id)).toEqual([item.id]);
    const byEmail = (await client.events.list({
      type: "user",
      email: "ada@example.com",
    })) as unknown as Intercom.DataEventList;
    expect(byEmail.events?.[0]).toMatchObject({ email: "ada@example.com", metadata: { plan: "pro" } });
  });

  it("events.list with summary=true returns an event.summary, and events.summaries adds to it", async () => {
    for (const created_at of [1_700_000_000, 1_700_000_100])
      await client.events.create({ user_id: "7", event_name: "Placed.Order", created_at });
    const { data, rawResponse } = await client.events
      .summaries({
        user_id: "7",
        event_summaries: { event_name: "placed-order", count: 3, first: 1_600_000_000, last: 1_650_000_000 },
      })
      .withRawResponse();
    expect(data).toBeUndefined();
    expect(rawResponse.status).toBe(200);
    const summary: Intercom.DataEventSummary = await client.events.list({ type: "user", user_id: "7", summary: true });
    expect(summary.type).toBe("event.summary");
    expect(summary.user_id).toBe("7");
    const items = summary.events.filter((e): e is Intercom.DataEventSummaryItem => e !== undefined);
    expect(items).toEqual([
      {
        name: "placed-order",
        first: "2020-09-13T12:26:40.000+00:00",
        last: "2023-11-14T22:15:00.000+00:00",
        count: 5,
        description: "",
      },
    ]);
  });

  it("serves a plugged-in route module behind the same token check and rate limit, sharing the workspace", async () => {
    await fake.close();
    const contacts: FakeRouteModule = {
      name: "contacts",
      routes: [
        {
          method: "POST",
          path: "/tags",
          handle: (ctx) => jsonReply(200, { type: "list", total_count: ctx.workspace.events.length, seen: ctx.json }),
        },
      ],
    };
    fake = await startFakeIntercom({ token: TOKEN, routes: [contacts], limitPerWindow: 2 });
    client = new IntercomClient({ token: TOKEN, baseUrl: fake.url, maxRetries: 0 });
    await client.events.create({ user_id: "1", event_name: "placed-order", created_at: 1 });
    const post = (token: string): Promise<Response> =>
      fetch(`${fake.url}/tags`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ query: { field: "email" } }),
      });
    expect((await post("wrong")).status).toBe(401);
    const ok = await post(TOKEN);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(await ok.json()).toEqual({ type: "list", total_count: 1, seen: { query: { field: "email" } } });
    expect((await post(TOKEN)).status).toBe(429);
    await expect(
      startFakeIntercom({ routes: [{ name: "twice", routes: [contacts.routes[0]!, contacts.routes[0]!] }] }),
    ).rejects.toThrow(/already served/);
  });

  it("refuses what Intercom refuses, with an error.list", async () => {
    const err = await client.events.summaries({ event_summaries: { event_name: "x" } }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      statusCode: 400,
      body: { type: "error.list", errors: [{ code: "parameter_not_found" }] },
    });
    const missing = await client.events
      .create({ user_id: "missing-1", event_name: "placed-order", created_at: 1 })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ statusCode: 404, body: { errors: [{ code: "not_found" }] } });
  });
});
