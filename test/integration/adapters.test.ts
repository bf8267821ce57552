import { readFileSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { serve as serveFetch } from "@hono/node-server";
import express from "express";
import express4 from "express4";
import Fastify, { type FastifyInstance } from "fastify";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createIntercomWebhooks,
  dedupeKeyOf,
  parseNotification,
  sign,
  type Receiver,
  type Store,
} from "../../src/index.js";
import { createMemoryStore } from "../../src/store/memory/memory-store.js";
import { createNodeMiddleware } from "../../src/http/node.js";
import { createExpressMiddleware, EXPRESS_RAW_BODY_MESSAGE } from "../../src/http/express.js";
import { createFastifyPlugin } from "../../src/http/fastify.js";
import { createWebHandler } from "../../src/http/web.js";
import { createHonoMiddleware } from "../../src/http/hono.js";

const SECRET = "adapter-test-secret";
const PATH = "/webhooks/intercom";
const MAX_BODY_BYTES = 64 * 1024;
// The captured fixtures are years old; keep them inside the stale-replay window so they are accepted as sent.
const THIRTY_YEARS_MS = 30 * 365 * 86_400_000;
const FIXTURES = new URL("../fixtures/intercom/", import.meta.url);
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Exact bytes of a captured fixture (never re-serialised). */
function fixture(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES));
}

interface Sent {
  method: string;
  path?: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Send the body in 16 KiB chunks without a Content-Length (chunked transfer encoding). */
  chunked?: boolean;
}

