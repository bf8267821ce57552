/**
 * Gap recovery against fake-intercom, in process: what was delivered counts as seen, the rest is synthesized once
 * through the receiver's pipeline (every handler sees it once), a second run synthesizes nothing, pages are
 * followed, a 429 is waited out, a refused token stops the run, and the outbox keeps its share of the budget.
 */
import { afterEach, describe, expect, it } from "vitest";
import { IntercomApiError } from "../../../src/core/errors.js";
import { createReceiver, type Receiver } from "../../../src/core/receiver.js";
import { sign } from "../../../src/core/signature.js";
import { startFakeIntercom, type FakeIntercom } from "../../../src/outbound/fake-intercom.js";
import { OUTBOX_LIMITER } from "../../../src/outbound/rate-limit.js";
import { createSearchPacer } from "../../../src/reconcile/pacer.js";
import { reconcile, type ReconcileOptions } from "../../../src/reconcile/reconcile.js";
import type { SearchResource } from "../../../src/reconcile/resources.js";
import { createSearchApi } from "../../../src/reconcile/search-api.js";
import { createMemoryStore } from "../../../src/store/memory/memory-store.js";
import { waitFor } from "../../helpers/wait-for.js";
import { realNotification, seedRecentItems } from "../../helpers/reconcile-fixture.js";

const SECRET = "gap-secret";
const APP = "app_gap";
let fake: FakeIntercom | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close(1_000);
  await fake?.close();
  receiver = undefined;
  fake = undefined;
});

function setup(): { receiver: Receiver; seen: Map<string, string[]> } {
  const r = createReceiver({ secrets: [SECRET], store: createMemoryStore(), concurrency: 32 });
  const seen = new Map<string, string[]>();
  const note = (handler: string, topic: string, id: string): void => {
    const key = `${handler} ${id}`;
    seen.set(key, [...(seen.get(key) ?? []), topic]);
  };
  r.on(["conversation.*", "contact.*", "ticket.*"], (n) => note("sync", n.topic, String(n.data.item.id)), {
    name: "sync",
  });
  r.on("reconcile.*", (n) => note("reconcile", n.topic, String(n.data.item.id)), { name: "resync" });
  r.onAny((n) => note("audit", n.topic, String((n.data.item as { id?: unknown }).id)), { name: "audit" });
  receiver = r;
  return { receiver: r, seen };
}

const options = (r: Receiver, extra: Partial<ReconcileOptions> = {}): ReconcileOptions => ({
  api: createSearchApi({ token: "tok", baseUrl: fake!.url }),
  store: r.store,
  receiver: r,
  sinceMs: Date.now() - 2 * 3_600_000,
  ...extra,
});

