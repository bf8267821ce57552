import Fastify, { type FastifyInstance, type LightMyRequestResponse } from "fastify";
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IntercomApiError, RateLimitedError, UnrecoverableError } from "../../src/core/errors.js";
import { createRouter } from "../../src/core/router.js";
import { dashboardPlugin, registerDashboard, type DashboardOptions } from "../../src/dashboard/api.js";
import type { JobFilter, JobState, QueueName } from "../../src/delivery/types.js";
import { createMemoryStore } from "../../src/store/memory/memory-store.js";
import { createRedisStore } from "../../src/store/redis/index.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { ALLOW_VOLATILE, checkRedis, deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

const TOKEN = "dash-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };
// Redis runs when reachable (REQUIRE_REDIS=1 makes an unreachable one fail the file, as in the conformance suite).
const STORES: [string, () => Promise<{ store: Store; cleanup: () => Promise<void> }>][] = [
  ["memory", async () => ({ store: createMemoryStore(), cleanup: async () => undefined })],
  [
    "sqlite",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "ib-dashboard-"));
      return {
        store: createSqliteStore({ path: join(dir, "bridge.db") }),
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
];
if (await checkRedis()) {
  STORES.push([
    "redis",
    async () => {
      const prefix = uniquePrefix("ib-dashboard");
      return {
        store: createRedisStore({ url: REDIS_URL, prefix, ...ALLOW_VOLATILE }),
        cleanup: async () => void (await deletePrefix(prefix)),
      };
    },
  ]);
}
const RETRY = { maxAttempts: 1, backoff: { type: "fixed" as const, delayMs: 10, jitter: 0 } };

let store: Store;
let cleanup: (() => Promise<void>) | undefined;
let app: FastifyInstance;
let seq = 0;

interface SeedInput {
  queue?: QueueName;
  topic: string;
  notificationId?: string | null;
  itemId?: string | null;
  targets?: string[];
  headers?: Record<string, string>;
  body?: string;
}

async function seed(input: SeedInput): Promise<{ recordId: string; jobIds: string[] }> {
  const n = ++seq;
  const queue = input.queue ?? "inbound";
  const notificationId =
    input.notificationId === undefined ? (queue === "inbound" ? `notif_${n}` : null) : input.notificationId;
  const itemId = input.itemId === undefined ? `item_${n}` : input.itemId;
  const body =
    input.body ??
    JSON.stringify(
      queue === "inbound"
        ? {
            type: "notification_event",
            id: notificationId,
            topic: input.topic,
            app_id: "app1",
            created_at: 1_700_000_000 + n,
            data: { type: "notification_event_data", item: { id: itemId } },
          }
        : { event_name: input.topic, created_at: 1_700_000_000 + n, user_id: itemId },
    );
  const result = await store.enqueue({
    dedupeKey: `key-${n}`,
    dedupeTtlMs: 60_000,
    record: {
      queue,
      topic: input.topic,
      body,
      appId: queue === "inbound" ? "app1" : null,
      notificationId,
      itemId,
      createdAt: 1_700_000_000 + n,
      ...(input.headers ? { headers: input.headers } : {}),
    },
    deliveries: (input.targets ?? []).map((target) => ({ target, retry: RETRY, orderingKey: null })),
  });
  if (result.status !== "enqueued") throw new Error("seed was a duplicate");
  return { recordId: result.recordId, jobIds: result.jobIds };
}

