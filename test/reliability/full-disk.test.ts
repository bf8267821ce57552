/**
 * Reliability: a built `serve` whose SQLite file lives on a small tmpfs that fills up. While the disk is full every
 * notification is either refused with 503 (and changes nothing: Intercom's retry is accepted later as new) or
 * acknowledged and then delivered; none is acknowledged and lost, and the service recovers by itself once space
 * returns. Mounting a tmpfs needs root on Linux; elsewhere the test is skipped with the reason in its title.
 */
import { randomUUID } from "node:crypto";
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadNotification, startSink, type Sink } from "../helpers/kill-under-load.js";
import { startServe, type ServeProcess } from "../helpers/serve-process.js";
import { mountTmpfs } from "../helpers/tmpfs.js";
import { waitFor } from "../helpers/wait-for.js";

const SECRET = "reliability-secret";
const disk = mountTmpfs("size=8m");
const skipReason = "skip" in disk ? ` (skipped: ${disk.skip})` : "";

/** Writes zeros to `path` until the file system refuses; returns the bytes written. */
function fillDisk(path: string): number {
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(16 * 1024);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
  return written;
}

describe("serve on SQLite when the disk fills up", () => {
  let sink: Sink | undefined;
  let server: ServeProcess | undefined;
  afterAll(async () => {
    await server?.kill9();
    await sink?.close();
    if (!("skip" in disk)) disk.unmount();
  });

  it.skipIf("skip" in disk)(
    `refuses with 503 while full, loses nothing acknowledged, recovers${skipReason}`,
    async () => {
      if ("skip" in disk) return;
      sink = await startSink();
      server = await startServe(
        ["--store", `sqlite:${join(disk.dir, "bridge.db")}`, "--forward", `*=${sink.url}`, "--retry-base-ms", "50"],
        { INTERCOM_BRIDGE_FORWARD_SECRET: "forward-secret" },
        SECRET,
        { built: true },
      );
      const s = server;
      const acknowledged: string[] = [];
      const refused: string[] = [];
      const other: string[] = [];
      const post = async (id: string): Promise<number> => {
        const res = await s.post(loadNotification(id));
        if (res.status === 200) acknowledged.push(id);
        else if (res.status === 503) refused.push(id);
        else other.push(`${res.status} ${JSON.stringify(res.body)}`);
        return res.status;
      };
      for (let i = 0; i < 20; i++) expect(await post(`notif_${randomUUID()}`)).toBe(200);

      const filler = join(disk.dir, "filler");
      const filled = fillDisk(filler);
      const duringFull: string[] = [];
      for (let round = 0; round < 10; round++) {
        const ids = Array.from({ length: 20 }, () => `notif_${randomUUID()}`);
        duringFull.push(...ids);
        await Promise.all(ids.map(post));
        // Whatever still fitted in space SQLite had already taken is acknowledged; the rest must be refused.
        fillDisk(`${filler}-${round}`);
      }
      const refusedWhileFull = refused.length;
      const acknowledgedWhileFull = duringFull.filter((id) => acknowledged.includes(id)).length;
      expect(other).toEqual([]);
      expect(refusedWhileFull).toBeGreaterThan(0); // the disk really was full

      for (let round = 0; round < 10; round++) rmSync(`${filler}-${round}`, { force: true });
      rmSync(filler);
      // Intercom retries what was refused: each is accepted now, as new (the refusal stored nothing).
      const retried = [...refused];
      await waitFor(async () => (await post(`notif_${randomUUID()}`)) === 200, { timeoutMs: 10_000, intervalMs: 200 });
      for (const id of retried) {
        const res = await s.post(loadNotification(id));
        expect(res).toMatchObject({ status: 200, body: { received: true } });
        expect(res.body).not.toHaveProperty("duplicate");
        acknowledged.push(id);
      }
      await waitFor(() => acknowledged.every((id) => sink!.runs.has(id)), { timeoutMs: 20_000, intervalMs: 100 });
      const lost = acknowledged.filter((id) => !sink!.runs.has(id)).length;
      console.log(
        `[reliability] sqlite, full disk (tmpfs 8 MiB, ${Math.round(filled / 1024)} KiB filler): ` +
          `while full ${acknowledgedWhileFull} acknowledged and ${refusedWhileFull} refused (503) of ${duringFull.length}; ` +
          `after space returned ${retried.length} retries accepted; acknowledged ${new Set(acknowledged).size}, ` +
          `processed ${sink.runs.size}, duplicate runs ${sink.total() - sink.runs.size}, lost ${lost}`,
      );
      expect(lost).toBe(0);
      expect(sink.runs.size).toBe(new Set(acknowledged).size);
      expect(await s.stop()).toBe(0);
    },
    60_000,
  );
});
