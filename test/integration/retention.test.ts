import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createMemoryStore } from "../../src/store/memory/memory-store.js";
import { startRetention } from "../../src/store/retention.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { makeDelivery, makeRecord } from "../../src/testing/store-conformance.js";
import { runCli, startServe } from "../helpers/serve-process.js";
import { sleep, waitFor } from "../helpers/wait-for.js";

const dir = mkdtempSync(join(tmpdir(), "ib-retention-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Enqueues `finished` records without deliveries (finished at once) and `open` ones with a pending delivery. */
async function fill(store: Store, finished: number, open: number): Promise<{ finished: string[]; open: string[] }> {
  const ids = { finished: [] as string[], open: [] as string[] };
  for (let i = 0; i < finished + open; i++) {
    const r = await store.enqueue({
      dedupeKey: `k${i}-${Math.random()}`,
      dedupeTtlMs: 60_000,
      record: makeRecord(),
      deliveries: i < finished ? [] : [makeDelivery("later")],
    });
    if (r.status === "enqueued") (i < finished ? ids.finished : ids.open).push(r.recordId);
  }
  return ids;
}

describe("startRetention", () => {
  it("deletes expired finished records in chunks, reports the count, and keeps unfinished ones", async () => {
    const store = createMemoryStore();
    const ids = await fill(store, 5, 1);
    const purged: number[] = [];
    // One hour from now, with a one-minute retention, everything is expired.
    const clock = { now: () => Date.now() + 3_600_000, sleep: (ms: number) => sleep(ms) };
    const retention = startRetention({
      store,
      retentionMs: 60_000,
      chunk: 2,
      clock,
      onPurged: (n) => purged.push(n),
    });
    expect(await retention.runOnce()).toBe(5);
    expect(purged).toEqual([5]);
    for (const id of ids.finished) expect(await store.getRecord(id)).toBeUndefined();
    expect(await store.getRecord(ids.open[0]!)).toBeDefined();
    expect(await retention.runOnce()).toBe(0);
    expect(purged).toEqual([5]);
    await retention.stop();
    await store.close();
  });

  it("spreads a large backlog over runs with maxPerRun, and deletes nothing younger than the retention", async () => {
    const store = createMemoryStore();
    await fill(store, 5, 0);
    const young = startRetention({ store, retentionMs: 3_600_000 });
    expect(await young.runOnce()).toBe(0);
    await young.stop();
    const clock = { now: () => Date.now() + 3_600_000, sleep: (ms: number) => sleep(ms) };
    const retention = startRetention({ store, retentionMs: 60_000, chunk: 2, maxPerRun: 3, clock });
    expect(await retention.runOnce()).toBe(3);
    expect(await retention.runOnce()).toBe(2);
    await retention.stop();
    await store.close();
  });

  it("refuses a retention that is not a positive duration", () => {
    const store = createMemoryStore();
    expect(() => startRetention({ store, retentionMs: 0 })).toThrow(/retentionMs must be > 0/);
    expect(() => startRetention({ store, retentionMs: 1_000, chunk: 0 })).toThrow(/chunk/);
  });
});

describe("intercom-bridge purge and serve --retention (SQLite file)", () => {
  it("purge deletes finished records older than --older-than and keeps the rest", async () => {
    const path = join(dir, "purge.db");
    const store = createSqliteStore({ path });
    const ids = await fill(store, 3, 1);
    await store.close();
    const storeUrl = `sqlite:${path}`;

    const young = runCli(["purge", "--older-than", "1h", "--store", storeUrl]);
    expect(young.code).toBe(0);
    expect(young.stdout).toMatch(/^Deleted 0 records received before /);
    const all = runCli(["purge", "--older-than", "0", "--store", storeUrl]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^Deleted 3 records received before .* with all deliveries done or dead/);
    const missing = runCli(["purge", "--store", storeUrl]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/--older-than/);

    const check = createSqliteStore({ path });
    for (const id of ids.finished) expect(await check.getRecord(id)).toBeUndefined();
    expect((await check.getRecord(ids.open[0]!))?.jobs.map((j) => j.state)).toEqual(["pending"]);
    await check.close();
  });

  it("serve deletes what expired while it was down as soon as it starts, and counts it in /metrics", async () => {
    const path = join(dir, "serve.db");
    const store = createSqliteStore({ path });
    const ids = await fill(store, 4, 0);
    await store.close();
    await sleep(1_100);
    const server = await startServe(
      ["--store", `sqlite:${path}`, "--retention", "1s", "--data-dir", join(dir, "serve-data")],
      {},
      "retention-secret",
    );
    try {
      await waitFor(
        async () =>
          /intercom_bridge_records_purged_total 4\b/.test(await (await fetch(`${server.url}/metrics`)).text()),
        { timeoutMs: 10_000 },
      );
      // The dashboard's overview says how long history is kept and what was purged.
      const overview = await fetch(`${server.url}/api/overview`, {
        headers: { authorization: "Bearer test-admin-token" },
      });
      expect(((await overview.json()) as { retention: unknown }).retention).toEqual({
        retentionMs: 1_000,
        purgedSinceStart: 4,
      });
    } finally {
      await server.stop();
    }
    const check = createSqliteStore({ path });
    for (const id of ids.finished) expect(await check.getRecord(id)).toBeUndefined();
    await check.close();
  });
});
