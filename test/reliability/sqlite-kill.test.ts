/**
 * Reliability: a built `serve` on SQLite is killed with SIGKILL at random moments under continuous signed load and
 * restarted on the same file. Every acknowledged notification must be stored and forwarded; runs that had started
 * when the process died may run again (at-least-once), at most `--concurrency` per kill.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import { killUnderLoad, report, settle, startSink, type Sink } from "../helpers/kill-under-load.js";
import { freePort, startServe, type ServeProcess } from "../helpers/serve-process.js";

const SECRET = "reliability-secret";
const KILLS = 5;
const CONCURRENCY = 8;

describe("serve on SQLite under repeated kill -9", () => {
  const dir = mkdtempSync(join(tmpdir(), "ib-rel-sqlite-"));
  let sink: Sink | undefined;
  let last: ServeProcess | undefined;
  afterAll(async () => {
    await last?.kill9();
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`loses no acknowledged notification over ${KILLS} kills`, async () => {
    sink = await startSink();
    const port = await freePort();
    const dbPath = join(dir, "bridge.db");
    const flags = [
      "--store",
      `sqlite:${dbPath}`,
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
    const load = await killUnderLoad({
      start: () => startServe(flags, env, SECRET, { port, built: true }),
      port,
      secret: SECRET,
      kills: KILLS,
      upMs: [700, 1_800],
    });
    last = load.last;
    const store = createSqliteStore({ path: dbPath });
    try {
      const figures = await settle(load, sink, (state) => store.countJobs(state ? { state } : {}));
      report(`sqlite, kill -9 x${KILLS}`, figures);
      expect(load.unexpected).toEqual([]);
      expect(figures.acknowledged).toBeGreaterThan(100); // the load really ran
      expect(figures.lost).toBe(0);
      expect(await store.countJobs({ state: "done" })).toBe(figures.stored);
      expect(figures.processed).toBe(figures.stored);
      // Stored without an answer: only requests that were cut off by a kill.
      expect(figures.stored - figures.acknowledged).toBeGreaterThanOrEqual(0);
      expect(figures.stored - figures.acknowledged).toBeLessThanOrEqual(figures.unanswered);
      expect(figures.duplicateRuns).toBeLessThanOrEqual(KILLS * CONCURRENCY);
    } finally {
      await store.close();
    }
    expect(await load.last.stop()).toBe(0);
  }, 90_000);
});
