import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EventValidationError } from "../../../src/core/errors.js";
import { createMemoryStore } from "../../../src/store/memory/memory-store.js";
import type { Store } from "../../../src/store/store.js";
import { startFakeIntercom, type FakeIntercom, type FakeIntercomOptions } from "../../../src/outbound/fake-intercom.js";
import { createEventTracker, type EventTracker, type EventTrackerOptions } from "../../../src/outbound/outbox.js";

const TOKEN = "tok_secret_123";
let fake: FakeIntercom;
let store: Store;
let tracker: EventTracker | undefined;
const logs: { level: string; obj: object; msg?: string }[] = [];

async function setup(
  fakeOptions: FakeIntercomOptions = {},
  trackerOptions: Partial<EventTrackerOptions> = {},
): Promise<EventTracker> {
  fake = await startFakeIntercom({ token: TOKEN, ...fakeOptions });
  store = createMemoryStore();
  const log = Object.fromEntries(
    ["debug", "info", "warn", "error"].map((level) => [
      level,
      (obj: object, msg?: string) => logs.push({ level, obj, ...(msg ? { msg } : {}) }),
    ]),
  );
  tracker = createEventTracker({
    store,
    token: TOKEN,
    baseUrl: fake.url,
    retry: { maxAttempts: 5, backoff: { type: "fixed", delayMs: 20, jitter: 0 } },
    timeoutMs: 2_000,
    pollMs: 10,
    log,
    ...trackerOptions,
  });
  tracker.start();
  return tracker;
}

beforeEach(() => {
  logs.length = 0;
});

afterEach(async () => {
  await tracker?.close();
  tracker = undefined;
  await store?.close();
  await fake?.close();
});

const event = (i: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  event_name: "placed-order",
  user_id: `user-${i}`,
  created_at: 1_700_000_000 + i,
  ...extra,
});

