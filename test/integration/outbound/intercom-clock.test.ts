/**
 * Pacing by Intercom's own window clock, against fake-intercom: `events import` (the CLI, SQLite store) learns 2-second
 * windows from X-RateLimit-Reset although it assumes 10-second ones, aligns to windows that do not sit on epoch
 * multiples, and finishes near the rate-limit minimum; a small limit is not overshot in the first window; a 202 whose
 * answer is lost leaves exactly one event at Intercom; and instances on one Redis prefix share what they learned.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeIntercom, type FakeIntercom } from "../../../src/outbound/fake-intercom.js";
import { createEventTracker, type EventTracker } from "../../../src/outbound/outbox.js";
import { createMemoryStore } from "../../../src/store/memory/memory-store.js";
import { createRedisStore, type RedisStore } from "../../../src/store/redis/index.js";
import { ALLOW_VOLATILE, checkRedis, deletePrefix, REDIS_URL, uniquePrefix } from "../../helpers/redis.js";

const TOKEN = "tok_clock";
const MAIN = join(import.meta.dirname, "../../../src/cli/main.ts");
const isRedisReachable = await checkRedis();

let fake: FakeIntercom | undefined;
let dir: string | undefined;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await fake?.close();
  fake = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function tracked(tracker: EventTracker): EventTracker {
  cleanups.push(() => tracker.close());
  return tracker;
}

describe("pacing by Intercom's window clock", () => {
  it("imports 300 events over 2-s windows of 50 within 1.5x the rate-limit minimum, at most one 429 in the first window", async () => {
    const windowMs = 2_000;
    const limit = 50;
    const n = 300;
    // Windows start 1 s past even seconds: the epoch-aligned windows the importer would otherwise use straddle them.
    fake = await startFakeIntercom({ token: TOKEN, limitPerWindow: limit, windowMs, windowOffsetMs: 1_000 });
    dir = mkdtempSync(join(tmpdir(), "ib-clock-"));
    const file = join(dir, "events.ndjson");
    const lines = Array.from({ length: n }, (_, i) =>
      JSON.stringify({ event_name: "placed-order", user_id: `u${i}`, created_at: 1_700_000_000 + i }),
    );
    writeFileSync(file, lines.join("\n") + "\n");
    // The importer keeps its default assumption (10-s windows, 10,000/min) and learns the rest from the headers.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", MAIN, "events", "import", file, "--store", `sqlite:${join(dir, "db.sqlite")}`],
      {
        env: { ...process.env, INTERCOM_ACCESS_TOKEN: TOKEN, INTERCOM_API_BASE_URL: fake.url },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const exitedAt = Date.now();
    expect(code, output).toBe(0);
    const stats = fake.stats();
    expect(stats.accepted).toBe(n);
    expect(stats.duplicates).toBe(0);
    const firstRequestAt = Math.min(...fake.events().map((e) => e.receivedAtMs));
    // The rate limit alone needs n / limit windows; the import (from its first request to its exit) stays within 1.5x.
    const minimumMs = (n / limit) * windowMs;
    expect(exitedAt - firstRequestAt).toBeLessThanOrEqual(1.5 * minimumMs);
    expect(stats.rateLimited).toBeLessThanOrEqual(1);
    const firstWindow = Math.min(...Object.keys(stats.requestsByWindow).map(Number));
    expect(Object.keys(stats.rateLimitedByWindow).filter((w) => Number(w) !== firstWindow)).toEqual([]);
    expect(Math.max(...Object.values(stats.requestsByWindow))).toBeLessThanOrEqual(limit + 1);
  }, 120_000);

  it("does not overshoot a small limit in the first window: one request, then the announced budget", async () => {
    fake = await startFakeIntercom({ token: TOKEN, limitPerWindow: 2, windowMs: 2_000 });
    const tracker = tracked(
      createEventTracker({ store: createMemoryStore(), token: TOKEN, baseUrl: fake.url, concurrency: 8, pollMs: 10 }),
    );
    await tracker.trackMany(
      Array.from({ length: 8 }, (_, i) => ({
        event_name: "placed-order",
        user_id: `u${i}`,
        created_at: 1_700_000_000 + i,
      })),
    );
    tracker.start();
    await tracker.flush(60_000);
    const stats = fake.stats();
    expect(stats.accepted).toBe(8);
    expect(stats.rateLimited).toBe(0);
    expect(Math.max(...Object.values(stats.requestsByWindow))).toBeLessThanOrEqual(2);
    const status = await tracker.status();
    expect(status.windowMs).toBe(2_000);
    expect(status.windowSource).toBe("learned");
    expect(status.perWindow).toBe(2);
  }, 90_000);

  it("a 202 whose answer is lost leaves exactly one event at Intercom (the retry keeps created_at)", async () => {
    fake = await startFakeIntercom({ token: TOKEN });
    fake.setFaults({ loseAnswerNext: 1 });
    const tracker = tracked(
      createEventTracker({
        store: createMemoryStore(),
        token: TOKEN,
        baseUrl: fake.url,
        pollMs: 10,
        retry: { backoff: { type: "fixed", delayMs: 50 } },
      }),
    );
    const { jobId, event } = await tracker.track({ event_name: "placed-order", user_id: "u1" });
    tracker.start();
    const [job] = await tracker.waitFor([jobId!], { timeoutMs: 30_000 });
    expect(job?.state).toBe("done");
    expect(job?.attempts).toBe(2);
    const stats = fake.stats();
    expect(stats.answersLost).toBe(1);
    expect(stats.duplicates).toBe(1);
    expect(fake.events().map((e) => [e.user_id, e.created_at])).toEqual([["u1", event.created_at]]);
  }, 60_000);

  it.skipIf(!isRedisReachable)(
    "instances on one Redis prefix share the learned clock: a second one skips the first burst",
    async () => {
      fake = await startFakeIntercom({ token: TOKEN, limitPerWindow: 20, windowMs: 1_000 });
      const prefix = uniquePrefix("outbox-clock");
      cleanups.push(async () => void (await deletePrefix(prefix)));
      const open = (): { store: RedisStore; tracker: EventTracker } => {
        const store = createRedisStore({ url: REDIS_URL, prefix, ...ALLOW_VOLATILE });
        cleanups.push(() => store.close());
        return { store, tracker: tracked(createEventTracker({ store, token: TOKEN, baseUrl: fake!.url, pollMs: 10 })) };
      };
      const a = open();
      await a.tracker.trackMany(
        Array.from({ length: 45 }, (_, i) => ({
          event_name: "placed-order",
          user_id: `a${i}`,
          created_at: 1_700_000_000,
        })),
      );
      a.tracker.start();
      await a.tracker.flush(30_000);
      expect((await a.tracker.status()).windowSource).toBe("learned");
      await a.tracker.close();
      // The second instance has sent nothing yet, so everything it knows about the clock comes from the store.
      const b = open();
      await b.tracker.trackMany(
        Array.from({ length: 3 }, (_, i) => ({
          event_name: "placed-order",
          user_id: `b${i}`,
          created_at: 1_700_000_000,
        })),
      );
      const before = await b.tracker.status();
      expect(before.windowSource).toBe("assumed");
      b.tracker.start();
      await b.tracker.flush(30_000);
      const after = await b.tracker.status();
      expect(after.windowMs).toBe(1_000);
      expect(after.perWindow).toBe(20);
      expect(fake.stats().accepted).toBe(48);
      expect(fake.stats().rateLimited).toBe(0);
    },
    60_000,
  );
});
