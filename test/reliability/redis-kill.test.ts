/**
 * Reliability: a built `serve` on a Redis with AOF on (`appendfsync always`, a redis-server this test starts) is
 * killed with SIGKILL at random moments under continuous signed load and restarted; once, Redis itself is killed
 * and restarted while serve keeps taking load. Every acknowledged notification must be stored and forwarded.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createRedisStore } from "../../src/store/redis/index.js";
import { killUnderLoad, report, settle, startSink, type Sink } from "../helpers/kill-under-load.js";
import { hasRedisServerBinary, IS_REDIS_REQUIRED, privateRedis, type PrivateRedis } from "../helpers/redis.js";
import { freePort, startServe, type ServeProcess } from "../helpers/serve-process.js";
import { sleep } from "../helpers/wait-for.js";

const hasBinary = hasRedisServerBinary();
if (!hasBinary && IS_REDIS_REQUIRED) throw new Error("REQUIRE_REDIS=1 but redis-server is not installed");

const SECRET = "reliability-secret";
const KILLS = 3;
const CONCURRENCY = 8;

describe.skipIf(!hasBinary)("serve on Redis (AOF on) under repeated kill -9", () => {
  const dir = mkdtempSync(join(tmpdir(), "ib-rel-redis-"));
  let redis: PrivateRedis | undefined;
  let sink: Sink | undefined;
  let last: ServeProcess | undefined;
  afterAll(async () => {
    await last?.kill9();
    await sink?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`loses no acknowledged notification over ${KILLS} kills of serve and one of Redis`, async () => {
    mkdirSync(join(dir, "redis"));
    redis = await privateRedis(join(dir, "redis"));
    await redis.start();
    sink = await startSink();
    const port = await freePort();
    const flags = [
      "--store",
      redis.url,
      "--redis-prefix",
      "reliability",
      "--data-dir",
      join(dir, "data"),
      "--forward",
      `*=${sink.url}`,
      "--concurrency",
      String(CONCURRENCY),
      "--lease-ms",
      "1000",
      "--retry-base-ms",
      "50",
    ];
    const env = { INTERCOM_BRIDGE_FORWARD_SECRET: "forward-secret" };
    const r = redis;
    const load = await killUnderLoad({
      start: () => startServe(flags, env, SECRET, { port, built: true }),
      port,
      secret: SECRET,
      kills: KILLS,
      upMs: [800, 1_800],
      async afterStart(n) {
        // After the second restart, Redis dies under load and comes back: serve spools meanwhile.
        if (n !== 2) return;
        await sleep(300);
        await r.stop();
        await sleep(700);
        await r.start();
      },
    });
    last = load.last;
    const store = createRedisStore({ url: redis.url, prefix: "reliability" });
    try {
      const figures = await settle(load, sink, (state) => store.countJobs(state ? { state } : {}), 45_000);
      report(`redis (AOF always), kill -9 x${KILLS} + one Redis kill`, figures);
      expect(load.unexpected).toEqual([]);
      expect(figures.acknowledged).toBeGreaterThan(100);
      expect(figures.lost).toBe(0);
      expect(await store.countJobs({ state: "done" })).toBe(figures.stored);
      expect(figures.processed).toBe(figures.stored);
      expect(figures.stored - figures.acknowledged).toBeGreaterThanOrEqual(0);
      expect(figures.stored - figures.acknowledged).toBeLessThanOrEqual(figures.unanswered);
      // Each fault (a serve kill, the Redis kill) may re-run at most the runs in flight then.
      expect(figures.duplicateRuns).toBeLessThanOrEqual((KILLS + 1) * CONCURRENCY);
    } finally {
      await store.close();
    }
    expect(await load.last.stop()).toBe(0);
  }, 120_000);
});