/** The body as a stream of 16 KiB chunks, so nothing tells the server its size up front. */
function chunks(body: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < body.length; i += 16 * 1024) out.push(new Uint8Array(body.subarray(i, i + 16 * 1024)));
  return out;
}
function chunkedStream(body: Buffer): ReadableStream<Uint8Array> {
  const parts = chunks(body);
  return new ReadableStream({
    pull(controller) {
      const next = parts.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
}
interface Got {
  status: number;
  contentType: string | null;
  allow: string | null;
  body: string;
}
interface Running {
  send(req: Sent): Promise<Got>;
  close(): Promise<void>;
}
interface Harness {
  name: string;
  start(receiver: Receiver): Promise<Running>;
}

function signed(body: Buffer, headers: Record<string, string> = {}): Sent {
  return {
    method: "POST",
    headers: { "content-type": "application/json", "x-hub-signature": sign(body, SECRET), ...headers },
    body,
  };
}

async function fromFetchResponse(res: Response): Promise<Got> {
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    allow: res.headers.get("allow"),
    body: await res.text(),
  };
}

function fetchSender(baseUrl: string): Running["send"] {
  return async (req) => {
    const res = await fetch(baseUrl + (req.path ?? PATH), {
      method: req.method,
      headers: req.headers,
      ...(req.body === undefined
        ? {}
        : req.chunked
          ? { body: chunkedStream(req.body), duplex: "half" }
          : { body: new Uint8Array(req.body) }),
    });
    return fromFetchResponse(res);
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.closeAllConnections();
    server.close((err) => (err ? reject(err) : resolve()));
  });
}

/** A Request like a platform would hand over: same headers as on the wire, Content-Length included. */
function toRequest(req: Sent): Request {
  const headers = new Headers(req.headers);
  if (req.body !== undefined && !req.chunked) headers.set("content-length", String(req.body.byteLength));
  return new Request(`http://localhost${req.path ?? PATH}`, {
    method: req.method,
    headers,
    ...(req.body === undefined
      ? {}
      : req.chunked
        ? { body: chunkedStream(req.body), duplex: "half" }
        : { body: new Uint8Array(req.body) }),
  });
}

async function fastifyApp(receiver: Receiver): Promise<FastifyInstance> {
  const app = Fastify();
  // The app's own JSON route must keep fastify's JSON parser (the plugin's raw parser is scoped).
  app.post("/api/echo", async (request) => ({ parsed: request.body }));
  await app.register(createFastifyPlugin(receiver, { path: PATH }));
  return app;
}

const HARNESSES: Harness[] = [
  {
    name: "node:http (real server)",
    async start(receiver) {
      const server = createServer((req, res) => void createNodeMiddleware(receiver, { path: PATH })(req, res));
      const base = await listen(server);
      return { send: fetchSender(base), close: () => closeServer(server) };
    },
  },
  {
    name: "node middleware inside express (real server)",
    async start(receiver) {
      const app = express();
      app.use(createNodeMiddleware(receiver, { path: PATH }));
      app.use(express.json());
      const server = createServer(app);
      const base = await listen(server);
      return { send: fetchSender(base), close: () => closeServer(server) };
    },
  },
  {
    name: "express 5 (real server)",
    async start(receiver) {
      const app = express();
      app.use(createExpressMiddleware(receiver, { path: PATH, log: silent }));
      app.use(express.json()); // after the webhook middleware: the documented order
      const server = createServer(app);
      const base = await listen(server);
      return { send: fetchSender(base), close: () => closeServer(server) };
    },
  },
  {
    name: "express 4 (real server)",
    async start(receiver) {
      const app = express4();
      app.use(createExpressMiddleware(receiver, { path: PATH, log: silent }));
      app.use(express4.json());
      const server = createServer(app);
      const base = await listen(server);
      return { send: fetchSender(base), close: () => closeServer(server) };
    },
  },
  {
    name: "fastify (inject)",
    async start(receiver) {
      const app = await fastifyApp(receiver);
      return {
        async send(req) {
          const res = await app.inject({
            method: req.method as "POST",
            url: req.path ?? PATH,
            headers: req.headers,
            ...(req.body === undefined ? {} : { payload: req.chunked ? Readable.from(chunks(req.body)) : req.body }),
          });
          const header = (name: string): string | null => {
            const v = res.headers[name];
            return v === undefined ? null : String(v);
          };
          return {
            status: res.statusCode,
            contentType: header("content-type"),
            allow: header("allow"),
            body: res.body,
          };
        },
        close: () => app.close(),
      };
    },
  },
  {
    name: "fastify (real server)",
    async start(receiver) {
      const app = await fastifyApp(receiver);
      const base = await app.listen({ port: 0, host: "127.0.0.1" });
      return { send: fetchSender(base), close: () => app.close() };
    },
  },
  {
    name: "web (Request → Response)",
    async start(receiver) {
      const handler = createWebHandler(receiver, { path: PATH });
      return { send: async (req) => fromFetchResponse(await handler(toRequest(req))), close: async () => {} };
    },
  },
  {
    name: "web (real server through @hono/node-server)",
    async start(receiver) {
      const handler = createWebHandler(receiver, { path: PATH });
      const server = await new Promise<Server>((resolve) => {
        const s = serveFetch({ fetch: handler, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server));
      });
      return {
        send: fetchSender(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
        close: () => closeServer(server),
      };
    },
  },
  {
    name: "hono (app.request)",
    async start(receiver) {
      const app = new Hono();
      app.use(createHonoMiddleware(receiver, { path: PATH }));
      app.get("/other", (c) => c.text("other"));
      return { send: async (req) => fromFetchResponse(await app.request(toRequest(req))), close: async () => {} };
    },
  },
];

function newWebhooks(store?: Store): Receiver {
  return createIntercomWebhooks({
    secret: SECRET,
    dedupeTtlMs: THIRTY_YEARS_MS,
    maxBodyBytes: MAX_BODY_BYTES,
    log: silent,
    ...(store ? { store } : {}),
  });
}

/** A store whose writes fail, as when the database is unreachable. */
function downStore(): Store {
  const store = createMemoryStore();
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "enqueue") return () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:5432"));
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const ACCEPTED = '{"received":true}';
const DUPLICATE = '{"received":true,"duplicate":true}';
const JSON_CT = "application/json; charset=utf-8";
const errorBody = (code: string, message: string): string => JSON.stringify({ error: { code, message } });

interface Scenario {
  name: string;
  /** Requests sent in order to a fresh receiver; the last response is asserted, earlier ones must be 200. */
  requests: () => Sent[];
  storeDown?: boolean;
  /** Sent to a receiver that was closed (`close()`), as during a shutdown. */
  closed?: boolean;
  status: number;
  body: string;
  contentType?: string | null;
  allow?: string;
}

const tooLargeBody = Buffer.from(JSON.stringify({ type: "notification_event", pad: "x".repeat(MAX_BODY_BYTES) }));
const unknownTopicBody = Buffer.from(
  fixture("ticket_state_updated.json")
    .toString("utf8")
    .replace(/"topic":\s*"ticket\.state\.updated"/, '"topic": "ticket.teleported"'),
);
if (!unknownTopicBody.includes('"ticket.teleported"')) throw new Error("the unknown-topic fixture edit did not apply");

const SCENARIOS: Scenario[] = [
  { name: "valid notification", requests: () => [signed(fixture("ticket_created.json"))], status: 200, body: ACCEPTED },
  {
    name: "valid notification with a charset in the content type",
    requests: () => [signed(fixture("contact_created.json"), { "content-type": "application/json; charset=utf-8" })],
    status: 200,
    body: ACCEPTED,
  },
  {
    name: "duplicate (same notification id twice)",
    requests: () => [
      signed(fixture("conversation_user_replied.json")),
      signed(fixture("conversation_user_replied.json")),
    ],
    status: 200,
    body: DUPLICATE,
  },
  { name: "ping fixture (null id)", requests: () => [signed(fixture("ping.json"))], status: 200, body: ACCEPTED },
  { name: "unknown topic", requests: () => [signed(unknownTopicBody)], status: 200, body: ACCEPTED },
  {
    name: "missing signature",
    requests: () => [
      { method: "POST", headers: { "content-type": "application/json" }, body: fixture("ticket_created.json") },
    ],
    status: 401,
    body: errorBody("IB_ERR_SIGNATURE_MISSING", "Missing X-Hub-Signature header"),
  },
  {
    name: "invalid signature (other secret)",
    requests: () => [
      signed(fixture("ticket_created.json"), {
        "x-hub-signature": sign(fixture("ticket_created.json"), "not-the-secret"),
      }),
    ],
    status: 401,
    body: errorBody("IB_ERR_SIGNATURE_INVALID", "No matching signature found"),
  },
  {
    name: "length-mismatched signature",
    requests: () => [signed(fixture("ticket_created.json"), { "x-hub-signature": "sha1=abcd" })],
    status: 401,
    body: errorBody("IB_ERR_SIGNATURE_INVALID", "No matching signature found"),
  },
  {
    name: "invalid JSON (signed)",
    requests: () => [signed(Buffer.from('{"type":"notification_event",'))],
    status: 400,
    body: errorBody("IB_ERR_PAYLOAD_INVALID", "Body is not valid JSON"),
  },
  {
    name: "not a notification (signed)",
    requests: () => [signed(Buffer.from('{"type":"contact","id":"1"}'))],
    status: 400,
    body: errorBody(
      "IB_ERR_PAYLOAD_INVALID",
      'Body is not an Intercom notification: "type" must be "notification_event"',
    ),
  },
  {
    name: "too large",
    requests: () => [signed(tooLargeBody)],
    status: 413,
    body: errorBody(
      "IB_ERR_BODY_TOO_LARGE",
      `Body is ${tooLargeBody.byteLength} bytes; the limit is ${MAX_BODY_BYTES} (maxBodyBytes)`,
    ),
  },
  {
    name: "too large, chunked without a Content-Length",
    requests: () => [{ ...signed(tooLargeBody), chunked: true }],
    status: 413,
    body: errorBody(
      "IB_ERR_BODY_TOO_LARGE",
      `Body is more than ${MAX_BODY_BYTES} bytes; the limit is ${MAX_BODY_BYTES} (maxBodyBytes)`,
    ),
  },
  {
    name: "valid notification, chunked without a Content-Length",
    requests: () => [{ ...signed(fixture("conversation_admin_replied.json")), chunked: true }],
    status: 200,
    body: ACCEPTED,
  },
  {
    name: "wrong content type",
    requests: () => [signed(fixture("ticket_created.json"), { "content-type": "text/plain" })],
    status: 415,
    body: errorBody("IB_ERR_UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json"),
  },
  {
    name: "HEAD (Intercom's URL check)",
    requests: () => [{ method: "HEAD", headers: {} }],
    status: 200,
    body: "",
    contentType: null,
  },
  {
    name: "GET",
    requests: () => [{ method: "GET", headers: {} }],
    status: 405,
    body: errorBody("IB_ERR_METHOD_NOT_ALLOWED", "Method GET is not allowed; Intercom sends POST"),
    allow: "POST, HEAD",
  },
  {
    name: "shutting down (receiver closed)",
    closed: true,
    requests: () => [signed(fixture("ticket_created.json"))],
    status: 503,
    body: errorBody("IB_ERR_SHUTTING_DOWN", "The receiver is shutting down"),
  },
  {
    name: "store down",
    storeDown: true,
    requests: () => [signed(fixture("ticket_created.json"))],
    status: 503,
    body: errorBody("IB_ERR_STORE_UNAVAILABLE", "The store could not save the notification"),
  },
];

describe("adapters", () => {
  const results = new Map<string, Map<string, Got>>();

  describe.each(HARNESSES)("$name", (harness) => {
    let ok: Running;
    let okReceiver: Receiver;
    let down: Running;
    let closed: Running;
    beforeAll(async () => {
      okReceiver = newWebhooks();
      ok = await harness.start(okReceiver);
      down = await harness.start(newWebhooks(downStore()));
      const closedReceiver = newWebhooks();
      closed = await harness.start(closedReceiver);
      await closedReceiver.close();
    });
    afterAll(async () => {
      await ok.close();
      await down.close();
      await closed.close();
      await okReceiver.close();
    });

    it.each(SCENARIOS)("answers $status when $name", async (scenario) => {
      const target = scenario.storeDown ? down : scenario.closed ? closed : ok;
      const requests = scenario.requests();
      let last: Got | undefined;
      for (const [i, req] of requests.entries()) {
        last = await target.send(req);
        if (i < requests.length - 1) expect(last.status).toBe(200);
      }
      const got = last!;
      expect(got.status).toBe(scenario.status);
      expect(got.body).toBe(scenario.body);
      if (scenario.body !== "") expect(got.contentType).toBe(JSON_CT);
      else expect(got.contentType).toBe(scenario.contentType ?? null);
      if (scenario.allow !== undefined) expect(got.allow).toBe(scenario.allow);
      let byScenario = results.get(scenario.name);
      if (!byScenario) results.set(scenario.name, (byScenario = new Map()));
      byScenario.set(harness.name, got);
    });

    it("accepts every captured fixture as sent (exact bytes), then reports it as a duplicate", async () => {
      const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".json"));
      expect(files.length).toBeGreaterThan(50);
      const receiver = newWebhooks();
      const running = await harness.start(receiver);
      try {
        const seen = new Set<string>();
        for (const file of files) {
          // Two captures share a notification (company_contact_attached and its misspelt copy): the second is a duplicate.
          const parsed = parseNotification(fixture(file));
          if (!parsed.ok) throw parsed.error;
          const key = dedupeKeyOf(parsed.notification);
          const expected = seen.has(key) ? DUPLICATE : ACCEPTED;
          seen.add(key);
          const first = await running.send(signed(fixture(file)));
          expect({ file, status: first.status, body: first.body }).toEqual({ file, status: 200, body: expected });
        }
        const again = await running.send(signed(fixture("ticket_closed.json")));
        expect(again.body).toBe(DUPLICATE);
      } finally {
        await running.close();
        await receiver.close();
      }
    });
  });

  it("gives identical statuses, bodies and content types on every adapter", () => {
    expect(results.size).toBe(SCENARIOS.length);
    for (const [scenario, byHarness] of results) {
      expect(byHarness.size, scenario).toBe(HARNESSES.length);
      const [first, ...rest] = [...byHarness.values()].map((g) => ({
        status: g.status,
        body: g.body,
        contentType: g.body === "" ? null : g.contentType,
      }));
      for (const other of rest) expect(other, scenario).toEqual(first);
    }
  });
});

