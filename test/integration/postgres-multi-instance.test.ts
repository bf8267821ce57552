/**
 * Three `intercom-bridge serve` processes on one PostgreSQL schema: cross-instance dedupe, every handler run exactly
 * once, live dashboard updates across instances, and a `kill -9` of an instance mid-load: nothing it acknowledged is
 * lost, and its running deliveries are finished by the others once their leases expire.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres/index.js";
import { checkPostgres, dropSchema, POSTGRES_URL, uniqueSchema } from "../helpers/postgres.js";
import { startServe, type ServeProcess } from "../helpers/serve-process.js";
import { waitFor } from "../helpers/wait-for.js";

const isReachable = await checkPostgres();
const SECRET = "pg-multi-instance-secret";

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

/** Runs `task` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        await task(items[i]!, i);
      }
    }),
  );
}

describe.skipIf(!isReachable)("three serve instances on one PostgreSQL schema", () => {
  const schema = uniqueSchema("ib_multi");
  let dir: string;
  let servers: ServeProcess[] = [];
  let store: PostgresStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ib-pg-multi-"));
    const handlers = writeHandlers(dir);
    // Started together: the advisory lock makes them migrate the new schema once.
    servers = await Promise.all(
      [0, 1, 2].map((i) =>
        startServe(
          [
            "--store",
            POSTGRES_URL,
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
          { INTERCOM_BRIDGE_POSTGRES_SCHEMA: schema },
          SECRET,
        ),
      ),
    );
    store = await createPostgresStore({ connectionString: POSTGRES_URL }, { schema });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await store?.close();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("runs every handler exactly once per notification when each is sent twice to two instances at once", async () => {
    const ids = Array.from({ length: 1_000 }, () => `notif_${randomUUID()}`);
    const statuses = new Map<number, number>();
    await pool(ids, 32, async (id, i) => {
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

  it("loses nothing a kill -9'd instance acknowledged mid-load, and hands its running deliveries to the others", async () => {
    const victim = servers[0]!;
    const victimPid = victim.child.pid;
    // Slow deliveries first (so the victim has some running when it dies), then fast ones until after the kill.
    const slowIds = Array.from({ length: 150 }, () => `notif_${randomUUID()}`);
    const acknowledged = new Map<string, "slow" | "fast">();
    let killedAt = 0;
    let refusedByVictim = 0;
    const slow = (): Run[] => readRuns(dir).filter((r) => r.name === "slow");
    const send = async (id: string, i: number, kind: "slow" | "fast"): Promise<void> => {
      const toVictim = killedAt === 0 && i % 3 === 0;
      const target = toVictim ? victim : servers[1 + (i % 2)]!;
      const body =
        kind === "slow"
          ? notification("contact.user.created", id, `contact_${i}`)
          : notification("conversation.user.replied", id, `conv_k${i % 40}`);
      try {
        const r = await target.post(body);
        if (r.status === 200) acknowledged.set(id, kind);
      } catch {
        if (toVictim) refusedByVictim++; // reset by the kill: never acknowledged
      }
    };
    const killer = (async () => {
      await waitFor(
        () => {
          const mine = slow().filter((r) => r.pid === victimPid);
          const started = new Set(mine.filter((r) => r.phase === "start").map((r) => r.id));
          for (const r of mine) if (r.phase === "ok") started.delete(r.id);
          return started.size >= 3;
        },
        { timeoutMs: 30_000, intervalMs: 20 },
      );
      killedAt = Date.now();
      await victim.kill9();
    })();
    let n = 0;
    await Promise.all([
      pool(slowIds, 6, (id, i) => send(id, i, "slow")),
      ...Array.from({ length: 8 }, async () => {
        while (n < 5_000 && (killedAt === 0 || Date.now() - killedAt < 1_500)) {
          const i = n++;
          await send(`notif_${randomUUID()}`, i, "fast");
        }
      }),
    ]);
    await killer;
    servers = servers.slice(1);
    const fastAcked = [...acknowledged].filter(([, k]) => k === "fast").map(([id]) => id);
    const slowAcked = [...acknowledged].filter(([, k]) => k === "slow").map(([id]) => id);
    expect(slowAcked.length).toBeGreaterThan(slowIds.length / 2);
    // Every acknowledged notification is delivered to each of its handlers.
    await waitFor(
      () => {
        const runs = readRuns(dir).filter((r) => r.phase === "ok");
        const done = new Set(runs.map((r) => `${r.id}/${r.name}`));
        return (
          fastAcked.every((id) => done.has(`${id}/crm`) && done.has(`${id}/archive`)) &&
          slowAcked.every((id) => done.has(`${id}/slow`))
        );
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    await new Promise((r) => setTimeout(r, 1_500));
    const runs = slow();
    let takenOver = 0;
    for (const id of slowAcked) {
      const mine = runs.filter((r) => r.id === id);
      const oks = mine.filter((r) => r.phase === "ok");
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
        expect(detail.history[0]?.outcome).toBe("lease-expired");
        expect(mine.some((r) => r.pid !== victimPid && r.phase === "ok")).toBe(true);
      } else expect(oks).toHaveLength(1);
      // A second handler success can only come from a run killed between its side effect and its ack.
      if (oks.length > 1) expect(oks[0]!.pid).toBe(victimPid);
    }
    expect(takenOver).toBeGreaterThanOrEqual(3);
    const takeover = runs
      .filter((r) => r.phase === "start" && r.pid !== victimPid && r.at > killedAt)
      .filter((r) => runs.some((v) => v.id === r.id && v.pid === victimPid && v.phase === "start"))
      .map((r) => r.at - killedAt);
    console.log(
      `kill -9 mid-load: ${acknowledged.size} acknowledged (${slowAcked.length} slow, ${fastAcked.length} fast), ${refusedByVictim} requests cut by the kill; ` +
        `${takenOver} running deliveries taken over ${Math.min(...takeover)}–${Math.max(...takeover)} ms after the kill`,
    );
  }, 120_000);
});
