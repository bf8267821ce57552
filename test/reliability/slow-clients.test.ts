/**
 * Reliability: hundreds of slow and silent clients (a stalled signed body, a body trickled a byte at a time, a
 * connection that sends nothing) hold connections to a built `serve` on SQLite while signed notifications arrive
 * without pause. Each slow client gets 408 or is closed once `--request-timeout` passes; the signed load is answered
 * 200 throughout, and everything acknowledged is delivered.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sign } from "../../src/core/signature.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import { loadNotification, report, settle, startLoad, startSink, type Sink } from "../helpers/kill-under-load.js";
import { head, open, parseAnswer, type Raw } from "../helpers/raw-http.js";
import { startServe, type ServeProcess } from "../helpers/serve-process.js";

const SECRET = "reliability-secret";
const TIMEOUT_MS = 2_000;
const PER_KIND = 100;

type Kind = "stalled" | "trickled" | "silent";

/** Opens one slow client of `kind`; resolves with how it ended. */
async function slowClient(port: number, kind: Kind, n: number): Promise<{ kind: Kind; status: number; ms: number }> {
  const raw: Raw = await open(port);
  const body = loadNotification(`notif_slow_${kind}_${n}`);
  const signed = head({
    "content-type": "application/json",
    "x-hub-signature": sign(body, SECRET),
    "content-length": String(body.length),
  });
  let trickle: NodeJS.Timeout | undefined;
  if (kind === "stalled") raw.socket.write(signed + body.slice(0, 10));
  if (kind === "trickled") {
    raw.socket.write(signed);
    let i = 0;
    trickle = setInterval(() => {
      if (!raw.socket.destroyed && i < body.length) raw.socket.write(body[i++]!);
    }, 250);
  }
  const ms = await raw.closed;
  clearInterval(trickle);
  const answer = raw.received();
  return { kind, status: answer ? parseAnswer(answer).status : 0, ms };
}

describe("serve on SQLite with hundreds of slow clients", () => {
  const dir = mkdtempSync(join(tmpdir(), "ib-rel-slow-"));
  let sink: Sink | undefined;
  let server: ServeProcess | undefined;
  afterAll(async () => {
    await server?.kill9();
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`answers signed notifications while ${3 * PER_KIND} slow clients wait for --request-timeout`, async () => {
    sink = await startSink();
    const dbPath = join(dir, "bridge.db");
    server = await startServe(
      ["--store", `sqlite:${dbPath}`, "--forward", `*=${sink.url}`, "--request-timeout", `${TIMEOUT_MS}ms`],
      { INTERCOM_BRIDGE_FORWARD_SECRET: "forward-secret" },
      SECRET,
      { built: true },
    );
    const s = server;
    const load = startLoad(s.port, SECRET, 8);
    const slow = await Promise.all(
      (["stalled", "trickled", "silent"] as const).flatMap((kind) =>
        Array.from({ length: PER_KIND }, (_, n) => slowClient(s.port, kind, n)),
      ),
    );
    const result = await load.stop();
    const store = createSqliteStore({ path: dbPath });
    try {
      const figures = await settle(result, sink, (state) => store.countJobs(state ? { state } : {}));
      const slowest = Math.max(...slow.map((c) => c.ms));
      const timedOut = slow.filter((c) => c.status === 408).length;
      report(
        `sqlite, ${slow.length} slow clients, --request-timeout ${TIMEOUT_MS} ms`,
        figures,
        `slow clients answered 408 ${timedOut}, closed without an answer ${slow.length - timedOut}, slowest closed after ${slowest} ms`,
      );
      expect(result.unexpected).toEqual([]);
      expect(figures.unanswered).toBe(0);
      expect(figures.refused).toBe(0);
      expect(figures.acknowledged).toBeGreaterThan(50);
      expect(figures.lost).toBe(0);
      expect(figures.processed).toBe(figures.stored);
      expect(figures.stored).toBe(figures.acknowledged); // no slow client's body was stored
      // Every client that sent a signed head got the documented 408; each was let go once the timeout passed.
      expect(slow.filter((c) => c.kind !== "silent" && c.status !== 408)).toEqual([]);
      expect(slow.filter((c) => c.kind === "silent" && c.status !== 408 && c.status !== 0)).toEqual([]);
      expect(Math.min(...slow.map((c) => c.ms))).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
      expect(slowest).toBeLessThan(TIMEOUT_MS + 8_000);
    } finally {
      await store.close();
    }
    expect(await s.stop()).toBe(0);
  }, 60_000);
});
