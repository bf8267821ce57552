/**
 * A Redis outage is visible to operators and load balancers: one warning when Redis becomes unreachable and one info
 * line when it is back (not a line per reconnect attempt), `/readyz` stays 200 while the spool accepts and reports
 * `reachable: false` with the spool size, and `/metrics` has the spool size. Starts its own persisting redis-server.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hasRedisServerBinary, IS_REDIS_REQUIRED, privateRedis, type PrivateRedis } from "../helpers/redis.js";
import { startServe, type ServeProcess } from "../helpers/serve-process.js";
import { waitFor } from "../helpers/wait-for.js";

const hasBinary = hasRedisServerBinary();
if (!hasBinary && IS_REDIS_REQUIRED) throw new Error("REQUIRE_REDIS=1 but redis-server is not installed");

function notification(id: string): string {
  const now = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    type: "notification_event",
    app_id: "vis",
    data: { type: "notification_event_data", item: { type: "contact", id: "c1" } },
    id,
    topic: "contact.user.created",
    delivery_attempts: 1,
    first_sent_at: now,
    created_at: now,
  });
}

async function readyz(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe.skipIf(!hasBinary)("a Redis outage seen from serve", () => {
  let dir: string;
  let redis: PrivateRedis;
  let server: ServeProcess | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "ib-redis-visible-"));
    redis = await privateRedis(dir);
    await redis.start();
  });

  afterEach(async () => {
    await server?.stop();
    server = undefined;
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("logs the outage once and the recovery once, and /readyz stays ready while the spool accepts", async () => {
    server = await startServe(
      ["--store", `${redis.url}/0`, "--data-dir", join(dir, "data"), "--log-level", "info"],
      {},
      "vis-secret",
    );
    expect(await readyz(server.url)).toMatchObject({
      status: 200,
      body: { ready: true, durable: true, reachable: true, spooled: 0 },
    });

    await redis.stop();
    for (let i = 0; i < 5; i++) expect((await server.post(notification(`notif_vis_${i}`))).status).toBe(200);
    const during = await readyz(server.url);
    expect(during).toMatchObject({ status: 200, body: { ready: true, reachable: false } });
    expect(during.body.spooled).toBe(5);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^intercom_bridge_spooled_notifications 5$/m);
    // Several reconnect attempts fail meanwhile; the outage is still one line.
    await new Promise((r) => setTimeout(r, 2_500));

    await redis.start();
    await waitFor(async () => (await readyz(server!.url)).body.spooled === 0, { timeoutMs: 20_000 });
    expect(await readyz(server.url)).toMatchObject({ status: 200, body: { reachable: true, durable: true } });
    const out = server.output();
    expect(count(out, "redis is unreachable")).toBe(1);
    expect(count(out, "redis is reachable again")).toBe(1);
    expect(out).toContain("moved every spooled enqueue into redis");
  }, 90_000);
});
