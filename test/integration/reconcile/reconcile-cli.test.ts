/**
 * `intercom-bridge reconcile` end to end: a real `serve` (SQLite, a handlers module) received half of the changes as
 * signed webhooks; the CLI, run as its own process against fake-intercom, stores the other half as reconcile.*
 * notifications, serve's workers deliver each once, a second run stores none, and a refused token exits 1 with a
 * message.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startFakeIntercom } from "../../../src/outbound/fake-intercom.js";
import type { SearchResource } from "../../../src/reconcile/resources.js";
import { CLI, ROOT, startServe } from "../../helpers/serve-process.js";
import { realNotification, seedRecentItems, useGapFixtures } from "../../helpers/reconcile-fixture.js";
import { waitFor } from "../../helpers/wait-for.js";

const SECRET = "cli-gap-secret";
const APP = "app_cli_gap";
const f = useGapFixtures();

/** Runs the CLI as a child process without blocking this one (fake-intercom answers from here). */
function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A handlers module: real topics go to "sync", synthetic ones to "resync"; each run appends a line. */
function writeHandlers(d: string): string {
  const path = join(d, "handlers.mjs");
  writeFileSync(
    path,
    `import { appendFileSync } from "node:fs";
const out = ${JSON.stringify(join(d, "runs.log"))};
const note = (name) => async (n) => appendFileSync(out, name + " " + n.topic + " " + n.data.item.id + "\\n");
export default {
  "conversation.*": note("sync"),
  "contact.*": note("sync"),
  "ticket.*": note("sync"),
  "reconcile.*": note("resync"),
};
`,
  );
  return path;
}

async function firstRealNotificationId(store: string): Promise<string | undefined> {
  const list = await runCli(
    ["deliveries", "list", "--store", store, "--topic", "ticket.*", "--json", "--limit", "1"],
    {},
  );
  return (JSON.parse(list.stdout) as { items: { notificationId: string }[] }).items[0]?.notificationId;
}

const runs = (d: string): string[] =>
  existsSync(join(d, "runs.log")) ? readFileSync(join(d, "runs.log"), "utf8").trim().split("\n").filter(Boolean) : [];

describe("intercom-bridge reconcile", () => {
  it("stores exactly the undelivered half, serve delivers each once, and a second run stores none", async () => {
    f.dir = mkdtempSync(join(tmpdir(), "ib-gap-cli-"));
    f.fake = await startFakeIntercom({ token: "read-token", appId: APP });
    const items = seedRecentItems(f.fake, { conversations: 300, contacts: 200, tickets: 100 });
    const store = `sqlite:${join(f.dir, "bridge.db")}`;
    const handlers = writeHandlers(f.dir);
    f.serve = await startServe(["--store", store, "--handlers", handlers, "--concurrency", "32"], {}, SECRET);
    const missed = new Set<string>();
    for (const [resource, list] of Object.entries(items) as [SearchResource, typeof items.tickets][]) {
      for (const [i, item] of list.entries()) {
        if (i % 2 === 1) missed.add(`${resource} ${item.id}`);
        else expect((await f.serve.post(realNotification(resource, item, APP))).status).toBe(200);
      }
    }
    await waitFor(() => runs(f.dir!).length === 300, { timeoutMs: 60_000 });

    const env = {
      INTERCOM_ACCESS_TOKEN: "read-token",
      INTERCOM_API_BASE_URL: f.fake.url,
      INTERCOM_BRIDGE_STORE: store,
      INTERCOM_BRIDGE_HANDLERS: handlers,
    };
    const first = await runCli(["reconcile", "--since", "2h", "--per-page", "70"], env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/conversations\s+300\s+150\s+150/);
    expect(first.stdout).toMatch(/contacts\s+200\s+100\s+100/);
    expect(first.stdout).toMatch(/tickets\s+100\s+50\s+50/);
    // 70 per page: 5 + 3 + 2 pages.
    expect(f.fake.workspace.stats().searches).toEqual({ conversations: 5, contacts: 3, tickets: 2 });

    await waitFor(() => runs(f.dir!).length === 600, { timeoutMs: 60_000 });
    const resynced = runs(f.dir).filter((l) => l.startsWith("resync "));
    expect(resynced).toHaveLength(300);
    const byType = {
      "reconcile.conversation": "conversations",
      "reconcile.contact": "contacts",
      "reconcile.ticket": "tickets",
    };
    expect(
      new Set(resynced.map((l) => `${byType[l.split(" ")[1] as keyof typeof byType]} ${l.split(" ")[2]}`)),
    ).toEqual(missed);
    expect(new Set(runs(f.dir)).size).toBe(600);

    const ticket = items.tickets[1]!;
    const inspected = await runCli(["inspect", `notif_reconcile-ticket-${ticket.id}-${ticket.updated_at}`], env);
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toMatch(/topic\s+reconcile\.ticket\n\s+synthetic\s+yes: stored by reconcile/);
    const realOne = await runCli(["inspect", "--json", (await firstRealNotificationId(store))!], env);
    expect((JSON.parse(realOne.stdout) as { synthetic: boolean }).synthetic).toBe(false);

    const second = await runCli(["reconcile", "--since", "2h", "--json"], env);
    expect(second.code).toBe(0);
    const report = JSON.parse(second.stdout) as {
      appId: string;
      counts: Record<string, { synthesized: number; alreadySeen: number }>;
    };
    expect(report.appId).toBe(APP);
    expect(Object.values(report.counts).map((c) => c.synthesized)).toEqual([0, 0, 0]);
    expect(Object.values(report.counts).map((c) => c.alreadySeen)).toEqual([300, 200, 100]);
    await new Promise((r) => setTimeout(r, 500));
    expect(runs(f.dir)).toHaveLength(600);
  }, 180_000);

  it("exits 1 when Intercom refuses the token and 2 without one, with clear messages, storing nothing", async () => {
    f.dir = mkdtempSync(join(tmpdir(), "ib-gap-cli-"));
    f.fake = await startFakeIntercom({ token: "the-real-token", appId: APP });
    seedRecentItems(f.fake, { tickets: 3 });
    const store = `sqlite:${join(f.dir, "bridge.db")}`;
    // Not a store serve made: refused before anything is asked or created.
    const noStore = await runCli(["reconcile", "--since", "1h", "--store", store], {
      INTERCOM_ACCESS_TOKEN: "an-old-token",
      INTERCOM_API_BASE_URL: f.fake.url,
    });
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toMatch(/no store at/);
    expect(f.fake.workspace.stats().me).toBe(0);
    f.serve = await startServe(["--store", store], {}, SECRET);
    await f.serve.stop();
    const r = await runCli(["reconcile", "--since", "1h", "--store", store], {
      INTERCOM_ACCESS_TOKEN: "an-old-token",
      INTERCOM_API_BASE_URL: f.fake.url,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Intercom refused the access token.*401.*INTERCOM_ACCESS_TOKEN/);
    expect(r.stderr).not.toContain("an-old-token");
    expect(r.stdout).toBe("");
    const missing = await runCli(["reconcile", "--since", "1h", "--store", store], { INTERCOM_ACCESS_TOKEN: "" });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/INTERCOM_ACCESS_TOKEN is not set/);
    const list = await runCli(["deliveries", "list", "--store", store, "--json"], {});
    expect((JSON.parse(list.stdout) as { items: unknown[] }).items).toEqual([]);
  }, 60_000);
});
