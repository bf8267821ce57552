import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import { makeDelivery, makeRecord } from "../../src/testing/store-conformance.js";

const JOBS = 500;
const dir = mkdtempSync(join(tmpdir(), "ib-two-proc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runWorker(dbPath: string, outFile: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "npx",
      ["tsx", join(import.meta.dirname, "../helpers/sqlite-worker.ts"), dbPath, outFile, String(JOBS)],
      {
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    child.on("error", reject);
    child.on("exit", (code) => resolve(code));
  });
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

describe("SqliteStore shared by two worker processes", () => {
  it("runs every one of 500 deliveries exactly once across both processes", async () => {
    const dbPath = join(dir, "shared.db");
    const store = createSqliteStore({ path: dbPath });
    const jobIds: string[] = [];
    const results = await Promise.all(
      Array.from({ length: JOBS }, (_, i) =>
        store.enqueue({
          dedupeKey: `k${i}`,
          dedupeTtlMs: 60_000,
          record: makeRecord({ itemId: `item-${i}` }),
          deliveries: [makeDelivery("noop")],
        }),
      ),
    );
    for (const r of results) if (r.status === "enqueued") jobIds.push(...r.jobIds);
    await store.close();
    expect(jobIds).toHaveLength(JOBS);

    const outA = join(dir, "a.txt");
    const outB = join(dir, "b.txt");
    const codes = await Promise.all([runWorker(dbPath, outA), runWorker(dbPath, outB)]);
    expect(codes).toEqual([0, 0]);

    const a = lines(outA);
    const b = lines(outB);
    const all = [...a, ...b];
    expect(all).toHaveLength(JOBS); // no delivery ran twice
    expect(new Set(all)).toEqual(new Set(jobIds)); // and none was missed
    expect(a.filter((id) => b.includes(id))).toEqual([]);
    expect(a.length).toBeGreaterThan(0); // both processes took part
    expect(b.length).toBeGreaterThan(0);

    const check = createSqliteStore({ path: dbPath });
    expect(await check.countJobs({ state: "done" })).toBe(JOBS);
    const sample = await check.getJob(jobIds[0]!);
    expect(sample?.history.map((h) => h.outcome)).toEqual(["completed"]);
    await check.close();
  }, 120_000);
});
