import { randomUUID } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startServe, type ServeProcess } from "../helpers/serve-process.js";
import { sleep, waitFor } from "../helpers/wait-for.js";

const SECRET = "e2e-secret";
const FIXTURES = join(import.meta.dirname, "../fixtures/intercom");

/** A fresh notification of `topic` with a unique id and item id, created now. */
function notification(topic: string, extra: { itemId?: string; id?: string | null } = {}): string {
  return JSON.stringify({
    type: "notification_event",
    app_id: "e2e",
    data: { type: "notification_event_data", item: { type: topic.split(".")[0], id: extra.itemId ?? randomUUID() } },
    links: {},
    id: extra.id === undefined ? `notif_${randomUUID()}` : extra.id,
    topic,
    delivery_status: "pending",
    delivery_attempts: 1,
    delivered_at: 0,
    first_sent_at: Math.floor(Date.now() / 1000),
    created_at: Math.floor(Date.now() / 1000),
    self: null,
  });
}

/** A handlers module that appends every run to a log file; behaviour per handler is driven by files in `dir`. */
function writeHandlers(dir: string): string {
  const path = join(dir, "handlers.mjs");
  writeFileSync(
    path,
    `import { appendFileSync, existsSync } from "node:fs";
const log = (name, n, ctx, outcome) => appendFileSync(${JSON.stringify(join(dir, "runs.ndjson"))}, JSON.stringify({ name, id: n.id, topic: n.topic, attempt: ctx.attempt, outcome }) + "\\n");
export default {
  "conversation.*": async (n, ctx) => { log("conversation.*", n, ctx, "ok"); },
  "contact.user.created": async (n, ctx) => {
    if (ctx.attempt < 3) { log("contact.user.created", n, ctx, "fail"); throw new Error("flaky: attempt " + ctx.attempt); }
    log("contact.user.created", n, ctx, "ok");
  },
  "ticket.created": async (n, ctx) => {
    if (!existsSync(${JSON.stringify(join(dir, "ticket-fixed"))})) { log("ticket.created", n, ctx, "fail"); throw new Error("downstream is broken"); }
    log("ticket.created", n, ctx, "ok");
  },
  "company.created": async (n, ctx) => {
    // Waits for a go file: used to kill the server while deliveries are pending or running.
    while (!existsSync(${JSON.stringify(join(dir, "go"))})) await new Promise((r) => setTimeout(r, 20));
    log("company.created", n, ctx, "ok");
  },
};
`,
  );
  return path;
}

interface Run {
  name: string;
  id: string;
  topic: string;
  attempt: number;
  outcome: string;
}
function runs(dir: string): Run[] {
  const file = join(dir, "runs.ndjson");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Run);
}

