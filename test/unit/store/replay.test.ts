import { afterEach, describe, expect, it } from "vitest";
import { replayRecord } from "../../../src/store/replay.js";
import { createMemoryStore, type MemoryStore } from "../../../src/store/memory/memory-store.js";
import type { DeliveryInput } from "../../../src/store/store.js";
import { waitFor } from "../../../src/testing/wait-for.js";

const retry = { maxAttempts: 1, backoff: { type: "fixed" as const, delayMs: 10 } };
const delivery = (target: string): DeliveryInput => ({ target, retry, orderingKey: null });

let store: MemoryStore;
afterEach(async () => {
  await store.close();
});

async function stored(targets: string[], itemId: string | null = "c1"): Promise<string> {
  const r = await store.enqueue({
    dedupeKey: `k-${Math.random()}`,
    dedupeTtlMs: 60_000,
    record: {
      queue: "inbound",
      topic: "conversation.user.created",
      body: "{}",
      appId: "app1",
      notificationId: "notif_1",
      itemId,
      createdAt: 1,
    },
    deliveries: targets.map(delivery),
  });
  if (r.status !== "enqueued") throw new Error("not enqueued");
  return r.recordId;
}

/** Runs every due delivery once, with `run` deciding the outcome per target. */
async function runAll(run: (target: string) => void): Promise<void> {
  const seen = new Set<string>();
  const p = store.process(
    "inbound",
    (job) => {
      seen.add(job.id);
      run(job.target);
      return Promise.resolve();
    },
    { concurrency: 4, leaseMs: 1000, pollMs: 5 },
  );
  await waitFor(async () => (await store.stats()).counts.inbound.pending === 0 && p.running === 0);
  await p.close();
}

describe("replayRecord (CLI replay and the dashboard's replay button)", () => {
  it("requeues the finished deliveries of a record and says how many", async () => {
    store = createMemoryStore();
    const id = await stored(["a", "b"]);
    await runAll((t) => {
      if (t === "b") throw new Error("boom");
    });
    const result = await replayRecord(store, id);
    expect(result).toMatchObject({ status: "requeued", requeued: 2, message: "Requeued 2 deliveries of notif_1." });
    const detail = await store.getRecord(id);
    expect(detail?.jobs.map((j) => [j.target, j.state, j.attempts])).toEqual([
      ["a", "pending", 0],
      ["b", "pending", 0],
    ]);
  });

  it("answers busy with the same message everywhere when every delivery is still queued", async () => {
    store = createMemoryStore();
    const id = await stored(["a"]);
    expect(await replayRecord(store, id)).toEqual({
      status: "busy",
      message: "Every delivery of this notification is pending or running; replay it once they finish",
    });
  });

  it("answers not-found for an unknown id, and for a record of another queue when a queue is given", async () => {
    store = createMemoryStore();
    expect(await replayRecord(store, "nope")).toEqual({
      status: "not-found",
      message: 'No notification with id "nope"',
    });
    const id = await stored(["a"]);
    expect((await replayRecord(store, id, { queue: "outbox" })).status).toBe("not-found");
  });

  it("says a record without deliveries has nothing to replay", async () => {
    store = createMemoryStore();
    const id = await stored([]);
    expect(await replayRecord(store, id)).toMatchObject({ status: "nothing-to-replay" });
  });

  it("with `to`, delivers the record to a renamed handler as a new delivery that runs", async () => {
    store = createMemoryStore();
    const id = await stored(["old-name"]);
    await runAll(() => undefined);
    const result = await replayRecord(store, id, { to: "new-name" });
    expect(result).toMatchObject({ status: "delivered", jobIds: [`${id}-1`] });
    const ran: string[] = [];
    await runAll((t) => void ran.push(t));
    expect(ran).toEqual(["new-name"]);
    const detail = await store.getRecord(id);
    expect(detail?.jobs.map((j) => [j.target, j.state])).toEqual([
      ["old-name", "done"],
      ["new-name", "done"],
    ]);
  });

  it("with `to`, refuses a target the record already has a delivery to, changing nothing", async () => {
    store = createMemoryStore();
    const id = await stored(["a"]);
    const result = await replayRecord(store, id, { to: "a" });
    expect(result).toEqual({
      status: "already-delivered",
      message: 'notif_1 already has a delivery to "a" (pending); replay it without --to',
    });
    expect((await store.getRecord(id))?.jobs).toHaveLength(1);
  });
});
