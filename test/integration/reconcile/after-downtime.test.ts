/**
 * The heartbeat and the lease of gap recovery on one store: two instances starting after the same downtime recover
 * it once; a start without a token only reports the gap; a stale lease of a dead instance is taken over.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createReceiver } from "../../../src/core/receiver.js";
import { startFakeIntercom, type FakeIntercom } from "../../../src/outbound/fake-intercom.js";
import { createDowntimeRecovery, HEARTBEAT_KEY, LEASE_KEY } from "../../../src/reconcile/after-downtime.js";
import { createSearchApi } from "../../../src/reconcile/search-api.js";
import { createMemoryStore } from "../../../src/store/memory/memory-store.js";
import type { Store } from "../../../src/store/store.js";

let fake: FakeIntercom | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function downFor(store: Store, ms: number): Promise<void> {
  await store.compareAndSet(HEARTBEAT_KEY, null, JSON.stringify({ atMs: Date.now() - ms }));
}

function instance(store: Store, withToken = true) {
  const receiver = createReceiver({ secrets: ["s"], store });
  return createDowntimeRecovery({
    store,
    receiver,
    api: withToken ? createSearchApi({ token: "t", baseUrl: fake!.url }) : undefined,
    minGapMs: 1_000,
  });
}

describe("downtime recovery", () => {
  it("lets one of two instances starting after the same downtime recover it", async () => {
    fake = await startFakeIntercom({ token: "t" });
    fake.workspace.upsert("tickets", [{ updated_at: Math.floor(Date.now() / 1000) - 60 }]);
    const store = createMemoryStore();
    await downFor(store, 5 * 60_000);
    const [a, b] = [instance(store), instance(store)];
    const states = (await Promise.all([a.start(), b.start()])).map((s) => s.state).sort();
    expect(states).toEqual(["other-instance", "running"]);
    await Promise.all([a.settled(), b.settled()]);
    const done = [a, b].find((r) => r.status().state === "done")!;
    expect(done.status().report!.counts.tickets).toEqual({ scanned: 1, alreadySeen: 0, synthesized: 1 });
    expect(done.status().gapMs).toBeGreaterThanOrEqual(5 * 60_000);
    expect(done.status().window!.sinceMs).toBeLessThanOrEqual(Date.now() - 5 * 60_000 - 60_000 + 1_000);
    expect(fake.workspace.stats().searches.tickets).toBe(1);
    await Promise.all([a.stop(), b.stop()]);
    // The heartbeat is fresh again: a restart now finds no gap.
    const c = instance(store);
    expect((await c.start()).state).toBe("no-gap");
    await c.stop();
    await store.close();
  });

  it("only reports the gap without a token, and takes over the expired lease of a dead instance", async () => {
    fake = await startFakeIntercom({ token: "t" });
    const store = createMemoryStore();
    await downFor(store, 10 * 60_000);
    const noToken = instance(store, false);
    expect((await noToken.start()).state).toBe("no-token");
    expect(fake.workspace.stats().me).toBe(0);
    await noToken.stop();

    await store.compareAndSet(
      HEARTBEAT_KEY,
      await store.compareAndSet(HEARTBEAT_KEY, "?", "?"),
      JSON.stringify({ atMs: Date.now() - 10 * 60_000 }),
    );
    await store.compareAndSet(LEASE_KEY, null, JSON.stringify({ owner: "dead", untilMs: Date.now() - 1 }));
    const next = instance(store);
    expect((await next.start()).state).toBe("running");
    await next.settled();
    expect(next.status().state).toBe("done");
    expect(JSON.parse((await store.compareAndSet(LEASE_KEY, "?", "?"))!)).toMatchObject({ untilMs: 0 });
    await next.stop();
    await store.close();
  });
});