describe("intercom-bridge serve (end to end, SQLite)", () => {
  let dir: string;
  let server: ServeProcess;
  let storeUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ib-serve-"));
    storeUrl = `sqlite:${join(dir, "bridge.db")}`;
    server = await startServe(
      [
        "--store",
        storeUrl,
        "--handlers",
        writeHandlers(dir),
        "--retry-base-ms",
        "50",
        "--max-attempts",
        "3",
        "--max-body-bytes",
        "65536",
        "--lease-ms",
        "1000",
      ],
      {},
      SECRET,
    );
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("status codes", () => {
    it("answers 200 {received:true} for a signed notification and 200 duplicate for its retry", async () => {
      const body = notification("conversation.user.replied");
      expect(await server.post(body)).toEqual({ status: 200, body: { received: true } });
      // Intercom's retry changes delivery_attempts: still the same notification.
      const retry = body.replace('"delivery_attempts":1', '"delivery_attempts":2');
      expect(await server.post(retry)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    });

    it("accepts every captured fixture exactly as Intercom sent it (fresh created_at aside)", async () => {
      for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith(".json"))) {
        const parsed = JSON.parse(readFileSync(join(FIXTURES, file), "utf8")) as Record<string, unknown>;
        parsed["created_at"] = Math.floor(Date.now() / 1000);
        if (parsed["id"] !== null) parsed["id"] = `notif_${randomUUID()}`;
        else parsed["data"] = { ...(parsed["data"] as object), nonce: randomUUID() };
        const res = await server.post(JSON.stringify(parsed));
        expect(res.status, file).toBe(200);
      }
    });

    it("refuses missing, invalid and wrong-length signatures with 401 and a JSON error", async () => {
      const body = notification("ping");
      const missing = await fetch(`${server.url}/webhooks/intercom`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(missing.status).toBe(401);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("IB_ERR_SIGNATURE_MISSING");
      const wrong = await server.post(body, { secret: "not-the-secret" });
      expect(wrong).toMatchObject({ status: 401, body: { error: { code: "IB_ERR_SIGNATURE_INVALID" } } });
      const short = await server.post(body, { headers: { "x-hub-signature": "sha1=abc" } });
      expect(short.status).toBe(401);
    });

    it("answers 400 for bodies that are not JSON or not notifications, 400 stale, 413 too large, 415 wrong type, 405 GET, 200 HEAD", async () => {
      expect((await server.post("{not json")).status).toBe(400);
      expect(await server.post(JSON.stringify({ hello: "world" }))).toMatchObject({
        status: 400,
        body: { error: { code: "IB_ERR_PAYLOAD_INVALID" } },
      });
      const old = JSON.parse(notification("conversation.user.replied")) as Record<string, unknown>;
      old["created_at"] = Math.floor(Date.now() / 1000) - 8 * 86_400;
      const stale = await server.post(JSON.stringify(old));
      expect(stale.status).toBe(400);
      expect(JSON.stringify(stale.body)).toMatch(/dedupe-retention/);
      const big = JSON.parse(notification("conversation.user.replied")) as Record<string, unknown>;
      big["padding"] = "x".repeat(70_000);
      expect(await server.post(JSON.stringify(big))).toMatchObject({
        status: 413,
        body: { error: { code: "IB_ERR_BODY_TOO_LARGE" } },
      });
      const body = notification("ping");
      expect((await server.post(body, { headers: { "content-type": "text/plain" } })).status).toBe(415);
      const get = await fetch(`${server.url}/webhooks/intercom`);
      expect(get.status).toBe(405);
      expect(get.headers.get("allow")).toBe("POST, HEAD");
      const head = await fetch(`${server.url}/webhooks/intercom`, { method: "HEAD" });
      expect(head.status).toBe(200);
    });

    it("never includes a stack trace in an error body", async () => {
      const res = await server.post("{not json");
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
    });
  });

  describe("delivery", () => {
    it("runs each handler once per notification even when Intercom delivers it twice", async () => {
      const id = `notif_${randomUUID()}`;
      const body = notification("conversation.admin.replied", { id });
      await Promise.all([server.post(body), server.post(body), server.post(body)]);
      await waitFor(() => runs(dir).some((r) => r.id === id), { timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 300));
      expect(runs(dir).filter((r) => r.id === id)).toHaveLength(1);
    });

    it("attempts a handler that fails twice then succeeds three times", async () => {
      const id = `notif_${randomUUID()}`;
      await server.post(notification("contact.user.created", { id }));
      await waitFor(() => runs(dir).some((r) => r.id === id && r.outcome === "ok"), { timeoutMs: 15_000 });
      expect(
        runs(dir)
          .filter((r) => r.id === id)
          .map((r) => [r.attempt, r.outcome]),
      ).toEqual([
        [1, "fail"],
        [2, "fail"],
        [3, "ok"],
      ]);
      const inspected = runCli(["inspect", id, "--store", storeUrl]);
      expect(inspected.code).toBe(0);
      expect(inspected.stdout).toMatch(/contact\.user\.created\s+done\s+attempts 3\/3/);
      expect(inspected.stdout).toMatch(/flaky: attempt 1/);
    });

    it("dead-letters a handler that always fails, and `replay` runs it again", async () => {
      const id = `notif_${randomUUID()}`;
      await server.post(notification("ticket.created", { id }));
      await waitFor(
        () => {
          const r = runCli(["deliveries", "list", "--state", "dead", "--json", "--store", storeUrl]);
          return (JSON.parse(r.stdout) as { items: Array<{ notificationId: string }> }).items.some(
            (j) => j.notificationId === id,
          );
        },
        { timeoutMs: 20_000, intervalMs: 300 },
      );
      expect(runs(dir).filter((r) => r.id === id)).toHaveLength(3);
      writeFileSync(join(dir, "ticket-fixed"), "");
      const replay = runCli(["replay", id, "--store", storeUrl]);
      expect(replay.code).toBe(0);
      expect(replay.stdout).toMatch(/Requeued 1 delivery/);
      await waitFor(() => runs(dir).some((r) => r.id === id && r.outcome === "ok"), { timeoutMs: 10_000 });
    });

    it("exposes Prometheus metrics and readiness", async () => {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(
        /intercom_bridge_notifications_received_total\{topic="conversation.user.replied",outcome="accepted"\} \d+/,
      );
      // Duplicates and refusals are outcomes of the one received counter, not counters of their own.
      expect(metrics).toMatch(
        /intercom_bridge_notifications_received_total\{topic="[^"]+",outcome="duplicate"\} [1-9]/,
      );
      expect(metrics).toMatch(
        /intercom_bridge_notifications_received_total\{topic="none",outcome="IB_ERR_SIGNATURE_INVALID"\} [1-9]/,
      );
      expect(metrics).not.toMatch(/intercom_bridge_duplicates_total|intercom_bridge_signature_failures_total/);
      // Node.js process metrics under their standard names, as stock dashboards expect them.
      expect(metrics).toMatch(/^process_cpu_seconds_total \d/m);
      expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
      expect(metrics).not.toMatch(/intercom_bridge_process_/);
      expect(metrics).toMatch(/^intercom_bridge_store_enqueue_seconds_count [1-9]/m);
      // The dead-letter test above left one dead delivery of its ticket.created handler.
      expect(metrics).toMatch(/^intercom_bridge_dead_letters_total\{queue="inbound",target="ticket\.created"\} [1-9]/m);
      expect(metrics).toMatch(/intercom_bridge_deliveries\{queue="inbound",state="done"\} [1-9]/);
      expect(metrics).toMatch(/intercom_bridge_handler_duration_seconds_bucket/);
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
    });
  });
});