/** Runs every due delivery of `queue` once: targets in `fail` die (or throw `error`), the rest succeed. */
async function runAll(
  queue: QueueName,
  fail: ReadonlySet<string>,
  error: () => Error = () => new UnrecoverableError("handler exploded"),
): Promise<void> {
  const processor = store.process(
    queue,
    async (job) => {
      if (fail.has(job.target)) throw error();
    },
    { concurrency: 4, leaseMs: 5_000, pollMs: 5 },
  );
  await waitFor(async () => (await store.countJobs({ queue, state: ["pending", "running", "failed"] })) === 0);
  await processor.close();
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("waitFor timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function start(options: Partial<DashboardOptions> = {}): Promise<void> {
  app = Fastify();
  await registerDashboard(app, { store, adminToken: TOKEN, ...options });
  await app.ready();
}

function get(url: string, headers: Record<string, string> = AUTH): Promise<LightMyRequestResponse> {
  return app.inject({ method: "GET", url, headers });
}

function post(url: string, body?: unknown, headers: Record<string, string> = AUTH): Promise<LightMyRequestResponse> {
  return app.inject({ method: "POST", url, headers, ...(body === undefined ? {} : { payload: body as object }) });
}

function expectError(res: LightMyRequestResponse, status: number, code: string, message?: RegExp): void {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json<{ error: { code: string; message: string } }>();
  expect(body.error.code).toBe(code);
  if (message) expect(body.error.message).toMatch(message);
}

// Store-independent tests (auth, pages) use memory; the rest run on every store (the contract is the same).
beforeEach(() => {
  store = createMemoryStore();
  cleanup = undefined;
});

afterEach(async () => {
  await app?.close();
  await store.close();
  await cleanup?.();
});

describe("registerDashboard", () => {
  it("refuses to register without an admin token", async () => {
    app = Fastify();
    await expect(registerDashboard(app, { store, adminToken: "" })).rejects.toMatchObject({ code: "IB_ERR_CONFIG" });
  });
});

describe("authorization", () => {
  const endpoints: [string, string][] = [
    ["GET", "/api/session"],
    ["GET", "/api/overview"],
    ["GET", "/api/notifications"],
    ["GET", "/api/notifications/abc"],
    ["POST", "/api/notifications/abc/replay"],
    ["GET", "/api/deliveries/abc"],
    ["POST", "/api/deliveries/abc/replay"],
    ["GET", "/api/dead-letters"],
    ["GET", "/api/dead-letters/count"],
    ["POST", "/api/dead-letters/replay"],
    ["GET", "/api/outbound"],
    ["GET", "/api/stream"],
  ];
  const badHeaders: [string, Record<string, string>][] = [
    ["no header", {}],
    ["a wrong token", { authorization: "Bearer not-the-token" }],
    ["a token prefix", { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ["another scheme", { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString("base64")}` }],
    ["the token in the query string", {}],
  ];

  beforeEach(() => start());

  for (const [method, url] of endpoints) {
    for (const [name, headers] of badHeaders) {
      it(`answers 401 to ${method} ${url} with ${name}`, async () => {
        const target = name.includes("query") ? `${url}?token=${TOKEN}` : url;
        const res = await app.inject({ method: method as "GET" | "POST", url: target, headers });
        expectError(res, 401, "IB_ERR_UNAUTHORIZED", /Bearer/);
        expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
      });
    }
  }

  it("accepts the right token with any scheme capitalisation", async () => {
    const res = await get("/api/session", { authorization: `bearer ${TOKEN}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ authenticated: true, store: "memory" });
  });
});

describe("unknown API paths and caching", () => {
  beforeEach(() => start());

  it("answers an unknown /api/ path 404 IB_ERR_NOT_FOUND with the error body, but only with the token", async () => {
    expectError(await get("/api/nope"), 404, "IB_ERR_NOT_FOUND", /No API endpoint GET \/api\/nope/);
    expectError(await post("/api/notifications/x/y/z"), 404, "IB_ERR_NOT_FOUND");
    expectError(await get("/api/nope", {}), 401, "IB_ERR_UNAUTHORIZED");
  });

  it("says the outbound events API is off when /api/events is asked for without it", async () => {
    expectError(
      await post("/api/events"),
      404,
      "IB_ERR_NOT_FOUND",
      /outbound events API is off: set INTERCOM_ACCESS_TOKEN/,
    );
    expectError(await get("/api/events?state=sent"), 404, "IB_ERR_NOT_FOUND", /INTERCOM_ACCESS_TOKEN/);
  });

  it("marks every API answer Cache-Control: no-store, errors and refusals included", async () => {
    for (const res of [await get("/api/session"), await get("/api/overview?bad=1"), await get("/api/session", {})]) {
      expect(res.headers["cache-control"]).toBe("no-store");
    }
  });
});

describe("GET /api/overview cache", () => {
  it("serves one store read to every caller within overviewCacheMs, then reads again", async () => {
    let reads = 0;
    const histogram = store.receivedHistogram.bind(store);
    store.receivedHistogram = (...args) => {
      reads++;
      return histogram(...args);
    };
    let clock = 1_000_000;
    await start({ now: () => clock, overviewCacheMs: 5_000 });
    await Promise.all([get("/api/overview"), get("/api/overview"), get("/api/overview")]);
    expect(reads).toBe(1);
    await get("/api/overview?windowMinutes=5"); // another window is another entry
    expect(reads).toBe(2);
    clock += 5_000;
    await get("/api/overview");
    expect(reads).toBe(3);
  });

  it("reads every time with overviewCacheMs 0", async () => {
    let reads = 0;
    const stats = store.stats.bind(store);
    store.stats = () => {
      reads++;
      return stats();
    };
    await start({ overviewCacheMs: 0 });
    await get("/api/overview");
    await get("/api/overview");
    expect(reads).toBe(2);
  });
});

describe("static pages", () => {
  beforeEach(() => start());

  it("serves the sign-in page without a token, with a strict CSP", async () => {
    for (const url of ["/dashboard/", "/dashboard/index.html"]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(res.body).toContain('<script type="module" src="app.js">');
      expect(res.headers["content-security-policy"]).toContain("script-src 'self'");
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
    }
  });

  it("sends /dashboard to /dashboard/ with a relative Location, keeping the query", async () => {
    const res = await app.inject({ method: "GET", url: "/dashboard" });
    expect(res.statusCode).toBe(308);
    expect(res.headers.location).toBe("dashboard/");
    expect((await app.inject({ method: "GET", url: "/dashboard?x=1" })).headers.location).toBe("dashboard/?x=1");
  });

  it("registers on an app that ignores trailing slashes", async () => {
    const other = Fastify({ routerOptions: { ignoreTrailingSlash: true } });
    await registerDashboard(other, { store, adminToken: TOKEN });
    expect((await other.inject({ method: "GET", url: "/dashboard/" })).statusCode).toBe(200);
    expect((await other.inject({ method: "GET", url: "/dashboard" })).headers.location).toBe("dashboard/");
    await other.close();
  });

  it("works mounted under a prefix: pages, files and API all answer under it", async () => {
    const other = Fastify();
    await other.register(dashboardPlugin, { store, adminToken: TOKEN, prefix: "/ops" });
    const redirect = await other.inject({ method: "GET", url: "/ops/dashboard" });
    expect(redirect.statusCode).toBe(308);
    // Resolved against /ops/dashboard, as a browser does.
    expect(new URL(redirect.headers.location as string, "http://h/ops/dashboard").pathname).toBe("/ops/dashboard/");
    const page = await other.inject({ method: "GET", url: "/ops/dashboard/" });
    expect(page.statusCode).toBe(200);
    // Every file the page loads resolves under the prefix.
    for (const [, ref] of page.body.matchAll(/(?:src|href)="([^"#:]+)"/g)) {
      const url = new URL(ref!, "http://h/ops/dashboard/").pathname;
      expect(url.startsWith("/ops/dashboard/")).toBe(true);
      expect((await other.inject({ method: "GET", url })).statusCode).toBe(200);
    }
    const overview = await other.inject({
      method: "GET",
      url: "/ops/api/overview",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(overview.statusCode).toBe(200);
    await other.close();
  });

  it("serves the script and stylesheet with their types and answers 304 to a matching ETag", async () => {
    const js = await app.inject({ method: "GET", url: "/dashboard/app.js" });
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.body).toContain("import");
    const css = await app.inject({ method: "GET", url: "/dashboard/app.css" });
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
    const again = await app.inject({
      method: "GET",
      url: "/dashboard/app.js",
      headers: { "if-none-match": String(js.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe("");
  });

  it("serves every module the page imports, views/ included, as JavaScript (no build step)", async () => {
    const seen = new Set<string>();
    const visit = async (path: string): Promise<void> => {
      if (seen.has(path)) return;
      seen.add(path);
      const res = await app.inject({ method: "GET", url: `/dashboard/${path}` });
      expect(res.statusCode, path).toBe(200);
      expect(res.headers["content-type"]).toBe("text/javascript; charset=utf-8");
      expect(res.headers["content-security-policy"]).toContain("script-src 'self'");
      for (const [, spec] of res.body.matchAll(/^import [^;]*? from "([^"]+)";/gms)) {
        await visit(new URL(spec!, `http://h/dashboard/${path}`).pathname.replace("/dashboard/", ""));
      }
    };
    await visit("app.js");
    expect([...seen].filter((p) => p.startsWith("views/")).length).toBeGreaterThanOrEqual(8);
    const css = await app.inject({ method: "GET", url: "/dashboard/views.css" });
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
    const again = await app.inject({
      method: "GET",
      url: "/dashboard/views/overview.js",
      headers: { "if-none-match": String((await app.inject({ url: "/dashboard/views/overview.js" })).headers.etag) },
    });
    expect(again.statusCode).toBe(304);
  });

  it("answers 404 to unknown files and never reads outside the assets folder", async () => {
    expectError(await app.inject({ method: "GET", url: "/dashboard/views/nope.js" }), 404, "IB_ERR_NOT_FOUND");
    expectError(await app.inject({ method: "GET", url: "/dashboard/views/..%2F..%2Fapi.ts" }), 404, "IB_ERR_NOT_FOUND");
    // Unnormalised dot segments reach no file either (the router answers them as unknown paths).
    expect((await app.inject({ method: "GET", url: "/dashboard/views/../../api.ts" })).statusCode).toBe(404);
    expectError(await app.inject({ method: "GET", url: "/dashboard/nope.js" }), 404, "IB_ERR_NOT_FOUND");
    expectError(
      await app.inject({ method: "GET", url: "/dashboard/..%2F..%2F..%2Fpackage.json" }),
      404,
      "IB_ERR_NOT_FOUND",
    );
    expectError(await app.inject({ method: "GET", url: "/dashboard/..%2Fapi.ts" }), 404, "IB_ERR_NOT_FOUND");
  });

  it("answers 500 with a clear message when the build has no assets", async () => {
    app = Fastify();
    await registerDashboard(app, { store, adminToken: TOKEN, assetsDir: "/nonexistent/dashboard/assets" });
    expectError(await app.inject({ method: "GET", url: "/dashboard" }), 500, "IB_ERR_CONFIG", /npm run build/);
  });
});

describe.each(STORES)("on the %s store", (_name, factory) => {
  beforeEach(async () => {
    await store.close();
    ({ store, cleanup } = await factory());
  });

  describe("GET /api/overview", () => {
    it("reports counts per state and queue, dead letters, oldest pending age and received per minute by topic", async () => {
      const a = await seed({ topic: "contact.created", targets: ["crm", "archive"] });
      await seed({ topic: "contact.created", targets: ["archive"] });
      await seed({ topic: "conversation.user.replied", targets: ["crm"] });
      await runAll("inbound", new Set(["crm"]));
      await seed({ topic: "ping", targets: ["archive"] }); // stays pending
      // The overview looks 60 s later than the store's clock: the pending delivery has been due for about a minute.
      await start({ now: () => Date.now() + 60_000 });

      const res = await get("/api/overview");
      expect(res.statusCode).toBe(200);
      const o = res.json();
      expect(o.counts.inbound).toEqual({ pending: 1, running: 0, failed: 0, done: 2, dead: 2 });
      expect(o.dead).toEqual({ inbound: 2, outbox: 0, total: 2 });
      expect(o.oldestPendingAgeMs.inbound).toBeGreaterThanOrEqual(59_000);
      expect(o.oldestPendingAgeMs.inbound).toBeLessThan(65_000);
      expect(o.oldestPendingAgeMs.outbox).toBeNull();
      expect(o.received.bucketMs).toBe(60_000);
      expect(o.received.topics).toEqual([
        { topic: "contact.created", total: 2 },
        { topic: expect.any(String), total: 1 },
        { topic: expect.any(String), total: 1 },
      ]);
      const total = o.received.buckets.reduce((sum: number, b: { count: number }) => sum + b.count, 0);
      expect(total).toBe(4);
      expect(a.jobIds).toHaveLength(2);
      expect(o.retention).toBeNull(); // no `retention` option: nothing to report
    });

    it("counts the notifications of the window that no handler matched, per topic, given the routes", async () => {
      await seed({ topic: "contact.created", targets: ["crm"] });
      await seed({ topic: "company.created" });
      await seed({ topic: "company.created" });
      await seed({ topic: "ping" });
      const router = createRouter();
      router.register("crm", ["contact.*"], () => undefined);
      await start({ routes: router });
      expect((await get("/api/overview")).json().received.unmatched).toEqual({
        total: 3,
        topics: [
          { topic: "company.created", total: 2 },
          { topic: "ping", total: 1 },
        ],
      });
      await app.close();
      // Without the routes the dashboard cannot tell: null, not 0.
      await start();
      expect((await get("/api/overview")).json().received.unmatched).toBeNull();
    });

    it("reports the retention the service passes", async () => {
      await start({ retention: () => ({ retentionMs: 30 * 86_400_000, purgedSinceStart: 12 }) });
      expect((await get("/api/overview")).json().retention).toEqual({
        retentionMs: 30 * 86_400_000,
        purgedSinceStart: 12,
      });
    });

    it("reports outbound sent, failed, paused and the rate budget from the shared limiter and the outbound status", async () => {
      await seed({ queue: "outbox", topic: "order-placed", targets: ["intercom-events"] });
      await seed({ queue: "outbox", topic: "order-placed", targets: ["intercom-events"] });
      await runAll("outbox", new Set());
      await seed({ queue: "outbox", topic: "bad-event", targets: ["intercom-events-bad"] });
      await runAll("outbox", new Set(["intercom-events-bad"]));
      const limiter = store.limiter("intercom-events");
      await limiter.acquire(166, 10_000);
      await limiter.acquire(166, 10_000);
      await limiter.pauseUntil(Date.now() + 60_000, "rate-limited");
      await start({
        outboundStatus: async () => ({ state: "paused-rate-limited", perWindow: 166, windowMs: 10_000, inFlight: 0 }),
      });

      const o = (await get("/api/overview")).json();
      expect(o.outbound).toMatchObject({
        sent: 2,
        failed: 0,
        dead: 1,
        pending: 0,
        paused: true,
        state: "paused-rate-limited",
        pauseReason: "rate-limited",
        budget: { used: 2, maxPerWindow: 166, windowMs: 10_000 },
        status: { inFlight: 0 },
      });
      expect(o.outbound.pausedUntil).toBeGreaterThan(Date.now());
    });

    it("reports nothing used once the limiter's last window is over, with the current window's start", async () => {
      const limiter = store.limiter("intercom-events");
      await limiter.acquire(166, 10_000);
      await limiter.acquire(166, 10_000);
      const { windowStart } = await limiter.state();
      expect((await limiter.state()).used).toBeGreaterThan(0);
      const at = windowStart + 25_000;
      await start({
        now: () => at,
        outboundStatus: async () => ({ state: "sending", perWindow: 166, windowMs: 10_000 }),
      });
      expect((await get("/api/overview")).json().outbound.budget).toEqual({
        used: 0,
        windowStart: windowStart + 20_000,
        maxPerWindow: 166,
        windowMs: 10_000,
      });
      await app.close();
      // Still inside the window: the usage stands. Without a status, Intercom's 10 s window applies.
      await start({ now: () => windowStart + 9_999 });
      expect((await get("/api/overview")).json().outbound.budget).toMatchObject({
        used: (await limiter.state()).used,
        windowStart,
      });
      await app.close();
      await start({ now: () => windowStart + 10_000 });
      expect((await get("/api/overview")).json().outbound.budget).toMatchObject({
        used: 0,
        windowStart: windowStart + 10_000,
      });
    });

    it("still answers when the outbound status fails", async () => {
      await start({ outboundStatus: () => Promise.reject(new Error("down")) });
      const o = (await get("/api/overview")).json();
      expect(o.outbound).toMatchObject({
        paused: false,
        state: "sending",
        status: null,
        budget: { used: 0, maxPerWindow: null },
      });
    });

    it("reports outbound off without a status source (serve without INTERCOM_ACCESS_TOKEN)", async () => {
      await start();
      expect((await get("/api/overview")).json().outbound).toMatchObject({ paused: false, state: "off", status: null });
    });

    it("answers 400 to a bad window or an unknown parameter", async () => {
      await start();
      expectError(await get("/api/overview?windowMinutes=0"), 400, "IB_ERR_QUERY_INVALID", /windowMinutes/);
      expectError(await get("/api/overview?windowMinutes=abc"), 400, "IB_ERR_QUERY_INVALID", /windowMinutes/);
      expectError(await get("/api/overview?window=5"), 400, "IB_ERR_QUERY_INVALID", /Unknown parameter "window"/);
      expect((await get("/api/overview?windowMinutes=5")).statusCode).toBe(200);
    });
  });

  describe("GET /api/notifications", () => {
    beforeEach(async () => {
      await seed({ topic: "contact.created", notificationId: "notif_old", itemId: "contact_1", targets: ["crm"] });
      await new Promise((r) => setTimeout(r, 20)); // notif_old is received strictly earlier than the rest
      await seed({
        topic: "conversation.user.replied",
        notificationId: "notif_a",
        itemId: "conv_1",
        targets: ["crm", "archive"],
      });
      await seed({
        topic: "conversation.admin.closed",
        notificationId: "notif_b",
        itemId: "conv_1",
        targets: ["archive"],
      });
      await seed({ topic: "contact.deleted", notificationId: "notif_c", itemId: "contact_1", targets: [] });
      await seed({ queue: "outbox", topic: "order-placed", targets: ["intercom-events"] });
      await start();
    });

    const ids = (res: LightMyRequestResponse): (string | null)[] =>
      res.json<{ items: { notificationId: string | null }[] }>().items.map((i) => i.notificationId);

    it("lists inbound notifications newest first with the state and attempts of each delivery", async () => {
      const res = await get("/api/notifications");
      expect(res.statusCode).toBe(200);
      expect(ids(res)).toEqual(["notif_c", "notif_b", "notif_a", "notif_old"]);
      const a = res.json().items[2];
      expect(a).toMatchObject({ topic: "conversation.user.replied", itemId: "conv_1", appId: "app1" });
      expect(
        a.deliveries.map((d: { target: string; state: string; attempts: number; maxAttempts: number }) => [
          d.target,
          d.state,
          d.attempts,
          d.maxAttempts,
        ]),
      ).toEqual([
        ["crm", "pending", 0, 1],
        ["archive", "pending", 0, 1],
      ]);
      expect(res.json().nextCursor).toBeNull();
    });

    it("filters by topic pattern, exact topic and state", async () => {
      expect(ids(await get("/api/notifications?topic=conversation.*"))).toEqual(["notif_b", "notif_a"]);
      expect(ids(await get("/api/notifications?topic=contact.deleted"))).toEqual(["notif_c"]);
      expect(ids(await get("/api/notifications?topic=*"))).toHaveLength(4);
      await runAll("inbound", new Set(["crm"]));
      expect(ids(await get("/api/notifications?state=dead"))).toEqual(["notif_a", "notif_old"]);
      expect(ids(await get("/api/notifications?state=done&topic=conversation.*"))).toEqual(["notif_b", "notif_a"]);
    });

    it("filters by time range given as epoch ms or ISO 8601", async () => {
      const all = (await get("/api/notifications")).json<{ items: { notificationId: string; receivedAt: number }[] }>()
        .items;
      const boundary = all.find((n) => n.notificationId === "notif_a")!.receivedAt;
      expect(ids(await get(`/api/notifications?since=${boundary}`))).toEqual(["notif_c", "notif_b", "notif_a"]);
      expect(ids(await get(`/api/notifications?until=${new Date(boundary).toISOString()}`))).toEqual(["notif_old"]);
      expect(ids(await get(`/api/notifications?since=${boundary - 1}&until=${boundary + 1}`))).toContain("notif_a");
    });

    it("searches by notification id first, then by item id", async () => {
      const byNotification = await get("/api/notifications?q=notif_b");
      expect(ids(byNotification)).toEqual(["notif_b"]);
      expect(byNotification.json().match).toBe("notificationId");
      const byItem = await get("/api/notifications?q=conv_1");
      expect(ids(byItem)).toEqual(["notif_b", "notif_a"]);
      expect(byItem.json().match).toBe("itemId");
      expect(ids(await get("/api/notifications?itemId=contact_1&topic=contact.created"))).toEqual(["notif_old"]);
      const nothing = await get("/api/notifications?q=nothing-like-this");
      expect(ids(nothing)).toEqual([]);
      expect(nothing.json().match).toBeNull();
    });

    it("pages with cursors until nextCursor is null, without gaps or repeats", async () => {
      for (let i = 0; i < 7; i++) await seed({ topic: "contact.created", itemId: "contact_many", targets: ["crm"] });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await get(`/api/notifications?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
        expect(res.statusCode).toBe(200);
        const page = res.json<{ items: { id: string }[]; nextCursor: string | null }>();
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== null);
      expect(pages).toBe(4);
      expect(seen).toHaveLength(11);
      expect(new Set(seen).size).toBe(11);
    });

    it("keeps paging a search on the field that matched", async () => {
      for (let i = 0; i < 5; i++) await seed({ topic: "contact.created", itemId: "contact_many" });
      const first = (await get("/api/notifications?q=contact_many&limit=2")).json();
      expect(first.match).toBe("itemId");
      expect(first.nextCursor).toMatch(/^i~/);
      const second = (
        await get(`/api/notifications?q=contact_many&limit=2&cursor=${encodeURIComponent(first.nextCursor)}`)
      ).json();
      expect(second.items).toHaveLength(2);
      expect(second.match).toBe("itemId");
      const third = (
        await get(`/api/notifications?q=contact_many&limit=2&cursor=${encodeURIComponent(second.nextCursor)}`)
      ).json();
      expect(third.items).toHaveLength(1);
      expect(third.nextCursor).toBeNull();
      const all = [...first.items, ...second.items, ...third.items].map((i: { id: string }) => i.id);
      expect(new Set(all).size).toBe(5);
    });

    it("answers 400 naming the parameter for bad filters", async () => {
      const cases: [string, RegExp][] = [
        ["state=bogus", /Unknown state "bogus"/],
        ["state=dead,nope", /Unknown state "nope"/],
        ["topic=has%20space", /topic must be/],
        ["topic=con*tact", /topic must be/],
        ["since=yesterday", /since must be epoch milliseconds or an ISO 8601 date/],
        ["until=2024-13-45", /until must be/],
        [`since=2000&until=1000`, /since must be before until/],
        ["limit=0", /limit must be an integer from 1 to 500/],
        ["limit=501", /limit must be/],
        ["limit=2.5", /limit must be/],
        ["stat=dead", /Unknown parameter "stat"/],
        ["state=dead&state=done", /"state" must be given once/],
        ["cursor=not-a-real-cursor", /cursor/],
        ["q=conv_1&cursor=abc", /cursor does not belong to this search/],
        ["queue=outbox", /Unknown parameter "queue"/],
      ];
      for (const [query, message] of cases) {
        expectError(await get(`/api/notifications?${query}`), 400, "IB_ERR_QUERY_INVALID", message);
      }
    });

    it("reads exactly one store page per request: no count and no offset", async () => {
      for (let i = 0; i < 4; i++) await seed({ topic: "contact.created" });
      const calls: { method: string; filter: JobFilter }[] = [];
      const spy = new Proxy(store, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            calls.push({ method: String(prop), filter: args[0] as JobFilter });
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      await app.close();
      app = Fastify();
      await registerDashboard(app, { store: spy, adminToken: TOKEN });
      const first = (await get("/api/notifications?limit=2")).json();
      calls.length = 0;
      const res = await get(`/api/notifications?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`);
      expect(res.statusCode).toBe(200);
      expect(calls).toEqual([
        { method: "listRecords", filter: { queue: "inbound", limit: 2, cursor: first.nextCursor } },
      ]);
    });
  });

  describe("GET /api/notifications/:id", () => {
    beforeEach(() => start());

    it("returns the pretty payload, the kept headers without secrets, and every delivery with its attempts and errors", async () => {
      const { recordId } = await seed({
        topic: "contact.created",
        notificationId: "notif_detail",
        itemId: "contact_9",
        targets: ["crm", "archive"],
        headers: {
          "user-agent": "intercom-parrot-service-client/1.0",
          "content-type": "application/json",
          "x-hub-signature": "sha1=deadbeef",
        },
      });
      await runAll("inbound", new Set(["crm"]));
      const res = await get(`/api/notifications/${recordId}`);
      expect(res.statusCode).toBe(200);
      const d = res.json();
      expect(d.record).toMatchObject({
        id: recordId,
        queue: "inbound",
        topic: "contact.created",
        notificationId: "notif_detail",
        itemId: "contact_9",
      });
      expect(d.payload).toMatchObject({
        type: "notification_event",
        id: "notif_detail",
        data: { item: { id: "contact_9" } },
      });
      expect(d.rawBody).toBeNull();
      expect(d.headers).toEqual({
        "user-agent": "intercom-parrot-service-client/1.0",
        "content-type": "application/json",
      });
      const crm = d.deliveries.find((x: { target: string }) => x.target === "crm");
      expect(crm).toMatchObject({
        state: "dead",
        attempts: 1,
        lastError: { code: "IB_ERR_UNRECOVERABLE", message: "handler exploded" },
      });
      expect(crm.history).toEqual([
        expect.objectContaining({
          attempt: 1,
          outcome: "dead",
          error: expect.objectContaining({ message: "handler exploded" }),
        }),
      ]);
      const archive = d.deliveries.find((x: { target: string }) => x.target === "archive");
      expect(archive).toMatchObject({
        state: "done",
        lastError: null,
        history: [expect.objectContaining({ outcome: "completed" })],
      });
    });

    it("returns a body that is not JSON as rawBody", async () => {
      const { recordId } = await seed({ topic: "contact.created", body: "not json {" });
      const d = (await get(`/api/notifications/${recordId}`)).json();
      expect(d).toMatchObject({ payload: null, rawBody: "not json {" });
    });

    it("answers 404 for unknown ids, malformed ids and outbound records", async () => {
      const { recordId } = await seed({ queue: "outbox", topic: "order-placed" });
      expectError(await get("/api/notifications/does-not-exist"), 404, "IB_ERR_NOT_FOUND", /does-not-exist/);
      expectError(await get("/api/notifications/a%3Ab%3Cscript%3E"), 404, "IB_ERR_NOT_FOUND");
      expectError(await get(`/api/notifications/${recordId}`), 404, "IB_ERR_NOT_FOUND");
    });
  });

  describe("replay", () => {
    beforeEach(() => start());

    const stateOf = async (id: string): Promise<JobState | undefined> => (await store.getJob(id))?.state;

    it("POST /api/deliveries/:id/replay requeues a dead delivery with its attempts reset", async () => {
      const { jobIds } = await seed({ topic: "contact.created", targets: ["crm"] });
      await runAll("inbound", new Set(["crm"]));
      const id = jobIds[0]!;
      expect(await stateOf(id)).toBe("dead");
      const res = await post(`/api/deliveries/${id}/replay`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: "requeued", delivery: { id, state: "pending", attempts: 0 } });
      await runAll("inbound", new Set());
      expect(await stateOf(id)).toBe("done");
    });

    it("POST /api/deliveries/:id/replay answers 409 for a pending delivery and 404 for an unknown one", async () => {
      const { jobIds } = await seed({ topic: "contact.created", targets: ["crm"] });
      expectError(
        await post(`/api/deliveries/${jobIds[0]}/replay`),
        409,
        "IB_ERR_CONFLICT",
        /is pending; only dead, failed or done/,
      );
      expectError(await post("/api/deliveries/nope/replay"), 404, "IB_ERR_NOT_FOUND");
      expectError(await post("/api/deliveries/a%3Ab/replay"), 404, "IB_ERR_NOT_FOUND");
    });

    it("GET /api/deliveries/:id returns one delivery with history and its record", async () => {
      const { jobIds, recordId } = await seed({
        queue: "outbox",
        topic: "order-placed",
        itemId: "user_7",
        targets: ["intercom-events"],
      });
      const res = await get(`/api/deliveries/${jobIds[0]}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        id: jobIds[0],
        recordId,
        queue: "outbox",
        history: [],
        record: { id: recordId },
        payload: { event_name: "order-placed", user_id: "user_7" },
      });
      expectError(await get("/api/deliveries/nope"), 404, "IB_ERR_NOT_FOUND");
    });

    it("GET /api/deliveries/:id shows where the last error was thrown: its stack, truncated, in the history too", async () => {
      const { jobIds } = await seed({ topic: "contact.created", targets: ["crm"] });
      await runAll("inbound", new Set(["crm"]), function crmDown() {
        return new UnrecoverableError("CRM answered 503");
      });
      const delivery = (await get(`/api/deliveries/${jobIds[0]}`)).json();
      expect(delivery.lastError).toMatchObject({ code: "IB_ERR_UNRECOVERABLE", message: "CRM answered 503" });
      expect(delivery.lastError.stack).toMatch(/^\s+at \S*crmDown .*dashboard-api\.test\.ts/);
      expect(delivery.lastError.stack.split("\n").length).toBeLessThanOrEqual(11);
      expect(delivery.history[0].error.stack).toBe(delivery.lastError.stack);
      // The notification's detail carries the same.
      const record = (await get(`/api/notifications/${delivery.recordId}`)).json();
      expect(record.deliveries[0].lastError.stack).toBe(delivery.lastError.stack);
    });

    it("POST /api/notifications/:id/replay requeues every finished delivery of the notification", async () => {
      const { recordId, jobIds } = await seed({ topic: "contact.created", targets: ["crm", "archive"] });
      await runAll("inbound", new Set(["crm"]));
      const res = await post(`/api/notifications/${recordId}/replay`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ requeued: 2 });
      expect(await Promise.all(jobIds.map(stateOf))).toEqual(["pending", "pending"]);
    });

    it("POST /api/notifications/:id/replay answers 409 when nothing is replayable and 404 when unknown", async () => {
      const pending = await seed({ topic: "contact.created", targets: ["crm"] });
      expectError(
        await post(`/api/notifications/${pending.recordId}/replay`),
        409,
        "IB_ERR_CONFLICT",
        /pending or running/,
      );
      const unrouted = await seed({ topic: "contact.created", targets: [] });
      expectError(
        await post(`/api/notifications/${unrouted.recordId}/replay`),
        409,
        "IB_ERR_CONFLICT",
        /no deliveries/,
      );
      expectError(await post("/api/notifications/nope/replay"), 404, "IB_ERR_NOT_FOUND");
    });
  });

  describe("dead letters", () => {
    let deadCrm: string[];
    beforeEach(async () => {
      deadCrm = [];
      for (let i = 0; i < 3; i++)
        deadCrm.push(...(await seed({ topic: "contact.created", targets: ["crm", "archive"] })).jobIds.slice(0, 1));
      await seed({ topic: "conversation.user.replied", targets: ["crm"] });
      await seed({ queue: "outbox", topic: "order-placed", targets: ["intercom-events"] });
      await runAll("inbound", new Set(["crm"]));
      await runAll("outbox", new Set(["intercom-events"]));
      await start();
    });

    it("GET /api/dead-letters lists dead deliveries of both queues, filterable, with cursor pages", async () => {
      const all = (await get("/api/dead-letters")).json();
      expect(all.items).toHaveLength(5);
      expect(all.items.every((d: { state: string }) => d.state === "dead")).toBe(true);
      const inbound = (await get("/api/dead-letters?queue=inbound&topic=contact.*")).json();
      expect(inbound.items.map((d: { id: string }) => d.id).sort()).toEqual([...deadCrm].sort());
      const outbox = (await get("/api/dead-letters?queue=outbox")).json();
      expect(outbox.items).toMatchObject([{ queue: "outbox", topic: "order-placed", target: "intercom-events" }]);
      const page1 = (await get("/api/dead-letters?limit=2")).json();
      expect(page1.items).toHaveLength(2);
      const page2 = (await get(`/api/dead-letters?limit=2&cursor=${encodeURIComponent(page1.nextCursor)}`)).json();
      expect(page2.items.map((d: { id: string }) => d.id)).not.toContain(page1.items[0].id);
    });

    it("GET /api/dead-letters/count previews how many a bulk replay would requeue", async () => {
      expect((await get("/api/dead-letters/count")).json()).toEqual({ count: 5 });
      expect((await get("/api/dead-letters/count?queue=inbound&topic=contact.*")).json()).toEqual({ count: 3 });
      expect((await get("/api/dead-letters/count?target=archive")).json()).toEqual({ count: 0 });
      expectError(
        await get("/api/dead-letters/count?state=done"),
        400,
        "IB_ERR_QUERY_INVALID",
        /Unknown parameter "state"/,
      );
      expectError(
        await get("/api/dead-letters/count?queue=sideways"),
        400,
        "IB_ERR_QUERY_INVALID",
        /queue must be one of/,
      );
    });

    it("POST /api/dead-letters/replay requeues what the filter selects when the confirmed count still matches", async () => {
      const res = await post("/api/dead-letters/replay", {
        filter: { queue: "inbound", topic: "contact.*" },
        expectedCount: 3,
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ requeued: 3 });
      for (const id of deadCrm) expect((await store.getJob(id))?.state).toBe("pending");
      expect((await get("/api/dead-letters/count")).json()).toEqual({ count: 2 });
    });

    it("POST /api/dead-letters/replay answers 409 when the filter now selects another number than confirmed", async () => {
      expectError(
        await post("/api/dead-letters/replay", { filter: { queue: "inbound" }, expectedCount: 3 }),
        409,
        "IB_ERR_CONFLICT",
        /now selects 4 dead deliveries, not 3/,
      );
      expect((await get("/api/dead-letters/count")).json()).toEqual({ count: 5 });
    });

    it("POST /api/dead-letters/replay replays no more than confirmed when dead letters arrive after the count", async () => {
      await seed({ topic: "contact.deleted", targets: ["crm"] }); // pending; dies while the replay is under way
      const count = store.countJobs.bind(store);
      store.countJobs = async (filter) => {
        const n = await count(filter);
        store.countJobs = count;
        await runAll("inbound", new Set(["crm"]));
        return n;
      };
      const res = await post("/api/dead-letters/replay", { filter: {}, expectedCount: 5 });
      expect(res.json()).toEqual({ requeued: 5 });
      expect(await store.countJobs({ state: "dead" })).toBe(1);
    });

    it("POST /api/dead-letters/replay with expectedCount 0 replays nothing", async () => {
      expect(
        (await post("/api/dead-letters/replay", { filter: { target: "nobody" }, expectedCount: 0 })).json(),
      ).toEqual({ requeued: 0 });
      expect((await get("/api/dead-letters/count")).json()).toEqual({ count: 5 });
    });

    it("POST /api/dead-letters/replay without expectedCount replays everything selected", async () => {
      expect((await post("/api/dead-letters/replay", {})).json()).toEqual({ requeued: 5 });
    });

    it("POST /api/dead-letters/replay answers 400 for bad bodies", async () => {
      expectError(
        await post("/api/dead-letters/replay", { filter: { state: "done" } }),
        400,
        "IB_ERR_BODY_INVALID",
        /filter: Unknown parameter "state"/,
      );
      expectError(
        await post("/api/dead-letters/replay", { filter: { since: "soon" } }),
        400,
        "IB_ERR_BODY_INVALID",
        /since must be/,
      );
      expectError(
        await post("/api/dead-letters/replay", { filter: "contact.*" }),
        400,
        "IB_ERR_BODY_INVALID",
        /filter must be an object/,
      );
      expectError(
        await post("/api/dead-letters/replay", { expectedCount: -1 }),
        400,
        "IB_ERR_BODY_INVALID",
        /expectedCount/,
      );
      expectError(
        await post("/api/dead-letters/replay", { everything: true }),
        400,
        "IB_ERR_BODY_INVALID",
        /Unknown body field "everything"/,
      );
      expectError(await post("/api/dead-letters/replay", [1, 2]), 400, "IB_ERR_BODY_INVALID", /JSON object/);
      const malformed = await app.inject({
        method: "POST",
        url: "/api/dead-letters/replay",
        headers: { ...AUTH, "content-type": "application/json" },
        payload: "{nope",
      });
      expectError(malformed, 400, "IB_ERR_BODY_INVALID");
      expect((await get("/api/dead-letters/count")).json()).toEqual({ count: 5 });
    });
  });

  describe("GET /api/outbound", () => {
    beforeEach(async () => {
      await seed({ queue: "outbox", topic: "order-placed", itemId: "user_1", targets: ["intercom-events"] });
      await runAll("outbox", new Set());
      await seed({ queue: "outbox", topic: "invited-friend", itemId: "user_2", targets: ["intercom-events"] });
      await runAll(
        "outbox",
        new Set(["intercom-events"]),
        () =>
          new UnrecoverableError("Intercom 404 not_found: User Not Found (request req_9)", {
            cause: new IntercomApiError(404, "User Not Found", { intercomCode: "not_found" }),
          }),
      );
      await seed({ queue: "outbox", topic: "order-placed", itemId: "user_3", targets: ["intercom-events"] });
      await start();
    });

    it("lists outbound events newest first with state and the error of failed ones", async () => {
      const res = await get("/api/outbound");
      expect(res.statusCode).toBe(200);
      const items = res.json().items;
      expect(
        items.map((e: { eventName: string; itemId: string; state: string }) => [e.eventName, e.itemId, e.state]),
      ).toEqual([
        ["order-placed", "user_3", "pending"],
        ["invited-friend", "user_2", "failed"],
        ["order-placed", "user_1", "sent"],
      ]);
      // The outbox records Intercom's answer in the message (outbound/classify.ts describeSendResult).
      expect(items[1].error).toEqual({
        reason: "404 not_found",
        code: "not_found",
        message: "Intercom 404 not_found: User Not Found (request req_9)",
      });
      expect(items[1].waiting).toBeNull();
      expect(items[0].error).toBeNull();
    });

    it("shows Intercom's own error code when the outbox records an IntercomApiError", async () => {
      await seed({ queue: "outbox", topic: "rate-limited", itemId: "user_4", targets: ["intercom-events"] });
      await runAll(
        "outbox",
        new Set(["intercom-events"]),
        () => new IntercomApiError(422, "Invalid event name", { intercomCode: "parameter_invalid" }),
      );
      const items = (await get("/api/outbound?topic=rate-limited")).json().items;
      expect(items[0].error).toEqual({
        reason: "parameter_invalid",
        code: "parameter_invalid",
        message: "Invalid event name",
      });
    });

    it("filters by state, event name and contact", async () => {
      const names = async (q: string): Promise<string[]> =>
        (await get(`/api/outbound?${q}`)).json().items.map((e: { itemId: string }) => e.itemId);
      // The outbound names, as the CLI and GET /api/events use them (failed = given up), and the queue's names.
      expect(await names("state=failed")).toEqual(["user_2"]);
      expect(await names("state=dead")).toEqual(["user_2"]);
      expect(await names("state=sent")).toEqual(["user_1"]);
      expect(await names("state=done,pending")).toEqual(["user_3", "user_1"]);
      expect(await names("state=retrying")).toEqual([]);
      expect(await names("topic=order-placed")).toEqual(["user_3", "user_1"]);
      expect(await names("q=user_1")).toEqual(["user_1"]);
      expectError(await get("/api/outbound?appId=x"), 400, "IB_ERR_QUERY_INVALID", /Unknown parameter "appId"/);
    });

    it("shows the Intercom error that paused the outbox, not the wait that followed it", async () => {
      await seed({ queue: "outbox", topic: "refused", itemId: "user_5", targets: ["intercom-events"] });
      // What the outbox records: the 401 pauses sending (no attempt used), later runs only wait for the pause.
      const errors = [
        new RateLimitedError(
          1,
          "Intercom 401 unauthorized: Access Token Invalid; outbound events paused (unauthorized)",
        ),
        new RateLimitedError(1, "Outbox paused for 60000 ms"),
      ];
      const processor = store.process(
        "outbox",
        async (job) => {
          if (job.record.topic !== "refused") return;
          // Later runs wait again, so the wait stays the last recorded error.
          throw errors.shift() ?? new RateLimitedError(1_000, "Outbox paused for 60000 ms");
        },
        { concurrency: 4, leaseMs: 5_000, pollMs: 5 },
      );
      await waitFor(async () => {
        const job = (await store.listJobs({ queue: "outbox", topic: "refused" })).items[0];
        return job?.lastError?.message === "Outbox paused for 60000 ms";
      }, 10_000);
      await processor.close();
      const [item] = (await get("/api/outbound?topic=refused")).json().items;
      expect(item.error).toEqual({
        reason: "401 unauthorized",
        code: "IB_ERR_RATE_LIMITED",
        message: "Intercom 401 unauthorized: Access Token Invalid; outbound events paused (unauthorized)",
      });
      expect(item.waiting).toBe("Outbox paused for 60000 ms");
    });

    it("retries a dead event through POST /api/deliveries/:id/replay", async () => {
      const dead = (await get("/api/outbound?state=dead")).json().items[0];
      expect((await post(`/api/deliveries/${dead.id}/replay`)).statusCode).toBe(200);
      await runAll("outbox", new Set());
      expect((await get("/api/outbound?state=dead")).json().items).toEqual([]);
      expect((await get(`/api/deliveries/${dead.id}`)).json()).toMatchObject({ state: "done", attempts: 1 });
    });
  });

  describe("GET /api/stream", () => {
    let url: string;
    let aborter: AbortController;
    beforeEach(() => {
      aborter = new AbortController();
    });

    async function listen(options: Partial<DashboardOptions>): Promise<void> {
      // undici's fetch may leave a second, request-less connection open that "idle" closing does not count; force it.
      app = Fastify({ forceCloseConnections: true });
      await registerDashboard(app, { store, adminToken: TOKEN, ...options });
      url = await app.listen({ port: 0, host: "127.0.0.1" });
    }

    /** Reads SSE events from the stream until `count` named events (not comments) arrived. */
    async function readEvents(
      res: Response,
      count: number,
      onReady?: () => Promise<void>,
    ): Promise<{ event: string; data: unknown; id?: string }[]> {
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      const events: { event: string; data: unknown; id?: string }[] = [];
      let buffer = "";
      while (events.length < count) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split("\n")
              .filter((l) => !l.startsWith(":") && l.includes(":"))
              .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]),
          );
          if (fields.event) {
            events.push({
              event: fields.event,
              data: JSON.parse(fields.data ?? "null"),
              ...(fields.id ? { id: fields.id } : {}),
            });
            if (fields.event === "ready") await onReady?.();
          }
        }
      }
      aborter.abort(); // closes the socket at once, so the server sees the disconnect (reader.cancel() would not)
      return events;
    }

    it("pushes each newly received notification from the receiver's notices, skipping duplicates", async () => {
      const emitter = new EventEmitter();
      await listen({ events: emitter });
      const res = await fetch(`${url}/api/stream`, { headers: AUTH, signal: aborter.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      const events = await readEvents(res, 2, async () => {
        const { recordId } = await seed({
          topic: "contact.created",
          notificationId: "notif_live",
          itemId: "contact_live",
          targets: ["crm"],
        });
        emitter.emit("received", { recordId: null, status: "duplicate" });
        emitter.emit("received", { recordId, status: "accepted" });
      });
      expect(events[0]!.event).toBe("ready");
      expect(events[1]).toMatchObject({
        event: "received",
        data: {
          topic: "contact.created",
          notificationId: "notif_live",
          itemId: "contact_live",
          deliveries: [{ target: "crm", state: "pending" }],
        },
      });
      expect(events[1]!.id).toBe((events[1]!.data as { id: string }).id);
      await waitFor(() => emitter.listenerCount("received") === 0);
    });

    it("accepts the receiver's onReceived(listener) shape", async () => {
      const listeners = new Set<(n: { recordId: string | null; status?: string }) => void>();
      await listen({ events: { onReceived: (l) => (listeners.add(l), () => listeners.delete(l)) } });
      const res = await fetch(`${url}/api/stream`, { headers: AUTH, signal: aborter.signal });
      const events = await readEvents(res, 2, async () => {
        const { recordId } = await seed({ topic: "ping", notificationId: null, targets: [] });
        for (const l of listeners) l({ recordId, status: "accepted" });
      });
      expect(events[1]).toMatchObject({
        event: "received",
        data: { topic: "ping", notificationId: null, deliveries: [] },
      });
      await waitFor(() => listeners.size === 0);
    });

    it("polls the store when no event source is given", async () => {
      await seed({ topic: "contact.created", notificationId: "notif_before" });
      await listen({ streamPollMs: 20 });
      const res = await fetch(`${url}/api/stream`, { headers: AUTH, signal: aborter.signal });
      const events = await readEvents(res, 3, async () => {
        await new Promise((r) => setTimeout(r, 60));
        await seed({ topic: "contact.deleted", notificationId: "notif_polled_1" });
        await seed({ topic: "contact.deleted", notificationId: "notif_polled_2" });
      });
      expect(events.slice(1).map((e) => (e.data as { notificationId: string }).notificationId)).toEqual([
        "notif_polled_1",
        "notif_polled_2",
      ]);
    });

    it("with events and streamPollsStore, also sends what only the store shows, each record once", async () => {
      const emitter = new EventEmitter();
      await listen({ events: emitter, streamPollsStore: true, streamPollMs: 20 });
      const res = await fetch(`${url}/api/stream`, { headers: AUTH, signal: aborter.signal });
      const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 150));
      const events = await readEvents(res, 4, async () => {
        // Announced here and visible to the poll: a second copy would show up during the pause.
        const a = await seed({ topic: "contact.created", notificationId: "notif_pushed" });
        emitter.emit("received", { recordId: a.recordId, status: "accepted" });
        await pause();
        // Stored by "another process": only the poll can find it.
        await seed({ topic: "contact.created", notificationId: "notif_elsewhere" });
        await pause();
        const c = await seed({ topic: "contact.created", notificationId: "notif_pushed_2" });
        emitter.emit("received", { recordId: c.recordId, status: "accepted" });
      });
      expect(events.slice(1).map((e) => (e.data as { notificationId: string }).notificationId)).toEqual([
        "notif_pushed",
        "notif_elsewhere",
        "notif_pushed_2",
      ]);
    });

    it("polling, sends a burst larger than one page in full, each record once", async () => {
      await listen({ streamPollMs: 300 });
      const res = await fetch(`${url}/api/stream`, { headers: AUTH, signal: aborter.signal });
      const burst = 450; // more than two of the poll's 200-record pages, stored between two polls
      const events = await readEvents(res, burst + 1, async () => {
        await Promise.all(
          Array.from({ length: burst }, (_, i) =>
            seed({ topic: "contact.created", notificationId: `notif_burst_${i}` }),
          ),
        );
      });
      const ids = events.slice(1).map((e) => (e.data as { notificationId: string }).notificationId);
      expect(ids).toHaveLength(burst);
      expect(new Set(ids).size).toBe(burst);
    });

    it("with events only (streamPollsStore false), never sends what it was not told about", async () => {
      const emitter = new EventEmitter();
      await listen({ events: emitter, streamPollsStore: false, streamPollMs: 20 });
      const res = await fetch(`${url}/api/stream`, { headers: AUTH, signal: aborter.signal });
      const events = await readEvents(res, 2, async () => {
        await seed({ topic: "contact.created", notificationId: "notif_silent" });
        await new Promise((r) => setTimeout(r, 150));
        const b = await seed({ topic: "contact.created", notificationId: "notif_told" });
        emitter.emit("received", { recordId: b.recordId, status: "accepted" });
      });
      expect((events[1]!.data as { notificationId: string }).notificationId).toBe("notif_told");
    });

    it("refuses a stream without the token", async () => {
      await listen({});
      const res = await fetch(`${url}/api/stream`);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "IB_ERR_UNAUTHORIZED" } });
    });

    it("ends open streams when the app closes", async () => {
      await listen({ streamPollMs: 20 });
      const res = await fetch(`${url}/api/stream`, { headers: AUTH, signal: aborter.signal });
      const reader = res.body!.getReader();
      await reader.read();
      await app.close();
      let done = false;
      while (!done) done = (await reader.read()).done;
      expect(done).toBe(true);
    });
  });
});