describe("reconcile", () => {
  it("synthesizes exactly the changes no webhook delivered, each handler sees each once, and a second run adds none", async () => {
    fake = await startFakeIntercom({ token: "tok", appId: APP });
    const items = seedRecentItems(fake, { conversations: 300, contacts: 200, tickets: 100 });
    const { receiver: r, seen } = setup();
    const missed = new Set<string>();
    for (const [resource, list] of Object.entries(items) as [SearchResource, typeof items.conversations][]) {
      for (const [i, item] of list.entries()) {
        if (i % 2 === 1) {
          missed.add(item.id);
          continue;
        }
        const body = realNotification(resource, item, APP);
        const res = await r.receive({ body, headers: { "x-hub-signature": sign(body, SECRET) } });
        expect(res.status).toBe("accepted");
      }
    }

    const first = await reconcile(options(r));
    expect(first.appId).toBe(APP);
    expect(first.counts).toEqual({
      conversations: { scanned: 300, alreadySeen: 150, synthesized: 150 },
      contacts: { scanned: 200, alreadySeen: 100, synthesized: 100 },
      tickets: { scanned: 100, alreadySeen: 50, synthesized: 50 },
    });
    // Default page size 150: 2 + 2 + 1 pages.
    expect(first.pages).toBe(5);

    r.start();
    await waitFor(() => [...seen.keys()].filter((k) => k.startsWith("audit ")).length === 600, { timeoutMs: 30_000 });
    const resynced = [...seen.entries()].filter(([k]) => k.startsWith("reconcile "));
    expect(new Set(resynced.map(([k]) => k.slice("reconcile ".length)))).toEqual(missed);
    for (const [key, topics] of seen) {
      expect(topics, key).toHaveLength(1);
      if (key.startsWith("reconcile ")) expect(topics[0]).toMatch(/^reconcile\.(conversation|contact|ticket)$/);
    }
    // The real-topic handler never sees a synthetic notification.
    expect([...seen.entries()].filter(([k]) => k.startsWith("sync ")).map(([k]) => k.slice(5))).toHaveLength(300);

    const second = await reconcile(options(r));
    expect(second.counts).toEqual({
      conversations: { scanned: 300, alreadySeen: 300, synthesized: 0 },
      contacts: { scanned: 200, alreadySeen: 200, synthesized: 0 },
      tickets: { scanned: 100, alreadySeen: 100, synthesized: 0 },
    });
    const stored = await r.store.listRecords({ topic: "reconcile.*", limit: 500 });
    expect(stored.items).toHaveLength(300);
  });

  it("counts a change made after the last delivered notification as unseen, and a dry run stores nothing", async () => {
    fake = await startFakeIntercom({ token: "tok", appId: APP });
    const items = seedRecentItems(fake, { tickets: 3 });
    const { receiver: r } = setup();
    for (const item of items.tickets) {
      const body = realNotification("tickets", item, APP);
      await r.receive({ body, headers: { "x-hub-signature": sign(body, SECRET) } });
    }
    fake.workspace.upsert("tickets", [{ id: items.tickets[0]!.id, title: "changed later" }]);
    const dry = await reconcile(options(r, { dryRun: true, resources: ["tickets"] }));
    expect(dry.counts).toEqual({ tickets: { scanned: 3, alreadySeen: 2, synthesized: 1 } });
    expect((await r.store.listRecords({ topic: "reconcile.*" })).items).toHaveLength(0);
    const real = await reconcile(options(r, { resources: ["tickets"] }));
    expect(real.counts.tickets).toEqual({ scanned: 3, alreadySeen: 2, synthesized: 1 });
    const [record] = (await r.store.listRecords({ topic: "reconcile.*" })).items;
    expect(record!.record).toMatchObject({ topic: "reconcile.ticket", itemId: items.tickets[0]!.id, appId: APP });
  });

  it("follows the cursor across many pages and keeps only the window", async () => {
    fake = await startFakeIntercom({ token: "tok", appId: APP });
    seedRecentItems(fake, { conversations: 95, contacts: 41 });
    // Outside the window: updated three hours ago (contacts search still returns them: whole days).
    const old = Math.floor(Date.now() / 1000) - 3 * 3600;
    fake.workspace.upsert("contacts", [{ updated_at: old }, { updated_at: old - 10 }]);
    const { receiver: r } = setup();
    const report = await reconcile(options(r, { perPage: 10, dryRun: true }));
    expect(report.counts.conversations).toEqual({ scanned: 95, alreadySeen: 0, synthesized: 95 });
    expect(report.counts.contacts).toEqual({ scanned: 41, alreadySeen: 0, synthesized: 41 });
    const searches = fake.workspace.stats().searches;
    expect(searches.conversations).toBe(10);
    expect(searches.contacts).toBe(5);
    expect(report.pages).toBe(10 + 5 + 1);
  });

  it("waits out a 429 in the middle and finishes", async () => {
    fake = await startFakeIntercom({ token: "tok", appId: APP, windowMs: 1_000 });
    seedRecentItems(fake, { conversations: 50 });
    fake.workspace.setSearchFaults({ skip: 2, failNext: 1, failStatus: 429 });
    const { receiver: r } = setup();
    const report = await reconcile(
      options(r, { perPage: 10, resources: ["conversations"], pacing: { rateLimitWindowMs: 1_000 } }),
    );
    expect(report.rateLimited).toBe(1);
    expect(report.counts.conversations).toEqual({ scanned: 50, alreadySeen: 0, synthesized: 50 });
    expect(fake.workspace.stats().searches.conversations).toBe(6);
  });

  it("stops with a clear message when Intercom refuses the token", async () => {
    fake = await startFakeIntercom({ token: "the-right-one", appId: APP });
    const { receiver: r } = setup();
    const api = createSearchApi({ token: "revoked-token-42", baseUrl: fake.url });
    const err = await reconcile(options(r, { api })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntercomApiError);
    expect((err as IntercomApiError).status).toBe(401);
    expect((err as Error).message).toMatch(/refused the access token.*INTERCOM_ACCESS_TOKEN/);
    expect((err as Error).message).not.toContain("revoked-token-42");
  });

  it("refuses a window further back than the dedupe retention, storing nothing", async () => {
    fake = await startFakeIntercom({ token: "tok", appId: APP });
    const { receiver: r } = setup();
    await expect(reconcile(options(r, { sinceMs: Date.now() - 8 * 86_400_000 }))).rejects.toThrow(/dedupe retention/);
    expect(fake.workspace.stats().me).toBe(0);
  });

  it("leaves the outbox the rest of every window", async () => {
    const store = createMemoryStore();
    // 600/min over 1 s windows: 10 per window, of which searches may take 5.
    const pacer = createSearchPacer({ store, rateLimitPerMinute: 600, rateLimitWindowMs: 1_000 });
    const sentAt: number[] = [];
    const ok = async () => {
      sentAt.push(Date.now());
      return { status: 200, body: {}, rateLimit: null, retryAfterMs: null };
    };
    // Start right after a window edge so the burst is not split by one.
    await new Promise((r) => setTimeout(r, 1_000 - (Date.now() % 1_000) + 60));
    await Promise.all(Array.from({ length: 5 }, () => pacer.run(ok)));
    const window = Math.floor(sentAt[0]! / 1_000);
    expect(sentAt.every((t) => Math.floor(t / 1_000) === window)).toBe(true);
    // Searches are now held back in this window, while the outbox still gets its 5 units.
    const held = pacer.run(ok);
    const outbox = store.limiter(OUTBOX_LIMITER);
    for (let i = 0; i < 5; i++) expect(await outbox.acquire(10, 1_000)).toBe(0);
    await held;
    expect(Math.floor(sentAt[5]! / 1_000)).toBeGreaterThan(window);
    await store.close();
  });
});
