/**
 * Gap recovery after downtime, with real `serve` processes on one SQLite store: serve stops, items change in
 * Intercom meanwhile, serve restarts with --reconcile-min-gap 1s and its handlers see exactly the items updated
 * during the downtime; /metrics and the dashboard overview report it. With `off`, nothing is recovered.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startFakeIntercom } from "../../../src/outbound/fake-intercom.js";
import { startServe } from "../../helpers/serve-process.js";
import { useGapFixtures } from "../../helpers/reconcile-fixture.js";
import { waitFor } from "../../helpers/wait-for.js";

const SECRET = "downtime-secret";
const f = useGapFixtures();

function setup(): { flags: string[]; env: Record<string, string>; runs: () => string[] } {
  f.dir = mkdtempSync(join(tmpdir(), "ib-downtime-"));
  const log = join(f.dir, "runs.log");
  writeFileSync(
    join(f.dir, "handlers.mjs"),
    `import { appendFileSync } from "node:fs";
export default {
  "reconcile.*": async (n) => appendFileSync(${JSON.stringify(log)}, n.topic + " " + n.data.item.id + "\\n"),
};
`,
  );
  return {
    flags: ["--store", `sqlite:${join(f.dir, "bridge.db")}`, "--handlers", join(f.dir, "handlers.mjs")],
    env: { INTERCOM_ACCESS_TOKEN: "read-token", INTERCOM_API_BASE_URL: f.fake!.url },
    runs: () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : []),
  };
}

describe("serve: gap recovery after downtime", () => {
  it("recovers exactly the items updated while no instance was alive", async () => {
    f.fake = await startFakeIntercom({ token: "read-token", appId: "app_down" });
    // Changed long before: outside any window.
    const now = Math.floor(Date.now() / 1000);
    f.fake.workspace.upsert("conversations", [{ updated_at: now - 3_600 }, { updated_at: now - 1_800 }]);
    const { flags, env, runs } = setup();
    f.serve = await startServe([...flags, "--reconcile-min-gap", "1s"], env, SECRET);
    await f.serve.stop();

    // Down: changes Intercom cannot deliver.
    await new Promise((r) => setTimeout(r, 1_500));
    const changed = [
      ...f.fake.workspace.upsert("conversations", [{}, {}, {}]).map((i) => `reconcile.conversation ${i.id}`),
      ...f.fake.workspace.upsert("contacts", [{}, {}]).map((i) => `reconcile.contact ${i.id}`),
      ...f.fake.workspace.upsert("tickets", [{}]).map((i) => `reconcile.ticket ${i.id}`),
    ];

    f.serve = await startServe([...flags, "--reconcile-min-gap", "1s"], env, SECRET);
    await waitFor(() => runs().length >= changed.length, { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
    expect(runs().sort()).toEqual(changed.sort());

    const metrics = await (await fetch(`${f.serve.url}/metrics`)).text();
    expect(metrics).toMatch(/intercom_bridge_reconcile_runs_total\{outcome="done"\} 1/);
    expect(metrics).toMatch(
      /intercom_bridge_synthetic_notifications_total\{topic="reconcile\.conversation",outcome="accepted"\} 3/,
    );
    expect(metrics).toMatch(/intercom_bridge_downtime_gap_seconds [1-9]/);
    const overview = (await (
      await fetch(`${f.serve.url}/api/overview`, { headers: { authorization: "Bearer test-admin-token" } })
    ).json()) as { reconcile: { state: string; report: { counts: Record<string, { synthesized: number }> } } };
    expect(overview.reconcile.state).toBe("done");
    expect(overview.reconcile.report.counts).toMatchObject({
      conversations: { synthesized: 3 },
      contacts: { synthesized: 2 },
      tickets: { synthesized: 1 },
    });
  }, 120_000);

  it("recovers nothing with --reconcile-min-gap off, or when the gap is shorter", async () => {
    f.fake = await startFakeIntercom({ token: "read-token", appId: "app_down" });
    const { flags, env, runs } = setup();
    f.serve = await startServe([...flags, "--reconcile-min-gap", "off"], env, SECRET);
    await f.serve.stop();
    await new Promise((r) => setTimeout(r, 1_500));
    f.fake.workspace.upsert("tickets", [{}, {}]);
    f.serve = await startServe([...flags], { ...env, INTERCOM_BRIDGE_RECONCILE_MIN_GAP: "off" }, SECRET);
    await f.serve.stop();
    f.serve = await startServe([...flags, "--reconcile-min-gap", "10m"], env, SECRET);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(runs()).toEqual([]);
    expect(f.fake.workspace.stats().me).toBe(0);
  }, 120_000);
});
