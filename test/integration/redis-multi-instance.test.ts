/**
 * Three `intercom-bridge serve` processes sharing one Redis prefix (issue 4): cross-instance dedupe, exactly-once
 * handler runs, live dashboard updates across instances, and takeover of a kill -9'd instance's running deliveries after
 * their lease.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisStore, type RedisStore } from "../../src/store/redis/index.js";
import {
  ALLOW_VOLATILE,
  VOLATILE_REDIS_ENV,
  checkRedis,
  deletePrefix,
  REDIS_URL,
  uniquePrefix,
} from "../helpers/redis.js";
import { startServe, type ServeProcess } from "../helpers/serve-process.js";
import { waitFor } from "../helpers/wait-for.js";

const isReachable = await checkRedis();
const SECRET = "multi-instance-secret";

function notification(topic: string, id: string, itemId: string): string {
  const now = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    type: "notification_event",
    app_id: "multi",
    data: { type: "notification_event_data", item: { type: topic.split(".")[0], id: itemId } },
    links: {},
    id,
    topic,
    delivery_status: "pending",
    delivery_attempts: 1,
    delivered_at: 0,
    first_sent_at: now,
    created_at: now,
    self: null,
  });
}

/** Two handlers per conversation notification; contact notifications run one slow handler (for the kill). */
function writeHandlers(dir: string): string {
  const path = join(dir, "handlers.mjs");
  const log = JSON.stringify(join(dir, "runs.ndjson"));
  writeFileSync(
    path,
    `import { appendFileSync } from "node:fs";
const log = (name, n, phase) => appendFileSync(${log}, JSON.stringify({ name, id: n.id, pid: process.pid, phase, at: Date.now() }) + "\\n");
const run = (name, ms) => async (n) => {
  log(name, n, "start");
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  log(name, n, "ok");
};
export default {
  "conversation.*": run("crm", 0),
  "conversation.user.replied": run("archive", 0),
  "contact.*": run("slow", 600),
};
`,
  );
  return path;
}

interface Run {
  name: string;
  id: string;
  pid: number;
  phase: "start" | "ok";
  at: number;
}

function readRuns(dir: string): Run[] {
  const file = join(dir, "runs.ndjson");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Run);
}