describe("createExpressMiddleware", () => {
  async function serve(app: express.Express): Promise<{ base: string; close: () => Promise<void> }> {
    const server = createServer(app);
    const base = await listen(server);
    return { base, close: () => closeServer(server) };
  }

  it("answers 500 IB_ERR_RAW_BODY_UNAVAILABLE with how to fix it when express.json() ran first, and logs it once", async () => {
    const error = vi.fn();
    const webhooks = newWebhooks();
    const app = express();
    app.use(express.json());
    app.use(createExpressMiddleware(webhooks, { path: PATH, log: { error } }));
    const { base, close } = await serve(app);
    try {
      const send = fetchSender(base);
      const first = await send(signed(fixture("ticket_created.json")));
      const second = await send(signed(fixture("ticket_created.json")));
      for (const got of [first, second]) {
        expect(got.status).toBe(500);
        expect(JSON.parse(got.body)).toEqual({
          error: { code: "IB_ERR_RAW_BODY_UNAVAILABLE", message: EXPRESS_RAW_BODY_MESSAGE },
        });
      }
      expect(EXPRESS_RAW_BODY_MESSAGE).toMatch(/express\.json\(\)/);
      expect(EXPRESS_RAW_BODY_MESSAGE).toContain('express.raw({ type: "application/json" })');
      expect(EXPRESS_RAW_BODY_MESSAGE).toMatch(/before app\.use\(express\.json\(\)\)/);
      expect(error).toHaveBeenCalledTimes(1);
      expect(error.mock.calls[0]![1]).toBe(EXPRESS_RAW_BODY_MESSAGE);
      // Nothing was stored: the handler never saw a verifiable body.
      expect((await webhooks.store.listRecords({ queue: "inbound" })).items).toHaveLength(0);
    } finally {
      await close();
      await webhooks.close();
    }
  });

  it.each([
    ["Express 4", express4],
    ["Express 5", express],
  ])(
    "%s: accepts the webhook when a parser that skips JSON (urlencoded, text) runs first",
    async (_name, framework) => {
      const error = vi.fn();
      const webhooks = newWebhooks();
      const app = framework();
      // Express 4's parsers set req.body = {} on requests they skip, without reading the stream.
      app.use(framework.urlencoded({ extended: false }));
      app.use(framework.text());
      app.use(createExpressMiddleware(webhooks, { path: PATH, log: { error } }));
      const { base, close } = await serve(app);
      try {
        const got = await fetchSender(base)(signed(fixture("ticket_created.json")));
        expect(got).toMatchObject({ status: 200, body: ACCEPTED });
        expect(error).not.toHaveBeenCalled();
        const records = await webhooks.store.listRecords({ queue: "inbound" });
        expect(records.items.map((r) => r.record.topic)).toEqual(["ticket.created"]);
      } finally {
        await close();
        await webhooks.close();
      }
    },
  );

  it("Express 4: still reports express.json() mounted first", async () => {
    const webhooks = newWebhooks();
    const app = express4();
    app.use(express4.json());
    app.use(createExpressMiddleware(webhooks, { path: PATH, log: silent }));
    const { base, close } = await serve(app);
    try {
      const got = await fetchSender(base)(signed(fixture("ticket_created.json")));
      expect(got.status).toBe(500);
      expect(JSON.parse(got.body)).toEqual({
        error: { code: "IB_ERR_RAW_BODY_UNAVAILABLE", message: EXPRESS_RAW_BODY_MESSAGE },
      });
    } finally {
      await close();
      await webhooks.close();
    }
  });

  it("still answers 415 before the guard when the content type is wrong", async () => {
    const app = express();
    app.use(express.text({ type: "text/plain" }));
    app.use(createExpressMiddleware(newWebhooks(), { path: PATH, log: silent }));
    const { base, close } = await serve(app);
    try {
      const got = await fetchSender(base)(signed(fixture("ticket_created.json"), { "content-type": "text/plain" }));
      expect(got.status).toBe(415);
    } finally {
      await close();
    }
  });

  it("accepts the raw Buffer express.raw() leaves, and passes other paths to next()", async () => {
    const webhooks = newWebhooks();
    const app = express();
    // docs/frameworks.md's order for an app whose express.json() must stay first.
    app.use(PATH, express.raw({ type: "application/json" }));
    app.use(express.json());
    app.use(createExpressMiddleware(webhooks, { path: PATH, log: silent }));
    app.post("/api/echo", (req, res) => {
      res.json({ parsed: req.body as unknown });
    });
    const { base, close } = await serve(app);
    try {
      const got = await fetchSender(base)(signed(fixture("ticket_created.json")));
      expect(got).toMatchObject({ status: 200, body: ACCEPTED });
      const echo = await fetch(`${base}/api/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"a":1}',
      });
      expect(await echo.json()).toEqual({ parsed: { a: 1 } });
      const records = await webhooks.store.listRecords({ queue: "inbound" });
      expect(records.items.map((r) => r.record.topic)).toEqual(["ticket.created"]);
    } finally {
      await close();
      await webhooks.close();
    }
  });

  it("matches the path relative to a mount point", async () => {
    const app = express();
    app.use("/hooks", createExpressMiddleware(newWebhooks(), { path: "/intercom", log: silent }));
    const { base, close } = await serve(app);
    try {
      const got = await fetchSender(base)({ ...signed(fixture("ping.json")), path: "/hooks/intercom" });
      expect(got).toMatchObject({ status: 200, body: ACCEPTED });
    } finally {
      await close();
    }
  });
});

describe("createNodeMiddleware", () => {
  it("inside Express, passes other paths to next() so the app's routes still answer", async () => {
    const app = express();
    app.use(createNodeMiddleware(newWebhooks(), { path: PATH }));
    app.use(express.json());
    app.post("/api/echo", (req, res) => {
      res.json({ parsed: req.body as unknown });
    });
    const server = createServer(app);
    const base = await listen(server);
    try {
      const echo = await fetch(`${base}/api/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"a":1}',
      });
      expect(await echo.json()).toEqual({ parsed: { a: 1 } });
    } finally {
      await closeServer(server);
    }
  });

  it("on its own, answers other paths 404 with the JSON error body of the status table", async () => {
    const server = createServer((req, res) => void createNodeMiddleware(newWebhooks(), { path: PATH })(req, res));
    const base = await listen(server);
    try {
      const got = await fetchSender(base)({ method: "POST", path: "/elsewhere?x=1", headers: {} });
      expect(got).toEqual({
        status: 404,
        contentType: JSON_CT,
        allow: null,
        body: errorBody("IB_ERR_NOT_FOUND", "No route for /elsewhere"),
      });
    } finally {
      await closeServer(server);
    }
  });
});

