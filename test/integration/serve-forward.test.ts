import { createServer, type Server } from "node:http";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySignature } from "../../src/core/signature.js";
import { startServe, type ServeProcess } from "../helpers/serve-process.js";
import { waitFor } from "../helpers/wait-for.js";

const SECRET = "forward-client-secret";
const FORWARD_SECRET = "internal-forward-secret";

interface Received {
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

describe("serve --forward", () => {
  let dir: string;
  let server: ServeProcess;
  let internal: Server;
  const received: Received[] = [];
  /** The internal endpoint answers 500 to the first delivery of each notification, then 204. */
  const failedOnce = new Set<string>();

  beforeAll(async () => {
    internal = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        received.push({ body, headers: req.headers });
        const id = (JSON.parse(body.toString()) as { id: string }).id;
        if (!failedOnce.has(id)) {
          failedOnce.add(id);
          res.writeHead(500).end("busy");
        } else res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => internal.listen(0, "127.0.0.1", r));
    const port = (internal.address() as { port: number }).port;
    dir = mkdtempSync(join(tmpdir(), "ib-forward-"));
    server = await startServe(
      [
        "--store",
        `sqlite:${join(dir, "bridge.db")}`,
        "--forward",
        `conversation.*=http://127.0.0.1:${port}/intercom`,
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
});