/** Runs `tasks` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        await task(item);
      }
    }),
  );
}

describe.skipIf(!isReachable)("three serve instances on one Redis prefix", () => {
  const prefix = uniquePrefix("ib-multi");
  let dir: string;
  let servers: ServeProcess[] = [];
  let store: RedisStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ib-multi-"));
    const handlers = writeHandlers(dir);
    servers = await Promise.all(
      [0, 1, 2].map((i) =>
        startServe(
          [
            "--store",
            `${REDIS_URL}/0`,
            "--redis-prefix",
            prefix,
            "--handlers",
            handlers,
            "--lease-ms",
            "1000",
            "--retry-base-ms",
            "50",
            "--concurrency",
            "8",
            "--data-dir",
            join(dir, `instance-${i}`),
          ],
          { ...VOLATILE_REDIS_ENV },
          SECRET,
        ),
      ),
    );
    store = createRedisStore({ url: REDIS_URL, prefix, ...ALLOW_VOLATILE });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await store?.close();
    await deletePrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("runs every handler exactly once per notification when each is sent twice to two instances at once", async () => {
    const ids = Array.from({ length: 1_000 }, () => `notif_${randomUUID()}`);
    const statuses = new Map<number, number>();
    await pool(ids, 32, async (id) => {
      const i = ids.indexOf(id);
      const body = notification("conversation.user.replied", id, `conv_${i % 50}`);
      const [a, b] = await Promise.all([servers[i % 3]!.post(body), servers[(i + 1) % 3]!.post(body)]);
      for (const r of [a, b]) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    });
    expect(Object.fromEntries(statuses)).toEqual({ 200: 2_000 });
    await waitFor(() => readRuns(dir).filter((r) => r.phase === "ok").length >= 2_000, {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    await new Promise((r) => setTimeout(r, 500)); // a late second run would show up now
    const runs = readRuns(dir);
    const per = new Map<string, { start: number; ok: number }>();
    for (const r of runs) {
      const key = `${r.id}/${r.name}`;
      const c = per.get(key) ?? { start: 0, ok: 0 };
      c[r.phase === "start" ? "start" : "ok"]++;
      per.set(key, c);
    }
    expect(per.size).toBe(2_000);
    expect([...per.values()].filter((c) => c.start !== 1 || c.ok !== 1)).toEqual([]);
    // Work was spread over the instances.
    expect(new Set(runs.map((r) => r.pid)).size).toBeGreaterThan(1);
    expect(await store.countJobs({ state: "done" })).toBe(2_000);
    expect(await store.countJobs({})).toBe(2_000);
  }, 120_000);

  it("streams a notification received by one instance to a dashboard connected to another", async () => {
    const [a, b] = servers as [ServeProcess, ServeProcess];
    const aborter = new AbortController();
    const res = await fetch(`${a.url}/api/stream`, {
      headers: { authorization: "Bearer test-admin-token" },
      signal: aborter.signal,
    });
    expect(res.status).toBe(200);
    const id = `notif_${randomUUID()}`;
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let sent = false;
    const deadline = setTimeout(() => aborter.abort(), 10_000);
    try {
      while (!buffer.includes(`"notificationId":"${id}"`)) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        if (!sent && buffer.includes("event: ready")) {
          sent = true;
          expect((await b.post(notification("conversation.user.replied", id, "conv_live"))).status).toBe(200);
        }
      }
    } catch (err) {
      if (!aborter.signal.aborted) throw err;
    } finally {
      clearTimeout(deadline);
      aborter.abort();
    }
    expect(buffer).toContain(`"notificationId":"${id}"`);
  }, 30_000);

  it("hands a kill -9'd instance's running deliveries to the others: none lost, none re-run after success", async () => {
    const victim = servers[0]!;
    const ids = Array.from({ length: 150 }, () => `notif_${randomUUID()}`);
    await pool(ids, 16, async (id) => {
      const i = ids.indexOf(id);
      const r = await servers[i % 3]!.post(notification("contact.user.created", id, `contact_${i}`));
      expect(r.status).toBe(200);
    });
    const slow = (): Run[] => readRuns(dir).filter((r) => r.name === "slow");
    // Kill the victim while it has handlers in flight (started, not finished).
    await waitFor(
      () => {
        const mine = slow().filter((r) => r.pid === victim.child.pid);
        const started = new Set(mine.filter((r) => r.phase === "start").map((r) => r.id));
        for (const r of mine) if (r.phase === "ok") started.delete(r.id);
        return started.size >= 3;
      },
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    const killedAt = Date.now();
    await victim.kill9();
    servers = servers.slice(1);
    await waitFor(
      () =>
        new Set(
          slow()
            .filter((r) => r.phase === "ok")
            .map((r) => r.id),
        ).size === ids.length,
      {
        timeoutMs: 60_000,
        intervalMs: 200,
      },
    );
    await waitFor(async () => (await store.countJobs({ state: "done", topic: "contact.*" })) === ids.length, {
      timeoutMs: 10_000,
    });
    await new Promise((r) => setTimeout(r, 1_500));
    const runs = slow();
    let takenOver = 0;
    const takenOverIds: string[] = [];
    for (const id of ids) {
      const mine = runs.filter((r) => r.id === id);
      const oks = mine.filter((r) => r.phase === "ok");
      expect(oks.length).toBeGreaterThanOrEqual(1); // nothing lost
      const job = (await store.listJobs({ notificationId: id })).items[0]!;
      const detail = (await store.getJob(job.id))!;
      const outcomes = detail.history.map((h) => h.outcome);
      // Exactly one recorded success, and it is the last run: nothing ran after it.
      expect(outcomes.filter((o) => o === "completed")).toHaveLength(1);
      expect(outcomes.at(-1)).toBe("completed");
      const lastOk = oks.at(-1)!;
      expect(mine.filter((r) => r.phase === "start" && r.at > lastOk.at)).toEqual([]);
      if (outcomes.includes("lease-expired")) {
        takenOver++;
        takenOverIds.push(id);
        // The interrupted run was the victim's; the takeover happened on a survivor.
        expect(detail.history[0]?.outcome).toBe("lease-expired");
        expect(mine.some((r) => r.pid !== victim.child.pid && r.phase === "ok")).toBe(true);
      } else {
        expect(oks).toHaveLength(1);
      }
      // A second handler success can only come from a run killed between its side effect and its ack.
      if (oks.length > 1) expect(oks[0]!.pid).toBe(victim.child.pid);
    }
    expect(takenOver).toBeGreaterThanOrEqual(3);
    // How long after the kill the interrupted deliveries ran again (lease 1 s + stalled check).
    const takeover = takenOverIds
      .map((id) =>
        runs.find((r) => r.id === id && r.phase === "start" && r.pid !== victim.child.pid && r.at > killedAt),
      )
      .filter((r): r is Run => r !== undefined)
      .map((r) => r.at - killedAt);
    console.log(
      `takeover after kill -9: ${takenOver} deliveries, re-run ${Math.min(...takeover)}–${Math.max(...takeover)} ms after the kill`,
    );
  }, 120_000);
});
