import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import { runCli } from "../helpers/serve-process.js";

const dir = mkdtempSync(join(tmpdir(), "ib-cli-replay-"));
const path = join(dir, "store.db");
const storeUrl = `sqlite:${path}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Stores one notification with one delivery to `target`, as `serve` would have. */
async function seed(notificationId: string, target: string): Promise<string> {
  const store = createSqliteStore({ path, writerThread: false });
  try {
    const r = await store.enqueue({
      dedupeKey: notificationId,
      dedupeTtlMs: 60_000,
      record: {
        queue: "inbound",
        topic: "ticket.created",
        body: "{}",
        appId: "app1",
        notificationId,
        itemId: "t1",
        createdAt: 1,
      },
      deliveries: [{ target, retry: { maxAttempts: 1, backoff: { type: "fixed", delayMs: 10 } }, orderingKey: null }],
    });
    if (r.status !== "enqueued") throw new Error("not enqueued");
    return r.recordId;
  } finally {
    await store.close();
  }
}

async function targets(recordId: string): Promise<[string, string][]> {
  const store = createSqliteStore({ path, writerThread: false });
  try {
    return ((await store.getRecord(recordId))?.jobs ?? []).map((j) => [j.target, j.state]);
  } finally {
    await store.close();
  }
}

describe("intercom-bridge replay", () => {
  it("--to delivers a stored notification to a handler under its new name", async () => {
    const recordId = await seed("notif_rename", "old-name");
    const r = runCli(["replay", "notif_rename", "--to", "new-name", "--store", storeUrl]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Delivering notif_rename to "new-name" \(delivery \S+-1\)\.\n$/);
    expect(await targets(recordId)).toEqual([
      ["old-name", "pending"],
      ["new-name", "pending"],
    ]);
  });

  it("refuses --to a name the notification already has a delivery to, adding nothing", async () => {
    const recordId = await seed("notif_same", "same");
    const r = runCli(["replay", "notif_same", "--to", "same", "--store", storeUrl]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('notif_same already has a delivery to "same" (pending); replay it without --to');
    expect(await targets(recordId)).toEqual([["same", "pending"]]);
  });

  it("answers a replay of a notification whose deliveries are all queued with the dashboard's message", async () => {
    await seed("notif_busy", "h");
    const r = runCli(["replay", "notif_busy", "--store", storeUrl]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Every delivery of this notification is pending or running; replay it once they finish");
  });

  it("documents --to in --help", () => {
    const r = runCli(["replay", "--help"]);
    expect(r.stdout).toContain("--to <handler>");
  });
});
