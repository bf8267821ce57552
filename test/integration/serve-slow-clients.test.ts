/**
 * `serve` against slow, silent, unauthenticated and broken clients, over real sockets on 127.0.0.1: the request
 * timeout (408 and the connection closed), signature checks before the body is read, the connection cap, client
 * aborts (not internal errors), and the documented JSON error shape for answers the HTTP layer gives on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { head, open, parseAnswer } from "../helpers/raw-http.js";
import { startServe, type ServeProcess } from "../helpers/serve-process.js";
import { sign } from "../../src/core/signature.js";

const SECRET = "slow-client-secret";
const ADMIN = "test-admin-token";

function notification(): string {
  return JSON.stringify({
    type: "notification_event",
    app_id: "app",
    id: `notif_${Math.random().toString(36).slice(2)}`,
    topic: "ping",
    created_at: Math.floor(Date.now() / 1000),
    data: { type: "notification_event_data", item: { type: "ping", message: "hi" } },
  });
}

async function metric(server: ServeProcess, outcome: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("intercom_bridge_notifications_received_total{") && line.includes(`outcome="${outcome}"`))
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("serve and slow or broken clients", () => {
  let server: ServeProcess;

  beforeAll(async () => {
    server = await startServe(
      ["--store", "memory:", "--request-timeout", "1s", "--max-body-bytes", "2000000", "--log-level", "info"],
      {},
      SECRET,
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers 408 IB_ERR_REQUEST_TIMEOUT and closes the connection when a body stalls past --request-timeout", async () => {
    const body = notification();
    const raw = await open(server.port);
    raw.socket.write(
      head({
        "content-type": "application/json",
        "x-hub-signature": sign(body, SECRET),
        "content-length": String(body.length),
      }) + body.slice(0, 10),
    );
    const closedAfter = await raw.closed;
    expect(closedAfter).toBeLessThan(8_000);
    expect(parseAnswer(raw.received())).toEqual({
      status: 408,
      body: { error: { code: "IB_ERR_REQUEST_TIMEOUT", message: expect.stringContaining("did not arrive in time") } },
    });
    await until(async () => (await metric(server, "IB_ERR_REQUEST_TIMEOUT")) >= 1, 5_000);
    expect(await metric(server, "IB_ERR_INTERNAL")).toBe(0);
  });

  it("does not let a body trickled one byte at a time outlast the timeout", async () => {
    const body = notification();
    const raw = await open(server.port);
    raw.socket.write(
      head({
        "content-type": "application/json",
        "x-hub-signature": sign(body, SECRET),
        "content-length": String(body.length),
      }),
    );
    let i = 0;
    const trickle = setInterval(() => {
      if (!raw.socket.destroyed && i < body.length) raw.socket.write(body[i++]!);
    }, 100);
    try {
      expect(await raw.closed).toBeLessThan(8_000);
    } finally {
      clearInterval(trickle);
    }
    expect(i).toBeLessThan(body.length);
    expect(parseAnswer(raw.received()).status).toBe(408);
  });

  it("closes a connection that sends nothing at all", async () => {
    const raw = await open(server.port);
    expect(await raw.closed).toBeLessThan(8_000);
  });

  it.each([
    ["missing", {}, "IB_ERR_SIGNATURE_MISSING"],
    ["not sha1= and 40 hex characters", { "x-hub-signature": "sha1=abc" }, "IB_ERR_SIGNATURE_INVALID"],
    ["sha256 instead of sha1", { "x-hub-signature": `sha256=${"a".repeat(64)}` }, "IB_ERR_SIGNATURE_INVALID"],
  ])("answers 401 before reading the body when the signature is %s", async (_name, headers, code) => {
    const raw = await open(server.port);
    // A 1 MB body is announced and never sent: the answer must not wait for it.
    raw.socket.write(head({ "content-type": "application/json", "content-length": "1000000", ...headers }));
    // Answered and closed at once, well before the 1 s request timeout could have fired.
    expect(await raw.closed).toBeLessThan(800);
    expect(raw.received()).toMatch(/\r\nconnection: close\r\n/i);
    expect(parseAnswer(raw.received())).toMatchObject({ status: 401, body: { error: { code } } });
  });

  it("counts a client that closes mid-body as aborted, not as an internal error", async () => {
    const before = await metric(server, "aborted");
    const body = notification();
    const raw = await open(server.port);
    raw.socket.write(
      head({
        "content-type": "application/json",
        "x-hub-signature": sign(body, SECRET),
        "content-length": String(body.length),
      }) + body.slice(0, body.length / 2),
    );
    await new Promise((r) => setTimeout(r, 100));
    raw.socket.destroy();
    await until(async () => (await metric(server, "aborted")) > before, 5_000);
    expect(await metric(server, "IB_ERR_INTERNAL")).toBe(0);
    expect(server.output()).not.toMatch(/IB_ERR_INTERNAL/);
    expect(server.output()).toMatch(/aborted by the client/);
  });

  it("still accepts a signed notification afterwards", async () => {
    expect((await server.post(notification())).status).toBe(200);
  });
});

describe("serve's own error answers use the documented JSON shape", () => {
  let server: ServeProcess;

  beforeAll(async () => {
    server = await startServe(["--store", "memory:", "--log-level", "info"], {}, SECRET);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers an unknown path 404 IB_ERR_NOT_FOUND", async () => {
    const res = await fetch(`${server.url}/nothing-here?x=1`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: "IB_ERR_NOT_FOUND", message: "No route for GET /nothing-here" },
    });
  });

  it("answers headers that are too large 431 IB_ERR_HEADERS_TOO_LARGE", async () => {
    const raw = await open(server.port);
    raw.socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(40_000)}\r\n\r\n`);
    await raw.closed;
    expect(parseAnswer(raw.received())).toMatchObject({
      status: 431,
      body: { error: { code: "IB_ERR_HEADERS_TOO_LARGE" } },
    });
  });

  it("answers something that is not HTTP 400 IB_ERR_BAD_REQUEST", async () => {
    const raw = await open(server.port);
    raw.socket.write("HELLO THERE\r\n\r\n");
    await raw.closed;
    expect(parseAnswer(raw.received())).toMatchObject({ status: 400, body: { error: { code: "IB_ERR_BAD_REQUEST" } } });
  });

  it("marks /api answers nosniff", async () => {
    for (const auth of [`Bearer ${ADMIN}`, "Bearer wrong"]) {
      const res = await fetch(`${server.url}/api/stats`, { headers: { authorization: auth } });
      await res.arrayBuffer();
      expect(res.headers.get("x-content-type-options"), auth).toBe("nosniff");
    }
  });

  it("logs request paths without their query string", async () => {
    await (await fetch(`${server.url}/healthz?token=query-secret-123`)).arrayBuffer();
    await (await fetch(`${server.url}/nothing?token=query-secret-456`)).arrayBuffer();
    await until(() => server.output().includes('"url":"/nothing"'), 5_000);
    expect(server.output()).toContain('"url":"/healthz"');
    expect(server.output()).not.toMatch(/query-secret/);
  });
});

describe("serve --max-connections", () => {
  let server: ServeProcess;

  beforeAll(async () => {
    server = await startServe(["--store", "memory:", "--max-connections", "3"], {}, SECRET);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("closes connections past the cap at once, and serves again once they are gone", async () => {
    const sockets = await Promise.all(Array.from({ length: 10 }, () => open(server.port)));
    const closedSoon = await Promise.all(
      sockets.map((s) =>
        Promise.race([s.closed.then(() => true), new Promise((r) => setTimeout(() => r(false), 1_500))]),
      ),
    );
    // At most 3 silent connections are kept (one may be the test's own pooled keep-alive connection).
    expect(closedSoon.filter(Boolean).length).toBeGreaterThanOrEqual(7);
    for (const s of sockets) s.socket.destroy();
    await until(async () => {
      try {
        return (await server.post(notification())).status === 200;
      } catch {
        return false;
      }
    }, 5_000);
  });
});
