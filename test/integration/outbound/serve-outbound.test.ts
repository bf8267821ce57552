/**
 * `intercom-bridge serve` with outbound sending on, against fake-intercom: the outbound flags reach the tracker and
 * `POST /api/events`, and a refused token shows in /readyz and /metrics without making the service unready.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startFakeIntercom, type FakeIntercom } from "../../../src/outbound/fake-intercom.js";
import { startServe, type ServeProcess } from "../../helpers/serve-process.js";
import { waitFor } from "../../helpers/wait-for.js";

const ADMIN = "test-admin-token";
let fake: FakeIntercom | undefined;
let serve: ServeProcess | undefined;

afterEach(async () => {
  await serve?.stop();
  serve = undefined;
  await fake?.close();
});

async function postEvents(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${serve!.url}/api/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("serve with outbound events", () => {
  it("reports a refused token in /readyz and /metrics, and applies the outbound flags", async () => {
    fake = await startFakeIntercom({ token: "the-right-token" });
    serve = await startServe(
      [
        "--store",
        "memory:",
        "--max-event-names",
        "1",
        "--metadata-overflow",
        "truncate",
        "--rate-limit-window-seconds",
        "2",
      ],
      { INTERCOM_ACCESS_TOKEN: "a-wrong-token", INTERCOM_API_BASE_URL: fake.url, INTERCOM_BRIDGE_ADMIN_TOKEN: ADMIN },
      "secret",
    );
    const first = await postEvents({ event_name: "placed-order", user_id: "u1", created_at: 1_700_000_000 });
    expect(first.status).toBe(202);
    expect(first.body.warnings).toBeUndefined();

    await waitFor(async () => (await (await fetch(`${serve!.url}/readyz`)).json()).checks?.outbound !== "ok", {
      timeoutMs: 15_000,
    });
    const ready = await fetch(`${serve.url}/readyz`);
    // Outbound problems do not take the webhook receiver out of the load balancer.
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      checks: { outbound: expect.stringMatching(/^paused: Intercom refused the access token/) },
    });
    const metrics = await (await fetch(`${serve.url}/metrics`)).text();
    expect(metrics).toMatch(/^intercom_bridge_outbound_paused\{reason="unauthorized"\} 1$/m);
    expect(metrics).toMatch(/^intercom_bridge_outbound_paused\{reason="rate-limited"\} 0$/m);
    // 10,000/min over 2-second windows (no X-RateLimit-Limit comes with a 401).
    expect(metrics).toMatch(/^intercom_bridge_outbound_budget_per_window 333$/m);
    expect(fake.stats().byStatus).toEqual({ "401": 1 });

    // --metadata-overflow truncate and --max-event-names 1 reach POST /api/events.
    const metadata = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i]));
    const second = await postEvents([{ event_name: "other-thing", user_id: "u2", created_at: 1, metadata }]);
    expect(second.status).toBe(202);
    const [item] = second.body.events as { warnings: { field: string; message: string }[] }[];
    expect(item!.warnings.map((w) => w.field).sort()).toEqual(["event_name", "metadata"]);
    expect(item!.warnings.find((w) => w.field === "event_name")?.message).toMatch(/number 2.*at most 1 active/);
    expect(serve.output()).not.toContain("a-wrong-token");
  }, 60_000);
});