describe("intercom-bridge serve crash recovery", () => {
  it("processes every acknowledged notification after kill -9 and a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ib-crash-"));
    const storeUrl = `sqlite:${join(dir, "bridge.db")}`;
    const handlers = writeHandlers(dir);
    const flags = ["--store", storeUrl, "--handlers", handlers, "--lease-ms", "500", "--retry-base-ms", "50"];
    const first = await startServe(flags, {}, SECRET);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const id = `notif_${randomUUID()}`;
      const res = await first.post(notification("company.created", { id }));
      expect(res.status).toBe(200);
      ids.push(id);
    }
    // Handlers are blocked on the go file: some deliveries are running, the rest pending. Crash now.
    await first.kill9();
    expect(runs(dir)).toHaveLength(0);
    appendFileSync(join(dir, "go"), "");
    const second = await startServe(flags, {}, SECRET);
    try {
      await waitFor(() => new Set(runs(dir).map((r) => r.id)).size === ids.length, {
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      expect(new Set(runs(dir).map((r) => r.id))).toEqual(new Set(ids));
    } finally {
      await second.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers 503 when the store cannot commit in time, and exits 0 on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ib-locked-"));
    const dbPath = join(dir, "bridge.db");
    const server = await startServe(["--store", `sqlite:${dbPath}`], {}, SECRET);
    const blocker = new Database(dbPath);
    try {
      blocker.exec("BEGIN EXCLUSIVE");
      const res = await server.post(notification("conversation.user.replied"));
      expect(res).toMatchObject({ status: 503, body: { error: { code: "IB_ERR_STORE_UNAVAILABLE" } } });
    } finally {
      blocker.exec("ROLLBACK");
      blocker.close();
    }
    expect((await server.post(notification("conversation.user.replied"))).status).toBe(200);
    expect(await server.stop()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("serve without INTERCOM_BRIDGE_ADMIN_TOKEN", () => {
  it("generates a 0600 token file, prints it and the dashboard URL once, and reuses it silently on restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ib-admin-token-"));
    const args = ["--store", "memory:", "--data-dir", dir];
    const env = { INTERCOM_BRIDGE_ADMIN_TOKEN: "" };
    try {
      const first = await startServe(args, env, SECRET);
      let token: string;
      try {
        const file = join(dir, "admin-token");
        expect(statSync(file).mode & 0o777).toBe(0o600);
        token = readFileSync(file, "utf8").trim();
        expect(token.length).toBeGreaterThanOrEqual(32);
        // The URL is printed after listen(); wait for it rather than racing the health check.
        await waitFor(() => first.output().includes("Dashboard: "), { timeoutMs: 5_000 });
        const out = first.output();
        expect(out.split(`Dashboard: ${first.url}/dashboard/`)).toHaveLength(2);
        expect(out.split(token)).toHaveLength(2);
        const session = await fetch(`${first.url}/api/session`, { headers: { authorization: `Bearer ${token}` } });
        expect(session.status).toBe(200);
      } finally {
        await first.stop();
      }
      const second = await startServe(args, env, SECRET);
      try {
        await new Promise((r) => setTimeout(r, 300));
        const out = second.output();
        expect(out).not.toContain(token);
        expect(out).not.toContain("Dashboard: ");
        expect(readFileSync(join(dir, "admin-token"), "utf8").trim()).toBe(token);
        const session = await fetch(`${second.url}/api/session`, { headers: { authorization: `Bearer ${token}` } });
        expect(session.status).toBe(200);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("serve request logs", () => {
  /** The `incoming request` lines serve logged, as [level, method, url]. */
  function requestLines(output: string): [number, string, string][] {
    return output
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level: number; msg: string; req?: { method: string; url: string } })
      .filter((l) => l.msg === "incoming request" && l.req)
      .map((l) => [l.level, l.req!.method, l.req!.url]);
  }

  it("logs dashboard reads at debug and everything else at info", async () => {
    const auth = { authorization: "Bearer test-admin-token" };
    const run = async (level: string): Promise<[number, string, string][]> => {
      const server = await startServe(["--store", "memory:", "--log-level", level], {}, SECRET);
      try {
        await fetch(`${server.url}/api/overview`, { headers: auth });
        await fetch(`${server.url}/dashboard/app.js`);
        await fetch(`${server.url}/api/dead-letters/replay`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: "{}",
        });
        await fetch(`${server.url}/readyz`);
        await waitFor(() => requestLines(server.output()).some(([, , url]) => url === "/readyz"), {
          timeoutMs: 5_000,
        });
        return requestLines(server.output()).filter(([, , url]) => url !== "/healthz");
      } finally {
        await server.stop();
      }
    };
    expect(await run("info")).toEqual([
      [30, "POST", "/api/dead-letters/replay"],
      [30, "GET", "/readyz"],
    ]);
    expect(await run("debug")).toEqual([
      [20, "GET", "/api/overview"],
      [20, "GET", "/dashboard/app.js"],
      [30, "POST", "/api/dead-letters/replay"],
      [30, "GET", "/readyz"],
    ]);
  }, 60_000);
});

describe("README quickstart: serve with no handlers, then simulate", () => {
  it("delivers every simulated notification to the built-in log handler, visible in deliveries list and the logs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ib-quickstart-"));
    const storeUrl = `sqlite:${join(dir, "bridge.db")}`;
    const server = await startServe(["--store", storeUrl, "--log-level", "info"], {}, SECRET);
    try {
      const sim = runCli([
        "simulate",
        "--url",
        `${server.url}/webhooks/intercom`,
        "--secret",
        SECRET,
        "--topic",
        "ping",
        "--topic",
        "contact.user.created",
        "--count",
        "4",
      ]);
      expect(sim.code, sim.stderr).toBe(0);
      expect(sim.stdout).toMatch(/200\s+4/);
      await waitFor(
        () => {
          const list = runCli(["deliveries", "list", "--state", "done", "--json", "--store", storeUrl]);
          const items = (JSON.parse(list.stdout) as { items: Array<{ target: string; topic: string }> }).items;
          return items.length === 4 && items.every((j) => j.target === "log");
        },
        { timeoutMs: 15_000, intervalMs: 300 },
      );
      await waitFor(() => (server.output().match(/"msg":"notification received"/g) ?? []).length === 4, {
        timeoutMs: 5_000,
      });
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a --handlers module and topics outside the catalogue", () => {
  it('gives "*" and its alias "**" every topic, unknown ones included', async () => {
    const dir = mkdtempSync(join(tmpdir(), "ib-serve-any-"));
    const log = join(dir, "runs.ndjson");
    writeFileSync(
      join(dir, "handlers.mjs"),
      `import { appendFileSync } from "node:fs";
export default {
  "*": async (n) => appendFileSync(${JSON.stringify(log)}, JSON.stringify({ key: "*", topic: n.topic }) + "\\n"),
  "**": async (n) => appendFileSync(${JSON.stringify(log)}, JSON.stringify({ key: "**", topic: n.topic }) + "\\n"),
};
`,
    );
    const server = await startServe(
      ["--store", `sqlite:${join(dir, "bridge.db")}`, "--handlers", join(dir, "handlers.mjs")],
      {},
      SECRET,
    );
    try {
      expect((await server.post(notification("ticket.created"))).status).toBe(200);
      expect((await server.post(notification("ticket.teleported"))).status).toBe(200);
      const seen = async (): Promise<string[]> =>
        existsSync(log)
          ? readFileSync(log, "utf8")
              .trim()
              .split("\n")
              .map((l) => {
                const r = JSON.parse(l) as { key: string; topic: string };
                return `${r.key} ${r.topic}`;
              })
              .sort()
          : [];
      await waitFor(async () => (await seen()).length === 4, { timeoutMs: 10_000 });
      await sleep(300); // nothing more arrives
      expect(await seen()).toEqual([
        "* ticket.created",
        "* ticket.teleported",
        "** ticket.created",
        "** ticket.teleported",
      ]);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("README quickstart: the handlers.mjs module", () => {
  it("runs as written under serve --handlers and logs each conversation reply", async () => {
    const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
    const module = /```js\n(\/\/ handlers\.mjs\n[\s\S]*?)```/.exec(readme)?.[1];
    expect(module, "README has a ```js block starting with // handlers.mjs").toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), "ib-readme-handlers-"));
    writeFileSync(join(dir, "handlers.mjs"), module!);
    const server = await startServe(
      ["--store", `sqlite:${join(dir, "bridge.db")}`, "--handlers", join(dir, "handlers.mjs"), "--log-level", "info"],
      {},
      SECRET,
    );
    try {
      const itemId = `conv-${randomUUID()}`;
      expect((await server.post(notification("conversation.user.replied", { itemId }))).status).toBe(200);
      expect((await server.post(notification("contact.user.created"))).status).toBe(200);
      await waitFor(
        () =>
          server.output().includes(`"conversation":"${itemId}"`) &&
          server.output().includes('"msg":"customer replied"'),
        { timeoutMs: 10_000 },
      );
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