describe("createFastifyPlugin", () => {
  it("keeps the app's own JSON parsing on other routes", async () => {
    const app = await fastifyApp(newWebhooks());
    try {
      const res = await app.inject({ method: "POST", url: "/api/echo", payload: { a: 1 } });
      expect(res.json()).toEqual({ parsed: { a: 1 } });
      const hook = await app.inject({
        method: "POST",
        url: PATH,
        headers: signed(fixture("ping.json")).headers,
        payload: fixture("ping.json"),
      });
      expect(hook.body).toBe(ACCEPTED);
    } finally {
      await app.close();
    }
  });

  it("answers 415 when the content type is missing", async () => {
    const app = await fastifyApp(newWebhooks());
    try {
      const body = fixture("ping.json");
      const res = await app.inject({
        method: "POST",
        url: PATH,
        headers: { "x-hub-signature": sign(body, SECRET) },
        payload: body,
      });
      expect(res.statusCode).toBe(415);
    } finally {
      await app.close();
    }
  });
});

describe("createHonoMiddleware", () => {
  it("uses the exact text an earlier middleware read, and passes other paths to next()", async () => {
    const webhooks = newWebhooks();
    const app = new Hono();
    app.use(async (c, next) => {
      if (c.req.method === "POST") await c.req.text(); // e.g. a logging middleware
      await next();
    });
    app.use(createHonoMiddleware(webhooks, { path: PATH }));
    app.get("/other", (c) => c.text("other"));
    const res = await app.request(toRequest(signed(fixture("ticket_created.json"))));
    expect(await res.text()).toBe(ACCEPTED);
    expect(await (await app.request("/other")).text()).toBe("other");
    await webhooks.close();
  });
});