describe("event tracker against fake-intercom", () => {
  it("sends an event once (202 → done) and keeps its fields", async () => {
    const t = await setup();
    const r = await t.track(event(1, { metadata: { price: { amount: 100, currency: "eur" }, load: 2.5 } }));
    expect(r.isDuplicate).toBe(false);
    await t.flush();
    expect((await store.getJob(r.jobId!))?.state).toBe("done");
    expect(fake.events()).toEqual([
      expect.objectContaining({
        event_name: "placed-order",
        user_id: "user-1",
        created_at: 1_700_000_001,
        metadata: { price: { amount: 100, currency: "eur" }, load: 2.5 },
      }),
    ]);
    expect(fake.stats().accepted).toBe(1);
  });

  it("pins Intercom-Version and works with a user-configured intercom-client", async () => {
    const t = await setup({}, { intercomVersion: "2.15" });
    await t.track(event(1));
    await t.flush();
    expect(fake.stats().intercomVersions).toEqual({ "2.15": 1 });
    await t.close();
    const { IntercomClient } = await import("intercom-client");
    // Retries left on (2) in the user's client: the tracker switches them off per request.
    const client = new IntercomClient({ token: TOKEN, baseUrl: fake.url });
    tracker = createEventTracker({ store, client, pollMs: 10 });
    tracker.start();
    fake.setFaults({ failNext: 1, failStatus: 500 });
    const r = await tracker.track(event(2));
    await tracker.flush();
    expect(fake.stats().requests).toBe(3); // event 1, then one 500 (not retried by the SDK), then the outbox retry
    expect((await store.getJob(r.jobId!))?.attempts).toBe(2);
  });

  it("rejects an invalid event before storing anything", async () => {
    const t = await setup();
    await expect(t.track({ eventName: "x", user_id: "1" })).rejects.toBeInstanceOf(EventValidationError);
    expect((await store.stats()).counts.outbox.pending).toBe(0);
  });

  it("stores a repeated event once (same user, name and created_at)", async () => {
    const t = await setup();
    const a = await t.track(event(1));
    const b = await t.track(event(1));
    expect(b).toMatchObject({ isDuplicate: true, id: a.id, jobId: a.jobId });
    await t.flush();
    expect(fake.stats()).toMatchObject({ accepted: 1, duplicates: 0, requests: 1 });
  });

  it("fails 404 permanently, keeping Intercom's code and message, without retrying", async () => {
    const t = await setup();
    const r = await t.track({ event_name: "placed-order", user_id: "missing-7", created_at: 1 });
    await t.flush();
    const job = await store.getJob(r.jobId!);
    expect(job?.state).toBe("dead");
    expect(job?.attempts).toBe(1);
    expect(job?.lastError?.message).toMatch(/^Intercom 404 not_found: User Not Found/);
    expect(fake.stats().requests).toBe(1);
  });

  it("fails 422 (event-name cap) permanently and warns when the distinct-name limit is passed", async () => {
    const t = await setup({ maxEventNames: 1 }, { maxEventNames: 1 });
    const a = await t.track(event(1));
    const b = await t.track({ ...event(2), event_name: "other-thing" });
    expect(a.warnings).toEqual([]);
    expect(b.warnings).toEqual([
      expect.objectContaining({ field: "event_name", message: expect.stringMatching(/number 2.*at most 1/) }),
    ]);
    await t.flush();
    const job = await store.getJob(b.jobId!);
    expect(job?.state).toBe("dead");
    expect(job?.lastError?.message).toMatch(/Intercom 422 422: Cannot have more than 1 active event names/);
  });

  it.each([
    [400, "parameter_invalid", "Injected bad request"],
    [422, "unprocessable_entity", "Injected unprocessable entity"],
  ])("fails %i permanently, keeping Intercom's code and message", async (status, code, message) => {
    const t = await setup();
    fake.setFaults({ failNext: 1, failStatus: status });
    const r = await t.track(event(1));
    await t.flush();
    const job = await store.getJob(r.jobId!);
    expect(job?.state).toBe("dead");
    expect(job?.attempts).toBe(1);
    expect(job?.lastError?.message).toMatch(
      new RegExp(`^Intercom ${status} ${code}: ${message} \\(request [0-9a-f-]{36}\\)$`),
    );
    expect(fake.stats().requests).toBe(1);
  });

  it("retries a 5xx burst with backoff and sends the same created_at, so Intercom stores it once", async () => {
    const t = await setup();
    fake.setFaults({ failNext: 3, failStatus: 503 });
    const r = await t.track({ event_name: "placed-order", user_id: "u" }); // created_at stamped by track()
    await t.flush();
    const job = await store.getJob(r.jobId!);
    expect(job?.state).toBe("done");
    expect(job?.attempts).toBe(4);
    expect(job?.history.filter((h) => h.outcome === "failed").map((h) => h.error?.message)).toEqual([
      expect.stringMatching(/Intercom 503 service_unavailable: Injected service unavailable/),
      expect.stringMatching(/503/),
      expect.stringMatching(/503/),
    ]);
    expect(fake.events().map((e) => e.created_at)).toEqual([r.event.created_at]);
  });

  it("gives up after maxAttempts of 5xx", async () => {
    const t = await setup({}, { retry: { maxAttempts: 2, backoff: { type: "fixed", delayMs: 10, jitter: 0 } } });
    fake.setFaults({ failNext: 10, failStatus: 500 });
    const r = await t.track(event(1));
    await t.flush();
    expect(await store.getJob(r.jobId!)).toMatchObject({ state: "dead", attempts: 2 });
  });

  it("retries a timeout; the slow first request and the retry still make one Intercom event", async () => {
    const t = await setup({}, { timeoutMs: 150 });
    fake.setFaults({ delayMs: 400 });
    const r = await t.track(event(1));
    await waitUntil(
      async () =>
        ((await store.getJob(r.jobId!))?.attempts ?? 0) >= 1 && (await store.getJob(r.jobId!))?.state !== "running",
    );
    fake.setFaults({ delayMs: 0 });
    await t.flush();
    const job = await store.getJob(r.jobId!);
    expect(job?.state).toBe("done");
    expect(job?.history[0]?.error?.message).toMatch(/timeout/);
    await waitUntil(() => fake.stats().accepted + fake.stats().duplicates >= 2);
    expect(fake.stats().accepted).toBe(1);
  });

  it("retries network errors", async () => {
    const t = await setup();
    const url = fake.url;
    await fake.close();
    await t.close();
    tracker = createEventTracker({
      store,
      token: TOKEN,
      baseUrl: url,
      retry: { maxAttempts: 2, backoff: { type: "fixed", delayMs: 10, jitter: 0 } },
      pollMs: 10,
    });
    tracker.start();
    const r = await tracker.track(event(1));
    await tracker.flush();
    const job = await store.getJob(r.jobId!);
    expect(job).toMatchObject({ state: "dead", attempts: 2 });
    expect(job?.lastError?.message).toMatch(/network error/);
    fake = await startFakeIntercom({ token: TOKEN }); // for afterEach
  });

  it("pauses everyone on 401 without failing events, then sends them all once the token works", async () => {
    const t = await setup(
      { token: "another-token" },
      { concurrency: 2, unauthorizedPauseMs: 60_000, pauseRecheckMs: 50 },
    );
    const results = await t.trackMany([event(1), event(2), event(3), event(4), event(5)]);
    await waitUntil(async () => (await t.status()).state === "paused-unauthorized");
    await sleep(300);
    // At most the requests already in flight met the 401; nothing was failed.
    expect(fake.stats().requests).toBeLessThanOrEqual(2);
    // While paused, the processor re-checks every pauseRecheckMs by claiming an event and releasing it unsent, so an
    // event may be "running" for that instant; wait for a moment when none is (on a loaded machine that takes longer).
    let states: Array<string | undefined> = [];
    await waitUntil(async () => {
      states = await Promise.all(results.map(async (r) => (await store.getJob(r.jobId!))?.state));
      return states.every((s) => s === "pending" || s === "failed" || s === "dead");
    });
    expect(states.filter((s) => s === "dead")).toEqual([]);
    expect(fake.stats().requests).toBeLessThanOrEqual(2);
    const errors = logs.filter((l) => l.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toMatch(/ALL outbound events are paused/);
    expect(JSON.stringify(logs)).not.toContain(TOKEN);
    expect(JSON.stringify(await Promise.all(results.map((r) => store.getJob(r.jobId!))))).not.toContain(TOKEN);

    fake.setFaults({ token: TOKEN });
    await t.resume();
    await t.flush(10_000);
    expect(fake.stats().accepted).toBe(5);
    expect((await t.status()).state).toBe("sending");
  });

  it("pauses everyone on 403 like on 401, fails nothing, and sends every event after resume", async () => {
    const t = await setup({}, { concurrency: 1, unauthorizedPauseMs: 60_000, pauseRecheckMs: 50 });
    fake.setFaults({ failNext: 1, failStatus: 403 });
    const results = await t.trackMany([event(1), event(2), event(3)]);
    await waitUntil(async () => (await t.status()).state === "paused-unauthorized");
    await sleep(200);
    expect(fake.stats().byStatus).toEqual({ "403": 1 });
    const states = await Promise.all(results.map(async (r) => (await store.getJob(r.jobId!))?.state));
    expect(states).not.toContain("dead");
    const errors = logs.filter((l) => l.level === "error");
    expect(errors).toEqual([
      expect.objectContaining({
        obj: expect.objectContaining({ status: 403 }),
        msg: expect.stringMatching(/\(403\); ALL outbound events are paused/),
      }),
    ]);
    await t.resume();
    await t.flush(10_000);
    expect(fake.stats().accepted).toBe(3);
    for (const r of results) expect((await store.getJob(r.jobId!))?.attempts).toBeLessThanOrEqual(2);
  });

  it("re-probes by itself after unauthorizedPauseMs", async () => {
    const t = await setup({ token: "another-token" }, { concurrency: 1, unauthorizedPauseMs: 300, pauseRecheckMs: 50 });
    const r = await t.track(event(1));
    await waitUntil(() => fake.stats().byStatus["401"] === 1);
    fake.setFaults({ token: TOKEN });
    await t.flush(10_000);
    expect((await store.getJob(r.jobId!))?.state).toBe("done");
    expect(fake.stats().byStatus["401"]).toBe(1);
  });

  it("paces to the window budget from X-RateLimit-Limit with no 429", async () => {
    // 1 s windows: the edge guard (windowMs / 20 = 50 ms) must exceed an event-loop stall of the busy CI machine,
    // which a 500 ms window's 25 ms guard did not always.
    const t = await setup(
      { limitPerWindow: 10, windowMs: 1_000 },
      { rateLimitWindowMs: 1_000, rateLimitPerMinute: 600 /* 10 per second */, concurrency: 4 },
    );
    await t.trackMany(Array.from({ length: 35 }, (_, i) => event(i)));
    await t.flush(20_000);
    const s = fake.stats();
    expect(s.accepted).toBe(35);
    expect(s.rateLimited).toBe(0);
    expect(Math.max(...Object.values(s.requestsByWindow))).toBeLessThanOrEqual(10);
    expect(Object.keys(s.requestsByWindow).length).toBeGreaterThanOrEqual(4);
  });

  it("survives a 429 storm: learns the real limit, pauses until reset, and delivers each event once", async () => {
    // We start believing in 10x the real limit, so the first window overshoots.
    const t = await setup(
      { limitPerWindow: 5, windowMs: 1_000 },
      { rateLimitWindowMs: 1_000, rateLimitPerMinute: 3_000, concurrency: 8 },
    );
    await t.trackMany(Array.from({ length: 30 }, (_, i) => event(i)));
    await t.flush(20_000);
    const s = fake.stats();
    expect(s.accepted).toBe(30);
    expect(s.duplicates).toBe(0);
    const windowsWith429 = Object.keys(s.rateLimitedByWindow).map(Number).sort();
    const firstWindow = Math.min(...Object.keys(s.requestsByWindow).map(Number));
    expect(windowsWith429.every((w) => w === firstWindow)).toBe(true);
    expect(Math.max(...Object.values(s.requestsByWindow).slice(1))).toBeLessThanOrEqual(5);
  });

  it("pauses on a 429 caused by another client on the same token, and retries after X-RateLimit-Reset", async () => {
    // 3 s windows leave room to use up a window before it turns, even on a slow machine.
    const windowMs = 3_000;
    const t = await setup({ limitPerWindow: 100, windowMs }, { rateLimitWindowMs: windowMs });
    await waitUntil(() => Date.now() % windowMs < 500);
    // Someone else uses up this window.
    const get = (): Promise<Response> =>
      fetch(`${fake.url}/events?type=user&user_id=x`, { headers: { authorization: `Bearer ${TOKEN}` } });
    for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 10 }, get));
    const r = await t.track(event(1));
    await t.flush(10_000);
    expect((await store.getJob(r.jobId!))?.state).toBe("done");
    const s = fake.stats();
    expect(s.rateLimited).toBe(1);
    const [windowStart] = Object.keys(s.rateLimitedByWindow).map(Number);
    // The retry arrived once the window of the 429 had reset, not before.
    expect(fake.events()).toHaveLength(1);
    expect(fake.events()[0]!.receivedAtMs).toBeGreaterThanOrEqual(windowStart! + windowMs);
    expect(s.requests).toBe(2);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(10);
  }
}
