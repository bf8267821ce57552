/**
 * The Store conformance suite (STYLE §5, §12): every backend (memory, SQLite, Redis) runs it through the contract
 * only. Real time with short delays (10–100 ms) and `waitFor`, no fake timers, so it also runs on Redis time.
 */
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RateLimitedError, RetryLaterError, StoreError, UnrecoverableError } from "../core/errors.js";
import type { DeliveryInput, EnqueueInput, ProcessOptions, Processor, Store } from "../store/store.js";
import type { Job, JobRunner, JobSummary, QueueName, StoredRecord } from "../delivery/types.js";
import { sleep, waitFor } from "./wait-for.js";

/** What a backend's factory returns: a fresh, empty store and how to dispose of what it created. */
export interface StoreFixture {
  store: Store;
  cleanup(): Promise<void>;
}

const FAST: Pick<ProcessOptions, "leaseMs" | "pollMs"> = { leaseMs: 2000, pollMs: 20 };

/** Builds a record; every call gets a fresh notification id. */
export function makeRecord(overrides: Partial<StoredRecord> = {}): StoredRecord {
  const notificationId = `notif_${randomUUID()}`;
  return {
    queue: "inbound",
    topic: "conversation.admin.replied",
    body: JSON.stringify({
      type: "notification_event",
      id: notificationId,
      topic: overrides.topic ?? "conversation.admin.replied",
    }),
    appId: "app1",
    notificationId,
    itemId: "item-1",
    createdAt: 1_700_000_000,
    ...overrides,
  };
}

/** Builds a delivery with a fixed, jitter-free backoff. */
export function makeDelivery(
  target: string,
  options: { maxAttempts?: number; delayMs?: number; type?: "fixed" | "exponential"; orderingKey?: string | null } = {},
): DeliveryInput {
  return {
    target,
    retry: {
      maxAttempts: options.maxAttempts ?? 3,
      backoff: { type: options.type ?? "fixed", delayMs: options.delayMs ?? 10, jitter: 0 },
    },
    orderingKey: options.orderingKey ?? null,
  };
}

function input(
  record: StoredRecord,
  deliveries: DeliveryInput[],
  dedupeKey: string = randomUUID(),
  dedupeTtlMs = 60_000,
): EnqueueInput {
  return { dedupeKey, dedupeTtlMs, record, deliveries };
}

async function enqueueOk(store: Store, i: EnqueueInput): Promise<{ recordId: string; jobIds: string[] }> {
  const result = await store.enqueue(i);
  if (result.status !== "enqueued") throw new Error(`expected enqueued, got ${result.status}`);
  return result;
}

/**
 * Defines the conformance tests for one backend.
 * @param name - shown in the describe block (`memory`, `sqlite`, `redis`).
 * @param factory - makes a fresh, empty store per test.
 */