describe("createWebHandler", () => {
  it("answers 500 IB_ERR_RAW_BODY_UNAVAILABLE when the body was already read", async () => {
    const handler = createWebHandler(newWebhooks());
    const request = toRequest(signed(fixture("ticket_created.json")));
    await request.text();
    const res = await handler(request);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("IB_ERR_RAW_BODY_UNAVAILABLE");
  });

  it("refuses a chunked body past maxBodyBytes without a Content-Length", async () => {
    const handler = createWebHandler(newWebhooks());
    const chunk = new Uint8Array(16 * 1024).fill(32);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += chunk.byteLength;
        controller.enqueue(chunk);
        if (sent > 10 * MAX_BODY_BYTES) controller.close();
      },
    });
    const res = await handler(
      new Request(`http://localhost${PATH}`, {
        method: "POST",
        // Well-formed (a missing or malformed signature is refused before any byte of the body is read).
        headers: { "content-type": "application/json", "x-hub-signature": `sha1=${"0".repeat(40)}` },
        body,
        duplex: "half",
      } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(10 * MAX_BODY_BYTES); // stopped reading early
  });

  it("answers 404 off its path when a path is given", async () => {
    const res = await createWebHandler(newWebhooks(), { path: PATH })(
      new Request("http://localhost/nope", { method: "HEAD" }),
    );
    expect(res.status).toBe(404);
  });
});
