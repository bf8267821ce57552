import { createServer, type Server } from "node:http";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySignature } from "../../src/core/signature.js";
import { runCli, startServe, type ServeProcess } from "../helpers/serve-process.js";
import { waitFor } from "../helpers/wait-for.js";

const SECRET = "forward-client-secret";
const FORWARD_SECRET = "internal-forward-secret";

interface Received {
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
  url: string;
}

describe("serve --forward", () => {
  let dir: string;
  let server: ServeProcess;
  let internal: Server;
  const received: Received[] = [];
  /** The internal endpoint answers 500 to the first delivery of each notification, then 204. */
  const failedOnce = new Set<string>();
  let port: number;
  let storeUrl: string;

  beforeAll(async () => {
    internal = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        received.push({ body, headers: req.headers, url: req.url ?? "" });
        const id = (JSON.parse(body.toString()) as { id: string }).id;
        if (!failedOnce.has(id)) {
          failedOnce.add(id);
          res.writeHead(500).end("busy");
        } else res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => internal.listen(0, "127.0.0.1", r));
    port = (internal.address() as { port: number }).port;
    dir = mkdtempSync(join(tmpdir(), "ib-forward-"));
    storeUrl = `sqlite:${join(dir, "bridge.db")}`;
    server = await startServe(
      [
        "--store",
        storeUrl,
        "--forward",
        `conversation.*=http://127.0.0.1:${port}/intercom`,
        "--forward",
        `ticket.*=http://fwuser:fw-pass-123@127.0.0.1:${port}/tickets?token=tok-secret-789`,
        "--retry-base-ms",
        "50",
      ],
      { INTERCOM_BRIDGE_FORWARD_SECRET: FORWARD_SECRET },
      SECRET,
    );
  });
  afterAll(async () => {
    await server?.stop();
    internal?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("POSTs the original bytes, signed with the forward secret, and retries a non-2xx answer", async () => {
    const id = `notif_${randomUUID()}`;
    // Unusual spacing and key order: the forward must carry these exact bytes, not a re-serialisation.
    const body = `{"type":"notification_event",  "topic":"conversation.user.replied","app_id":"fw","id":"${id}","created_at":${Math.floor(Date.now() / 1000)},"data":{"type":"notification_event_data","item":{"type":"conversation","id":"c1"}}}`;
    expect((await server.post(body)).status).toBe(200);
    await waitFor(() => received.filter((r) => r.body.toString() === body).length === 2, { timeoutMs: 10_000 });
    const deliveries = received.filter((r) => r.body.toString() === body);
    for (const d of deliveries) {
      expect(verifySignature(d.body, d.headers["x-hub-signature"], FORWARD_SECRET)).toBe(true);
      expect(verifySignature(d.body, d.headers["x-hub-signature"], SECRET)).toBe(false);
      expect(d.headers["content-type"]).toBe("application/json");
    }
    expect(deliveries.map((d) => d.headers["x-intercom-bridge-attempt"])).toEqual(["1", "2"]);
  });

  it("stores, forwards and replays a body that is not valid UTF-8 byte for byte, and shows it decoded", async () => {
    const id = `notif_${randomUUID()}`;
    const head = `{"type":"notification_event","topic":"conversation.user.replied","app_id":"fw","id":"${id}","created_at":${Math.floor(Date.now() / 1000)},"data":{"type":"notification_event_data","item":{"type":"conversation","id":"c2","note":"`;
    // A lone continuation byte, an overlong encoding and a truncated sequence: what Intercom signed, not text.
    const body = Buffer.concat([Buffer.from(head), Buffer.from([0x80, 0xc0, 0xaf, 0xe2, 0x82]), Buffer.from('"}}}')]);
    expect((await server.post(body)).status).toBe(200);
    const exact = () => received.filter((r) => r.body.equals(body));
    await waitFor(() => exact().length === 2, { timeoutMs: 10_000 });
    for (const d of exact()) expect(verifySignature(d.body, d.headers["x-hub-signature"], FORWARD_SECRET)).toBe(true);
    expect(received.filter((r) => r.body.includes(Buffer.from(id)) && !r.body.equals(body))).toEqual([]);

    // A replay sends the same bytes again.
    const replay = runCli(["replay", id, "--store", `sqlite:${join(dir, "bridge.db")}`]);
    expect(replay.code, replay.stderr).toBe(0);
    await waitFor(() => exact().length === 3, { timeoutMs: 10_000 });

    // Operators see it decoded, the invalid bytes as U+FFFD.
    const shown = runCli(["inspect", id, "--store", `sqlite:${join(dir, "bridge.db")}`]);
    expect(shown.code, shown.stderr).toBe(0);
    const note = (JSON.parse(body.toString("utf8")) as { data: { item: { note: string } } }).data.item.note;
    expect(note).toBe("\uFFFD".repeat(4));
    expect(shown.stdout).toContain(`"note": "${note}"`);
    expect(shown.stdout).toContain("not valid UTF-8");
  });

  it("does not forward topics outside the pattern", async () => {
    const before = received.length;
    const id = `notif_${randomUUID()}`;
    const body = JSON.stringify({
      type: "notification_event",
      topic: "contact.user.created",
      app_id: "fw",
      id,
      created_at: Math.floor(Date.now() / 1000),
      data: { type: "notification_event_data", item: { type: "contact", id: "u1" } },
    });
    expect((await server.post(body)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(received.length).toBe(before);
  });

  it("names a target without the URL's credentials or query, which still reach the target", async () => {
    const id = `notif_${randomUUID()}`;
    const body = JSON.stringify({
      type: "notification_event",
      topic: "ticket.created",
      app_id: "fw",
      id,
      created_at: Math.floor(Date.now() / 1000),
      data: { type: "notification_event_data", item: { type: "ticket", id: "t1" } },
    });
    expect((await server.post(body)).status).toBe(200);
    await waitFor(() => received.filter((r) => r.body.toString() === body).length === 2, { timeoutMs: 10_000 });
    const first = received.find((r) => r.body.toString() === body)!;
    expect(first.url).toBe("/tickets?token=tok-secret-789");
    expect(first.headers["authorization"]).toBe(`Basic ${Buffer.from("fwuser:fw-pass-123").toString("base64")}`);
    const name = `forward:http://127.0.0.1:${port}/tickets`;
    // The failed first attempt is logged and recorded under the name alone.
    await waitFor(() => server.output().includes(name), { timeoutMs: 5_000 });
    const list = runCli(["deliveries", "list", "--store", storeUrl, "--json"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(name);
    for (const text of [server.output(), list.stdout]) {
      expect(text).not.toMatch(/tok-secret-789|fw-pass-123|fwuser/);
    }
  });
});