export function defineStoreConformance(name: string, factory: () => Promise<StoreFixture>): void {
  describe(`Store conformance: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;
    const processors: Processor[] = [];
    const process = (queue: QueueName, run: JobRunner, opts: Partial<ProcessOptions> = {}): Processor => {
      const p = store.process(queue, run, { concurrency: 4, ...FAST, ...opts });
      processors.push(p);
      return p;
    };

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });

    afterEach(async () => {
      await Promise.all(processors.splice(0).map((p) => p.close(50)));
      await store.close();
      await fixture.cleanup();
    });

    describe("enqueue", () => {
      it("keeps a body that is not valid UTF-8 byte for byte (bodyBase64), and none for valid UTF-8", async () => {
        const bytes = Buffer.concat([
          Buffer.from('{"a":"'),
          Buffer.from([0x80, 0xc0, 0xaf, 0xe2, 0x82]),
          Buffer.from('"}'),
        ]);
        const record = makeRecord({ body: bytes.toString("utf8"), bodyBase64: bytes.toString("base64") });
        const r = await enqueueOk(store, input(record, [makeDelivery("a")]));
        const detail = await store.getRecord(r.recordId);
        expect(detail?.record).toMatchObject({ body: record.body, bodyBase64: record.bodyBase64 });
        expect((await store.getJob(r.jobIds[0]!))?.record.bodyBase64).toBe(record.bodyBase64);
        const seen: Job[] = [];
        process("inbound", async (job) => void seen.push(job));
        await waitFor(() => seen.length === 1);
        expect(Buffer.from(seen[0]!.record.bodyBase64 ?? "", "base64").equals(bytes)).toBe(true);
        const plain = await enqueueOk(store, input(makeRecord(), []));
        expect((await store.getRecord(plain.recordId))?.record).not.toHaveProperty("bodyBase64");
        const listed = await store.listRecords({ recordId: r.recordId });
        expect(listed.items[0]?.record).not.toHaveProperty("bodyBase64");
      });

      it("stores the record and one pending job per delivery when the key is new", async () => {
        const record = makeRecord({ body: '{"a":1,  "kept":"exactly"}', headers: { "user-agent": "Intercom" } });
        const r = await enqueueOk(store, input(record, [makeDelivery("a"), makeDelivery("b")]));
        expect(r.jobIds).toHaveLength(2);
        expect(new Set(r.jobIds).size).toBe(2);
        for (const id of [r.recordId, ...r.jobIds]) expect(id).toMatch(/^[A-Za-z0-9_.~-]+$/);
        const detail = await store.getRecord(r.recordId);
        expect(detail?.record.body).toBe('{"a":1,  "kept":"exactly"}');
        expect(detail?.record.headers).toEqual({ "user-agent": "Intercom" });
        expect(detail?.jobs.map((j) => [j.target, j.state, j.attempts])).toEqual([
          ["a", "pending", 0],
          ["b", "pending", 0],
        ]);
        const job = await store.getJob(r.jobIds[0]!);
        expect(job).toMatchObject({
          recordId: r.recordId,
          state: "pending",
          attempts: 0,
          maxAttempts: 3,
          topic: record.topic,
          appId: "app1",
        });
        expect(job?.history).toEqual([]);
      });

      it("gives record ids that sort by receive time", async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await enqueueOk(store, input(makeRecord(), []))).recordId);
        expect([...ids].sort()).toEqual(ids);
      });

      it("answers duplicate and stores nothing when the key was seen within the TTL", async () => {
        const first = await enqueueOk(store, input(makeRecord(), [makeDelivery("a")], "k1"));
        const again = await store.enqueue(input(makeRecord(), [makeDelivery("a")], "k1"));
        expect(again).toEqual({ status: "duplicate", recordId: first.recordId });
        expect(await store.countJobs({})).toBe(1);
        expect((await store.listRecords({})).items).toHaveLength(1);
      });

      it("enqueues exactly once when 50 enqueues of one key race", async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, () => store.enqueue(input(makeRecord(), [makeDelivery("a")], "same-key"))),
        );
        expect(results.filter((r) => r.status === "enqueued")).toHaveLength(1);
        expect(results.filter((r) => r.status === "duplicate")).toHaveLength(49);
        expect(await store.countJobs({})).toBe(1);
      });

      it("keeps concurrent enqueues of different keys independent", async () => {
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => store.enqueue(input(makeRecord(), [makeDelivery("a")], `k${i}`))),
        );
        expect(results.every((r) => r.status === "enqueued")).toBe(true);
        expect(await store.countJobs({})).toBe(40);
      });

      it("scopes dedupe keys per queue", async () => {
        await enqueueOk(store, input(makeRecord(), [], "shared"));
        const outbox = await store.enqueue(input(makeRecord({ queue: "outbox", topic: "order-placed" }), [], "shared"));
        expect(outbox.status).toBe("enqueued");
      });

      it("accepts a key again once its TTL has passed", async () => {
        await enqueueOk(store, input(makeRecord(), [], "ttl", 40));
        expect((await store.enqueue(input(makeRecord(), [], "ttl", 40))).status).toBe("duplicate");
        await sleep(80);
        expect((await store.enqueue(input(makeRecord(), [], "ttl", 40))).status).toBe("enqueued");
      });

      it("keeps a record with no deliveries", async () => {
        const r = await enqueueOk(store, input(makeRecord({ topic: "ping" }), []));
        expect(r.jobIds).toEqual([]);
        const detail = await store.getRecord(r.recordId);
        expect(detail?.record.topic).toBe("ping");
        expect(detail?.jobs).toEqual([]);
        expect((await store.listRecords({})).items.map((i) => i.record.id)).toEqual([r.recordId]);
        expect((await store.stats()).counts.inbound.pending).toBe(0);
      });

      it("adds deliveries to an existing record and runs them", async () => {
        const r = await enqueueOk(store, input(makeRecord(), [makeDelivery("a")]));
        const added = await store.addDeliveries(r.recordId, [makeDelivery("late")]);
        expect(added).toHaveLength(1);
        expect(added[0]).not.toBe(r.jobIds[0]);
        const ran: string[] = [];
        process("inbound", async (job) => void ran.push(job.target));
        await waitFor(() => ran.length === 2);
        expect(ran.sort()).toEqual(["a", "late"]);
      });
    });

    describe("processing", () => {
      it("runs each job with its record and marks it done when the runner resolves", async () => {
        const record = makeRecord();
        const r = await enqueueOk(store, input(record, [makeDelivery("a")]));
        const seen: Job[] = [];
        const events: string[] = [];
        process("inbound", async (job) => void seen.push(job), {
          on: {
            started: (e) => events.push(`started:${e.attempt}`),
            finished: (e) => events.push(`finished:${e.outcome}`),
          },
        });
        await waitFor(async () => (await store.getJob(r.jobIds[0]!))?.state === "done");
        expect(seen).toHaveLength(1);
        expect(seen[0]).toMatchObject({ id: r.jobIds[0], target: "a", attempt: 1, maxAttempts: 3, queue: "inbound" });
        expect(seen[0]?.record).toMatchObject({ id: r.recordId, body: record.body, topic: record.topic });
        const job = await store.getJob(r.jobIds[0]!);
        expect(job?.attempts).toBe(1);
        expect(job?.history.map((h) => [h.attempt, h.outcome])).toEqual([[1, "completed"]]);
        await waitFor(() => events.length === 2);
        expect(events).toEqual(["started:1", "finished:completed"]);
      });

      it("only runs jobs of its own queue", async () => {
        await enqueueOk(store, input(makeRecord({ queue: "outbox", topic: "order-placed" }), [makeDelivery("send")]));
        const ran: string[] = [];
        process("inbound", async (job) => void ran.push(job.id));
        await sleep(100);
        expect(ran).toEqual([]);
      });

      it("never re-runs a succeeded sibling when another delivery fails", async () => {
        const r = await enqueueOk(
          store,
          input(makeRecord(), [makeDelivery("ok"), makeDelivery("flaky", { maxAttempts: 5 })]),
        );
        const runs: Record<string, number> = { ok: 0, flaky: 0 };
        process("inbound", async (job) => {
          runs[job.target] = (runs[job.target] ?? 0) + 1;
          if (job.target === "flaky" && job.attempt < 3) throw new Error(`boom ${job.attempt}`);
        });
        await waitFor(async () => (await store.getRecord(r.recordId))?.jobs.every((j) => j.state === "done"));
        expect(runs).toEqual({ ok: 1, flaky: 3 });
        const flaky = await store.getJob(r.jobIds[1]!);
        expect(flaky?.attempts).toBe(3);
        expect(flaky?.history.map((h) => h.outcome)).toEqual(["failed", "failed", "completed"]);
        expect(flaky?.history[0]?.error).toMatchObject({ name: "Error", message: "boom 1" });
      });

      it("spaces retries by the backoff", async () => {
        const r = await enqueueOk(
          store,
          input(makeRecord(), [makeDelivery("x", { maxAttempts: 4, type: "exponential", delayMs: 40 })]),
        );
        const starts: number[] = [];
        process("inbound", async () => {
          starts.push(Date.now());
          if (starts.length < 3) throw new Error("again");
        });
        await waitFor(async () => (await store.getJob(r.jobIds[0]!))?.state === "done");
        expect(starts).toHaveLength(3);
        const gap1 = starts[1]! - starts[0]!;
        const gap2 = starts[2]! - starts[1]!;
        expect(gap1).toBeGreaterThanOrEqual(35); // 40 ms after attempt 1
        expect(gap2).toBeGreaterThanOrEqual(75); // 80 ms after attempt 2
        expect(gap2).toBeGreaterThan(gap1);
      });

      it("reports a failed job's next run time while it waits", async () => {
        const r = await enqueueOk(store, input(makeRecord(), [makeDelivery("x", { delayMs: 5000 })]));
        process("inbound", async () => {
          throw new Error("later");
        });
        const job = await waitFor(async () => {
          const j = await store.getJob(r.jobIds[0]!);
          return j?.state === "failed" ? j : undefined;
        });
        expect(job.attempts).toBe(1);
        expect(job.runAt).toBeGreaterThan(Date.now() + 3000);
        expect(job.lastError).toMatchObject({ message: "later" });
      });

      it("dead-letters after maxAttempts failed attempts and stops running it", async () => {
        const r = await enqueueOk(store, input(makeRecord(), [makeDelivery("x", { maxAttempts: 3 })]));
        let runs = 0;
        const finished: string[] = [];
        process(
          "inbound",
          async () => {
            runs++;
            throw new Error("always");
          },
          { on: { finished: (e) => finished.push(e.outcome) } },
        );
        await waitFor(async () => (await store.getJob(r.jobIds[0]!))?.state === "dead");
        await sleep(60);
        expect(runs).toBe(3);
        const job = await store.getJob(r.jobIds[0]!);
        expect(job).toMatchObject({ state: "dead", attempts: 3, runAt: null, lastError: { message: "always" } });
        expect(job?.history.map((h) => [h.attempt, h.outcome])).toEqual([
          [1, "failed"],
          [2, "failed"],
          [3, "dead"],
        ]);
        expect(finished).toEqual(["failed", "failed", "dead"]);
      });

      it("dead-letters at once on UnrecoverableError", async () => {
        const r = await enqueueOk(store, input(makeRecord(), [makeDelivery("x", { maxAttempts: 5 })]));
        let runs = 0;
        process("inbound", async () => {
          runs++;
          throw new UnrecoverableError("bad input");
        });
        await waitFor(async () => (await store.getJob(r.jobIds[0]!))?.state === "dead");
        await sleep(50);
        expect(runs).toBe(1);
        const job = await store.getJob(r.jobIds[0]!);
        expect(job?.lastError).toMatchObject({ code: "IB_ERR_UNRECOVERABLE", message: "bad input" });
        expect(job?.history.map((h) => h.outcome)).toEqual(["dead"]);
        // The truncated stack is kept with the error (the dashboard's detail view shows it), in the history too.
        expect(job?.lastError?.stack).toMatch(/^\s+at /);
        expect(job?.history[0]?.error?.stack).toBe(job?.lastError?.stack);
      });

      it("runs again after RetryLaterError without using an attempt", async () => {
        const r = await enqueueOk(store, input(makeRecord(), [makeDelivery("x", { maxAttempts: 1 })]));
        const seen: { attempt: number; at: number }[] = [];
        process("inbound", async (job) => {
          seen.push({ attempt: job.attempt, at: Date.now() });
          if (seen.length < 3) throw new RetryLaterError(40);
        });
        await waitFor(async () => (await store.getJob(r.jobIds[0]!))?.state === "done");
        expect(seen.map((s) => s.attempt)).toEqual([1, 1, 1]);
        expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(35);
        const job = await store.getJob(r.jobIds[0]!);
        expect(job?.attempts).toBe(1);
        expect(job?.history.map((h) => h.outcome)).toEqual(["retry-later", "retry-later", "completed"]);
      });

      it("pauses the queue after RateLimitedError without using an attempt", async () => {
        const a = await enqueueOk(store, input(makeRecord(), [makeDelivery("x", { maxAttempts: 1 })]));
        const starts: { target: string; at: number; attempt: number }[] = [];
        let limited = false;
        process(
          "inbound",
          async (job) => {
            starts.push({ target: job.id, at: Date.now(), attempt: job.attempt });
            if (!limited) {
              limited = true;
              throw new RateLimitedError(150);
            }
          },
          { concurrency: 1 },
        );
        await waitFor(() => limited);
        const b = await enqueueOk(store, input(makeRecord(), [makeDelivery("y", { maxAttempts: 1 })]));
        await waitFor(async () => (await store.countJobs({ state: "done" })) === 2, { timeoutMs: 3000 });
        // Nothing ran during the pause, not even the job enqueued meanwhile.
        expect(starts).toHaveLength(3);
        expect(starts[1]!.at - starts[0]!.at).toBeGreaterThanOrEqual(140);
        expect(starts.every((s) => s.attempt === 1)).toBe(true);
        const job = await store.getJob(a.jobIds[0]!);
        expect(job).toMatchObject({ state: "done", attempts: 1 });
        expect(job?.history.map((h) => h.outcome)).toEqual(["rate-limited", "completed"]);
        expect((await store.getJob(b.jobIds[0]!))?.state).toBe("done");
      });

      it("runs at most `concurrency` jobs at once", async () => {
        for (let i = 0; i < 10; i++)
          await enqueueOk(store, input(makeRecord({ itemId: `i${i}` }), [makeDelivery("x")]));
        let now = 0;
        let max = 0;
        const p = process(
          "inbound",
          async () => {
            now++;
            max = Math.max(max, now);
            await sleep(20);
            now--;
          },
          { concurrency: 3 },
        );
        await waitFor(async () => (await store.countJobs({ state: "done" })) === 10);
        expect(max).toBe(3);
        expect(p.running).toBe(0);
      });
    });

    describe("leases", () => {
      it("keeps a running job away from other processors while its lease is renewed", async () => {
        const r = await enqueueOk(store, input(makeRecord(), [makeDelivery("x")]));
        const runs: string[] = [];
        // The run outlasts several leases, so only renewal keeps B away. A 300 ms lease (renewed every 100 ms) leaves
        // room for a loaded CI machine, where a 90 ms lease could lapse between renewals.
        process(
          "inbound",
          async () => {
            runs.push("A");
            await sleep(1_000);
          },
          { leaseMs: 300 },
        );
        await waitFor(() => runs.length === 1);
        process("inbound", async () => void runs.push("B"), { leaseMs: 300 });
        await waitFor(async () => (await store.getJob(r.jobIds[0]!))?.state === "done");
        expect(runs).toEqual(["A"]);
      });

      it("lets another processor reclaim a job whose worker died, recording lease-expired", async (ctx) => {
        const r = await enqueueOk(store, input(makeRecord(), [makeDelivery("x", { maxAttempts: 3 })]));
        let started = false;
        const a = process(
          "inbound",
          () => {
            started = true;
            return new Promise<void>(() => undefined); // never settles
          },
          { leaseMs: 80 },
        );
        if (!a.kill) return ctx.skip();
        await waitFor(() => started);
        await a.kill();
        const runs: number[] = [];
        process("inbound", async (job) => void runs.push(job.attempt), { leaseMs: 80 });
        await waitFor(async () => (await store.getJob(r.jobIds[0]!))?.state === "done");
        expect(runs).toHaveLength(1);
        const job = await store.getJob(r.jobIds[0]!);
        expect(job?.history.map((h) => h.outcome)).toEqual(["lease-expired", "completed"]);
      });

      it("releases unfinished jobs on close(timeout) without using an attempt", async () => {
        const r = await enqueueOk(store, input(makeRecord(), [makeDelivery("x", { maxAttempts: 1 })]));
        let signal: AbortSignal | undefined;
        const p = store.process(
          "inbound",
          (_job, s) => {
            signal = s;
            return new Promise<void>(() => undefined);
          },
          { concurrency: 1, ...FAST },
        );
        await waitFor(() => signal);
        await p.close(30);
        expect(signal?.aborted).toBe(true);
        const job = await store.getJob(r.jobIds[0]!);
        expect(job).toMatchObject({ state: "pending", attempts: 0 });
        expect(job?.history.map((h) => h.outcome)).toEqual(["released"]);
        const ran: number[] = [];
        process("inbound", async (j) => void ran.push(j.attempt));
        await waitFor(() => ran.length === 1);
        expect(ran).toEqual([1]);
      });

      it("waits for running jobs on store.close()", async () => {
        const r = await enqueueOk(store, input(makeRecord(), [makeDelivery("x")]));
        let finished = false;
        let started = false;
        store.process(
          "inbound",
          async () => {
            started = true;
            await sleep(100);
            finished = true;
          },
          { concurrency: 1, ...FAST },
        );
        await waitFor(() => started);
        await store.close();
        expect(finished).toBe(true);
        // Re-open is backend-specific; the job's outcome was recorded before close resolved.
        void r;
      });
    });

    describe("ordering keys", () => {
      it("runs one delivery per key at a time, in created_at order, while other keys run concurrently", async () => {
        for (const createdAt of [3, 1, 2]) {
          await enqueueOk(
            store,
            input(makeRecord({ createdAt, itemId: "k1" }), [makeDelivery(`k1@${createdAt}`, { orderingKey: "k1" })]),
          );
        }
        await enqueueOk(
          store,
          input(makeRecord({ createdAt: 1, itemId: "k2" }), [makeDelivery("k2@1", { orderingKey: "k2" })]),
        );
        const order: string[] = [];
        const running = new Map<string, number>();
        let maxPerKey = 0;
        let maxAll = 0;
        let all = 0;
        process(
          "inbound",
          async (job) => {
            const key = job.target.slice(0, 2);
            running.set(key, (running.get(key) ?? 0) + 1);
            all++;
            maxPerKey = Math.max(maxPerKey, running.get(key)!);
            maxAll = Math.max(maxAll, all);
            order.push(job.target);
            await sleep(30);
            running.set(key, running.get(key)! - 1);
            all--;
          },
          { concurrency: 4 },
        );
        await waitFor(async () => (await store.countJobs({ state: "done" })) === 4);
        expect(order.filter((t) => t.startsWith("k1"))).toEqual(["k1@1", "k1@2", "k1@3"]);
        expect(maxPerKey).toBe(1);
        expect(maxAll).toBe(2);
      });

      it("holds later deliveries of a key while an earlier one waits for its retry", async () => {
        await enqueueOk(
          store,
          input(makeRecord({ createdAt: 1 }), [makeDelivery("first", { orderingKey: "k", delayMs: 60 })]),
        );
        await enqueueOk(store, input(makeRecord({ createdAt: 2 }), [makeDelivery("second", { orderingKey: "k" })]));
        const order: string[] = [];
        process("inbound", async (job) => {
          order.push(`${job.target}#${job.attempt}`);
          if (job.target === "first" && job.attempt === 1) throw new Error("retry me");
        });
        await waitFor(async () => (await store.countJobs({ state: "done" })) === 2);
        expect(order).toEqual(["first#1", "first#2", "second#1"]);
      });

      it("releases the key when the earlier delivery is dead", async () => {
        await enqueueOk(
          store,
          input(makeRecord({ createdAt: 1 }), [makeDelivery("first", { orderingKey: "k", maxAttempts: 1 })]),
        );
        await enqueueOk(store, input(makeRecord({ createdAt: 2 }), [makeDelivery("second", { orderingKey: "k" })]));
        const order: string[] = [];
        process("inbound", async (job) => {
          order.push(job.target);
          if (job.target === "first") throw new Error("fatal");
        });
        await waitFor(async () => (await store.countJobs({ state: "done" })) === 1);
        expect(order).toEqual(["first", "second"]);
      });

      it("ignores ordering keys when ordered is false", async () => {
        for (const createdAt of [1, 2, 3]) {
          await enqueueOk(
            store,
            input(makeRecord({ createdAt }), [makeDelivery(`t${createdAt}`, { orderingKey: "k" })]),
          );
        }
        let now = 0;
        let max = 0;
        process(
          "inbound",
          async () => {
            now++;
            max = Math.max(max, now);
            await sleep(30);
            now--;
          },
          { ordered: false },
        );
        await waitFor(async () => (await store.countJobs({ state: "done" })) === 3);
        expect(max).toBeGreaterThan(1);
      });
    });

    describe("requeue", () => {
      async function deadJob(target = "x", overrides: Partial<StoredRecord> = {}): Promise<string> {
        const r = await enqueueOk(store, input(makeRecord(overrides), [makeDelivery(target, { maxAttempts: 2 })]));
        return r.jobIds[0]!;
      }

      it("runs a dead delivery again with attempts reset", async () => {
        const id = await deadJob();
        let fail = true;
        const attempts: number[] = [];
        process("inbound", async (job) => {
          attempts.push(job.attempt);
          if (fail) throw new Error("down");
        });
        await waitFor(async () => (await store.getJob(id))?.state === "dead");
        fail = false;
        expect(await store.requeue(id)).toBe("requeued");
        await waitFor(async () => (await store.getJob(id))?.state === "done");
        expect(attempts).toEqual([1, 2, 1]);
        const job = await store.getJob(id);
        expect(job?.attempts).toBe(1);
        expect(job?.history.map((h) => h.outcome)).toEqual(["failed", "dead", "completed"]);
      });

      it("answers conflict for running and pending deliveries and not-found for unknown ids", async () => {
        const r = await enqueueOk(store, input(makeRecord(), [makeDelivery("x")]));
        expect(await store.requeue(r.jobIds[0]!)).toBe("conflict"); // pending
        let release: () => void = () => undefined;
        process("inbound", () => new Promise<void>((resolve) => (release = resolve)));
        await waitFor(async () => (await store.getJob(r.jobIds[0]!))?.state === "running");
        expect(await store.requeue(r.jobIds[0]!)).toBe("conflict");
        release();
        await waitFor(async () => (await store.getJob(r.jobIds[0]!))?.state === "done");
        expect(await store.requeue(r.jobIds[0]!)).toBe("requeued"); // done may be replayed
        expect(await store.requeue("does-not-exist-0")).toBe("not-found");
        expect(await store.requeue(`${r.recordId}-99`)).toBe("not-found");
      });

      it("requeues every dead delivery a filter selects", async () => {
        const ids = [
          await deadJob("x", { topic: "conversation.admin.replied" }),
          await deadJob("x", { topic: "conversation.user.created" }),
          await deadJob("x", { topic: "contact.created" }),
        ];
        let fail = true;
        process("inbound", async () => {
          if (fail) throw new UnrecoverableError("no");
        });
        await waitFor(async () => (await store.countJobs({ state: "dead" })) === 3);
        fail = false;
        expect(await store.countJobs({ state: "dead", topic: "conversation.*" })).toBe(2);
        expect(await store.requeueMany({ state: "dead", topic: "conversation.*" })).toBe(2);
        await waitFor(async () => (await store.countJobs({ state: "done" })) === 2);
        expect((await store.getJob(ids[2]!))?.state).toBe("dead");
        expect(await store.requeueMany({ state: "dead", topic: "conversation.*" })).toBe(0);
      });

      it("requeues at most filter.limit deliveries, and refuses a limit that is not an integer >= 1", async () => {
        for (let i = 0; i < 4; i++) await deadJob("x", { topic: "conversation.admin.replied" });
        let fail = true;
        process("inbound", async () => {
          if (fail) throw new UnrecoverableError("no");
        });
        await waitFor(async () => (await store.countJobs({ state: "dead" })) === 4);
        for (const limit of [0, -1, 1.5, Number.NaN]) {
          await expect(store.requeueMany({ state: "dead", limit })).rejects.toMatchObject({ code: "IB_ERR_CONFIG" });
        }
        expect(await store.countJobs({ state: "dead" })).toBe(4);
        // Stays dead while the first batch is counted: the runner keeps failing until the second call.
        expect(await store.requeueMany({ state: "dead", limit: 3 })).toBe(3);
        await waitFor(async () => (await store.countJobs({ state: "dead" })) === 4);
        fail = false;
        // Larger than a page (500) is fine: it is a cap, not a page size.
        expect(await store.requeueMany({ state: "dead", limit: 1_000 })).toBe(4);
        await waitFor(async () => (await store.countJobs({ state: "done" })) === 4);
      });

      it("requeues the oldest first when capped, so deliveries that match after a count are the ones left out", async () => {
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          ids.push(await deadJob("x", { topic: "conversation.admin.replied" }));
          await sleep(5); // distinct receive times
        }
        let fail = true;
        process("inbound", async () => {
          if (fail) throw new UnrecoverableError("no");
        });
        await waitFor(async () => (await store.countJobs({ state: "dead" })) === 3);
        fail = false;
        expect(await store.requeueMany({ state: "dead", limit: 2 })).toBe(2);
        await waitFor(async () => (await store.countJobs({ state: "done" })) === 2);
        expect((await Promise.all(ids.map((id) => store.getJob(id)))).map((j) => j?.state)).toEqual([
          "done",
          "done",
          "dead",
        ]);
      });
    });

    describe("listing", () => {
      async function seed(): Promise<{ recordIds: string[]; jobIds: string[] }> {
        const recordIds: string[] = [];
        const jobIds: string[] = [];
        const topics = ["conversation.admin.replied", "contact.created", "conversation.user.created"];
        for (let i = 0; i < 9; i++) {
          const r = await enqueueOk(
            store,
            input(
              makeRecord({
                topic: topics[i % 3]!,
                appId: i < 6 ? "app1" : "app2",
                itemId: `item-${i % 2}`,
                notificationId: `notif_${i}`,
              }),
              [makeDelivery("a"), makeDelivery("b")],
            ),
          );
          recordIds.push(r.recordId);
          jobIds.push(...r.jobIds);
        }
        return { recordIds, jobIds };
      }

      it("filters jobs by topic, group pattern, app, item, notification, record and target", async () => {
        const { recordIds } = await seed();
        const ids = async (f: Parameters<Store["listJobs"]>[0]): Promise<JobSummary[]> =>
          (await store.listJobs({ limit: 500, ...f })).items;
        expect(await ids({})).toHaveLength(18);
        expect(await ids({ topic: "contact.created" })).toHaveLength(6);
        expect(await ids({ topic: "conversation.*" })).toHaveLength(12);
        expect(await ids({ topic: "*" })).toHaveLength(18);
        expect(await ids({ appId: "app2" })).toHaveLength(6);
        expect(await ids({ itemId: "item-1" })).toHaveLength(8);
        expect((await ids({ notificationId: "notif_4" })).map((j) => j.recordId)).toEqual([recordIds[4], recordIds[4]]);
        expect(await ids({ recordId: recordIds[0]! })).toHaveLength(2);
        expect(await ids({ target: "b", appId: "app1" })).toHaveLength(6);
        expect(await ids({ queue: "outbox" })).toHaveLength(0);
        expect(await ids({ state: "pending" })).toHaveLength(18);
        expect(await ids({ state: ["done", "dead"] })).toHaveLength(0);
        const all = await ids({});
        expect(all[0]!.recordId).toBe(recordIds[8]); // newest record first
        expect(all.at(-1)!.recordId).toBe(recordIds[0]);
      });

      it("filters by state after processing", async () => {
        await seed();
        process("inbound", async (job) => {
          if (job.target === "b") throw new UnrecoverableError("b fails");
        });
        await waitFor(async () => (await store.countJobs({ state: ["done", "dead"] })) === 18);
        expect((await store.listJobs({ state: "dead", limit: 500 })).items.every((j) => j.target === "b")).toBe(true);
        expect(await store.countJobs({ state: "dead" })).toBe(9);
        expect(await store.countJobs({ state: "done", topic: "contact.*" })).toBe(3);
        const recs = await store.listRecords({ state: "dead", appId: "app2" });
        expect(recs.items).toHaveLength(3);
        expect(recs.items[0]!.jobs.map((j) => j.state).sort()).toEqual(["dead", "done"]);
      });

      it("filters by receive time with since and until", async () => {
        await enqueueOk(store, input(makeRecord(), [makeDelivery("a")]));
        await sleep(30);
        const middle = Date.now();
        await sleep(5);
        await enqueueOk(store, input(makeRecord(), [makeDelivery("a")]));
        await sleep(30);
        const end = Date.now();
        await sleep(5);
        await enqueueOk(store, input(makeRecord(), [makeDelivery("a")]));
        expect(await store.countJobs({ since: middle })).toBe(2);
        expect((await store.listJobs({ since: middle, until: end })).items).toHaveLength(1);
        expect((await store.listRecords({ until: middle })).items).toHaveLength(1);
      });

      it("pages jobs with a cursor, newest first, without duplicates or gaps", async () => {
        const { jobIds } = await seed();
        const seen: string[] = [];
        let cursor: string | null | undefined;
        let pages = 0;
        do {
          const page: Awaited<ReturnType<Store["listJobs"]>> = await store.listJobs(
            cursor ? { limit: 4, cursor } : { limit: 4 },
          );
          expect(page.items.length).toBeLessThanOrEqual(4);
          seen.push(...page.items.map((j) => j.id));
          cursor = page.nextCursor;
          pages++;
        } while (cursor && pages < 20);
        expect(pages).toBe(5);
        expect(new Set(seen).size).toBe(18);
        expect([...seen].sort()).toEqual([...jobIds].sort());
        const filtered: string[] = [];
        let c: string | null = null;
        do {
          const page: Awaited<ReturnType<Store["listJobs"]>> = await store.listJobs(
            c ? { topic: "conversation.*", limit: 5, cursor: c } : { topic: "conversation.*", limit: 5 },
          );
          filtered.push(...page.items.map((j) => j.id));
          c = page.nextCursor;
        } while (c);
        expect(new Set(filtered).size).toBe(12);
      });

      it("pages records with a cursor, newest first, each with all its deliveries", async () => {
        const { recordIds } = await seed();
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page: Awaited<ReturnType<Store["listRecords"]>> = await store.listRecords(
            cursor ? { limit: 2, cursor } : { limit: 2 },
          );
          for (const item of page.items) {
            expect(item.jobs.map((j) => j.target).sort()).toEqual(["a", "b"]);
            expect(item.record).not.toHaveProperty("body");
          }
          seen.push(...page.items.map((i) => i.record.id));
          cursor = page.nextCursor;
        } while (cursor);
        expect(seen).toEqual([...recordIds].reverse());
        expect((await store.listRecords({ topic: "contact.*", appId: "app1" })).items).toHaveLength(2);
        expect((await store.listRecords({ itemId: "item-0" })).items).toHaveLength(5);
      });
    });

    describe("retention", () => {
      it("deletes finished records received before the cutoff with their deliveries, and keeps the others", async () => {
        const done = await enqueueOk(store, input(makeRecord(), [makeDelivery("ok")]));
        const dead = await enqueueOk(store, input(makeRecord(), [makeDelivery("bad")]));
        const none = await enqueueOk(store, input(makeRecord(), []));
        const mixed = await enqueueOk(store, input(makeRecord(), [makeDelivery("ok"), makeDelivery("later")]));
        const untouched = await enqueueOk(store, input(makeRecord(), [makeDelivery("never")]));
        process("inbound", async (job) => {
          if (job.target === "bad") throw new UnrecoverableError("no");
          if (job.target === "later") throw new RetryLaterError(60_000);
          if (job.target === "never") throw new RetryLaterError(60_000);
        });
        await waitFor(async () => {
          const states = await Promise.all(
            [done.jobIds[0]!, dead.jobIds[0]!, mixed.jobIds[0]!].map(async (id) => (await store.getJob(id))?.state),
          );
          return states.join() === "done,dead,done";
        });
        await waitFor(async () => ((await store.getJob(mixed.jobIds[1]!))?.history.length ?? 0) > 0);
        await sleep(20);
        const cutoff = Date.now();
        await sleep(20);
        const newer = await enqueueOk(store, input(makeRecord(), []));

        expect(await store.purgeRecords(cutoff, 100)).toBe(3);
        for (const r of [done, dead, none]) expect(await store.getRecord(r.recordId)).toBeUndefined();
        expect(await store.getJob(done.jobIds[0]!)).toBeUndefined();
        expect(await store.getJob(dead.jobIds[0]!)).toBeUndefined();
        // A record with one unfinished delivery stays whole, finished siblings included.
        expect((await store.getRecord(mixed.recordId))?.jobs.map((j) => j.state)[0]).toBe("done");
        expect((await store.getRecord(mixed.recordId))?.jobs).toHaveLength(2);
        expect(await store.getRecord(untouched.recordId)).toBeDefined();
        expect(await store.getRecord(newer.recordId)).toBeDefined();
        const listed = (await store.listJobs({ limit: 100 })).items.map((j) => j.id);
        expect(listed).not.toContain(done.jobIds[0]);
        expect(listed).not.toContain(dead.jobIds[0]);
        const records = (await store.listRecords({ limit: 100 })).items.map((r) => r.record.id);
        expect(records.sort()).toEqual([mixed.recordId, untouched.recordId, newer.recordId].sort());
        const stats = await store.stats();
        expect(stats.counts.inbound.dead).toBe(0);
        expect(stats.counts.inbound.done).toBe(1);
        expect(await store.purgeRecords(cutoff, 100)).toBe(0);
      });

      it("deletes at most `limit` records per call, oldest first, and only those received before the cutoff", async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          ids.push((await enqueueOk(store, input(makeRecord(), []))).recordId);
          await sleep(3);
        }
        await sleep(10);
        const cutoff = Date.now();
        await sleep(10);
        const later = (await enqueueOk(store, input(makeRecord(), []))).recordId;
        expect(await store.purgeRecords(cutoff, 2)).toBe(2);
        expect(await store.getRecord(ids[0]!)).toBeUndefined();
        expect(await store.getRecord(ids[1]!)).toBeUndefined();
        expect(await store.getRecord(ids[2]!)).toBeDefined();
        expect(await store.purgeRecords(cutoff, 10)).toBe(3);
        expect(await store.getRecord(later)).toBeDefined();
        expect(await store.purgeRecords(Date.now() + 1_000, 0)).toBe(0);
        expect(await store.getRecord(later)).toBeDefined();
      });

      it("keeps a record whose finished delivery was replayed", async () => {
        const r = await enqueueOk(store, input(makeRecord(), [makeDelivery("ok")]));
        const p = process("inbound", async () => undefined);
        await waitFor(async () => (await store.getJob(r.jobIds[0]!))?.state === "done");
        await p.close(50);
        expect(await store.requeue(r.jobIds[0]!)).toBe("requeued");
        await sleep(10);
        expect(await store.purgeRecords(Date.now(), 10)).toBe(0);
        expect((await store.getJob(r.jobIds[0]!))?.state).toBe("pending");
      });
    });

    describe("stats and history", () => {
      it("counts jobs per queue and state and reports the oldest due time", async () => {
        const empty = await store.stats();
        expect(empty.counts.inbound).toEqual({ pending: 0, running: 0, failed: 0, done: 0, dead: 0 });
        expect(empty.oldestDueAt).toEqual({ inbound: null, outbox: null });
        const before = Date.now();
        await enqueueOk(store, input(makeRecord(), [makeDelivery("a"), makeDelivery("b")]));
        await enqueueOk(store, input(makeRecord({ queue: "outbox", topic: "order-placed" }), [makeDelivery("send")]));
        const stats = await store.stats();
        expect(stats.counts.inbound.pending).toBe(2);
        expect(stats.counts.outbox.pending).toBe(1);
        expect(stats.oldestDueAt.inbound).toBeGreaterThanOrEqual(before - 5);
        expect(stats.oldestDueAt.inbound).toBeLessThanOrEqual(Date.now());
        process("inbound", async (job) => {
          if (job.target === "b") throw new UnrecoverableError("x");
        });
        await waitFor(
          async () =>
            (await store.stats()).counts.inbound.dead === 1 && (await store.stats()).counts.inbound.done === 1,
        );
        const after = await store.stats();
        expect(after.counts.inbound).toEqual({ pending: 0, running: 0, failed: 0, done: 1, dead: 1 });
        expect(after.oldestDueAt.inbound).toBeNull();
      });

      it("answers undefined for unknown jobs and records", async () => {
        expect(await store.getJob("nope")).toBeUndefined();
        expect(await store.getJob("nope-0")).toBeUndefined();
        expect(await store.getRecord("nope")).toBeUndefined();
      });

      it("counts received records per bucket and topic", async () => {
        const since = Date.now() - 1000;
        await enqueueOk(store, input(makeRecord({ topic: "contact.created" }), []));
        await enqueueOk(store, input(makeRecord({ topic: "contact.created" }), []));
        await enqueueOk(store, input(makeRecord({ topic: "ping" }), []));
        await enqueueOk(store, input(makeRecord({ queue: "outbox", topic: "order-placed" }), []));
        const buckets = await store.receivedHistogram("inbound", since, 60_000);
        const byTopic = new Map<string, number>();
        for (const b of buckets) {
          expect(b.bucketStart).toBeLessThanOrEqual(Date.now());
          expect(b.bucketStart).toBeGreaterThanOrEqual(since);
          byTopic.set(b.topic, (byTopic.get(b.topic) ?? 0) + b.count);
        }
        expect(Object.fromEntries(byTopic)).toEqual({ "contact.created": 2, ping: 1 });
        expect(await store.receivedHistogram("inbound", Date.now() + 60_000, 1000)).toEqual([]);
      });

      it("counts the same with minute-aligned buckets (the dashboard's query)", async () => {
        const since = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
        await enqueueOk(store, input(makeRecord({ topic: "contact.created" }), []));
        await enqueueOk(store, input(makeRecord({ topic: "contact.created" }), []));
        await enqueueOk(store, input(makeRecord({ topic: "ping" }), []));
        await enqueueOk(store, input(makeRecord({ queue: "outbox", topic: "order-placed" }), []));
        for (const size of [60_000, 300_000]) {
          const buckets = await store.receivedHistogram("inbound", since, size);
          const now = Date.now();
          // One bucket per topic, the one holding "now" (a minute boundary may pass between the enqueues: two).
          for (const b of buckets) {
            expect((b.bucketStart - since) % size).toBe(0);
            expect(b.bucketStart).toBeGreaterThan(now - 2 * size);
            expect(b.bucketStart).toBeLessThanOrEqual(now);
          }
          const byTopic: Record<string, number> = {};
          for (const b of buckets) byTopic[b.topic] = (byTopic[b.topic] ?? 0) + b.count;
          expect(byTopic).toEqual({ "contact.created": 2, ping: 1 });
        }
      });
    });

    describe("limiter, sets, ping", () => {
      it("grants max units per window and then says how long to wait", async () => {
        const limiter = store.limiter(`l-${randomUUID()}`);
        const windowMs = 60_000;
        expect(await limiter.acquire(2, windowMs)).toBe(0);
        expect(await limiter.acquire(2, windowMs)).toBe(0);
        const wait = await limiter.acquire(2, windowMs);
        expect(wait).toBeGreaterThan(0);
        expect(wait).toBeLessThanOrEqual(windowMs);
        expect((await limiter.state()).used).toBe(2);
      });

      it("aligns windows to multiples of the window length since the epoch", async () => {
        const limiter = store.limiter(`l-${randomUUID()}`);
        const windowMs = 7_000;
        // Start well inside a window, so the six acquires below cannot straddle an edge on a slow machine.
        const msLeft = windowMs - (Date.now() % windowMs);
        if (msLeft < 2_500) await sleep(msLeft + 50);
        const before = Date.now();
        expect(await limiter.acquire(5, windowMs)).toBe(0);
        const after = Date.now();
        const { windowStart } = await limiter.state();
        expect(windowStart % windowMs).toBe(0);
        expect(windowStart).toBeGreaterThan(before - windowMs - 1_000);
        expect(windowStart).toBeLessThanOrEqual(after + 1_000);
        // The wait once the budget is used up is the rest of that aligned window.
        for (let i = 0; i < 4; i++) await limiter.acquire(5, windowMs);
        const wait = await limiter.acquire(5, windowMs);
        const now = Date.now();
        const current = (await limiter.state()).windowStart;
        expect(wait).toBeGreaterThan(0);
        expect(Math.abs(now + wait - (current + windowMs))).toBeLessThan(1_000);
      });

      it("places windows at originMs + multiples of the window length when given an origin", async () => {
        const limiter = store.limiter(`l-${randomUUID()}`);
        const windowMs = 7_000;
        const originMs = 2_345;
        // Start well inside a window, so the acquires below cannot straddle an edge on a slow machine.
        const into = (((Date.now() - originMs) % windowMs) + windowMs) % windowMs;
        if (windowMs - into < 2_500) await sleep(windowMs - into + 50);
        expect(await limiter.acquire(2, windowMs, originMs)).toBe(0);
        const { windowStart } = await limiter.state();
        expect((((windowStart - originMs) % windowMs) + windowMs) % windowMs).toBe(0);
        expect(await limiter.acquire(2, windowMs, originMs)).toBe(0);
        const wait = await limiter.acquire(2, windowMs, originMs);
        expect(Math.abs(Date.now() + wait - (windowStart + windowMs))).toBeLessThan(1_000);
        // The same window named with a corrected length keeps its count; another start begins a fresh one.
        expect(await limiter.acquire(2, windowMs * 2, windowStart)).toBeGreaterThan(0);
        expect(await limiter.acquire(2, windowMs, windowStart + 1_000)).toBe(0);
      });

      it("starts a fresh budget in the next window", async () => {
        const limiter = store.limiter(`l-${randomUUID()}`);
        const windowMs = 200;
        expect(await limiter.acquire(1, windowMs)).toBe(0);
        // On a loaded machine the second call may already fall into the next window (and be granted); the one after
        // it then shares that window. Either way, within two more calls the budget of one window is used up.
        let wait = await limiter.acquire(1, windowMs);
        if (wait === 0) wait = await limiter.acquire(1, windowMs);
        expect(wait).toBeGreaterThan(0);
        expect(wait).toBeLessThanOrEqual(windowMs);
        await sleep(wait + 5);
        expect(await limiter.acquire(1, windowMs)).toBe(0);
      });

      it("grants nothing while paused; a later pause extends, an earlier one does not shorten; resume lifts it", async () => {
        const limiter = store.limiter(`l-${randomUUID()}`);
        const now = Date.now();
        await limiter.pauseUntil(now + 1000, "429 from Intercom");
        await limiter.pauseUntil(now + 200, "shorter");
        const wait = await limiter.acquire(10, 60_000);
        expect(wait).toBeGreaterThan(800);
        const state = await limiter.state();
        expect(state.pausedUntil).toBe(now + 1000);
        expect(state.pauseReason).toBe("429 from Intercom");
        await limiter.pauseUntil(now + 2000, "longer");
        expect((await limiter.state()).pausedUntil).toBe(now + 2000);
        await limiter.resume();
        expect(await limiter.acquire(10, 60_000)).toBe(0);
        expect((await limiter.state()).pausedUntil).toBeNull();
      });

      it("keeps distinct members in named sets", async () => {
        const name = `s-${randomUUID()}`;
        expect(await store.addToSet(name, ["b", "a"])).toBe(2);
        expect(await store.addToSet(name, ["a", "c"])).toBe(3);
        expect((await store.setMembers(name)).sort()).toEqual(["a", "b", "c"]);
        expect(await store.setMembers(`${name}-other`)).toEqual([]);
      });

      it("swaps a named value only when it holds the expected one, and one of many racing swaps wins", async () => {
        const name = `v-${randomUUID()}`;
        const NEVER = "\u0000never-stored";
        expect(await store.compareAndSet(name, NEVER, "x")).toBeNull(); // a read: nothing stored, nothing changed
        expect(await store.compareAndSet(name, "a", "b")).toBeNull(); // expected a value, none stored: no swap
        expect(await store.compareAndSet(name, NEVER, NEVER)).toBeNull();
        expect(await store.compareAndSet(name, null, "first")).toBeNull(); // swapped
        expect(await store.compareAndSet(name, null, "again")).toBe("first"); // no longer absent: no swap
        expect(await store.compareAndSet(name, "first", "second")).toBe("first"); // swapped
        expect(await store.compareAndSet(name, NEVER, NEVER)).toBe("second");
        expect(await store.compareAndSet(`${name}-other`, NEVER, NEVER)).toBeNull();
        // Ten contenders read the same value and try to replace it: exactly one succeeds.
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.compareAndSet(name, "second", `winner-${i}`)),
        );
        expect(results.filter((r) => r === "second")).toHaveLength(1);
        const winner = `winner-${results.indexOf("second")}`;
        expect(await store.compareAndSet(name, NEVER, NEVER)).toBe(winner);
      });

      it("answers ping while open and rejects with StoreError after close", async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        await store.close();
        await store.close(); // idempotent
        const error: unknown = await store.ping().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).code).toBe("IB_ERR_STORE_UNAVAILABLE");
        await expect(store.enqueue(input(makeRecord(), []))).rejects.toBeInstanceOf(StoreError);
      });
    });
  });
}
