import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, StoreError } from "../../src/core/errors.js";
import { createSqliteStore, loadMigrations } from "../../src/store/sqlite/index.js";
import { writeStatementSql } from "../../src/store/sqlite/sqlite-writer.js";
import { makeDelivery, makeRecord } from "../../src/testing/store-conformance.js";
import { sleep } from "../helpers/wait-for.js";

const dir = mkdtempSync(join(tmpdir(), "ib-sqlite-only-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (): string => join(dir, `db-${++n}`, "bridge.db");

describe("SqliteStore (backend-specific behaviour)", () => {
  it("lists an app's records filtered by topic from an index alone, never reading the table rows (migration 0005)", async () => {
    const path = file();
    const store = createSqliteStore({ path });
    await store.enqueue({
      dedupeKey: "k",
      dedupeTtlMs: 60_000,
      record: makeRecord({ appId: "app1", topic: "ticket.created" }),
      deliveries: [makeDelivery("a")],
    });
    for (const topic of ["ticket.*", "ticket.created"]) {
      const page = await store.listRecords({ queue: "inbound", appId: "app1", topic, limit: 10 });
      expect(page.items).toHaveLength(1);
    }
    // The statements listRecords prepared, explained: each must read a covering index (no row lookups per candidate).
    const cache = (store as unknown as { reader: { dynamic: Map<string, unknown> } }).reader.dynamic;
    const db = new Database(path, { readonly: true });
    const plans = [...cache.keys()]
      .filter((sql) => sql.startsWith("SELECT r.seq FROM records r"))
      .map((sql) =>
        (
          db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array<null>(sql.split("?").length - 1).fill(null)) as {
            detail: string;
          }[]
        )
          .map((r) => r.detail)
          .join("; "),
      );
    expect(plans).toHaveLength(2);
    for (const plan of plans) expect(plan).toMatch(/USING COVERING INDEX records_(app|topic)/);
    db.close();
    await store.close();
  });

  it("copies committed enqueues into the database file from its checkpointer thread, not only at walAutocheckpointPages", async () => {
    const sizes: Record<string, number> = {};
    for (const checkpointIntervalMs of [0, 20]) {
      const path = file();
      // 5000 pages: far more than 300 small enqueues write, so without the checkpointer nothing reaches the file.
      const store = createSqliteStore({ path, checkpointIntervalMs, walAutocheckpointPages: 5_000 });
      for (let i = 0; i < 300; i += 30) {
        await Promise.all(
          Array.from({ length: 30 }, (_, j) =>
            store.enqueue({
              dedupeKey: `k${i + j}`,
              dedupeTtlMs: 60_000,
              record: makeRecord({ body: JSON.stringify({ pad: "x".repeat(1_000), n: i + j }) }),
              deliveries: [makeDelivery("a")],
            }),
          ),
        );
      }
      await sleep(300);
      sizes[checkpointIntervalMs] = statSync(path).size;
      await store.close();
    }
    // 300 records of ~1 KB: the checkpointer copied them into the file while the store was open.
    expect(sizes[20]).toBeGreaterThan(300_000);
    expect(sizes[0]).toBeLessThan(200_000);
  });

  it("applies migrations once, records the version and keeps data across re-opens", async () => {
    const path = file();
    const first = createSqliteStore({ path });
    const r = await first.enqueue({
      dedupeKey: "k",
      dedupeTtlMs: 60_000,
      record: makeRecord(),
      deliveries: [makeDelivery("a")],
    });
    await first.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(loadMigrations().at(-1)!.version);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
    const again = createSqliteStore({ path });
    expect(r.status).toBe("enqueued");
    if (r.status !== "enqueued") return;
    expect((await again.getRecord(r.recordId))?.jobs.map((j) => j.state)).toEqual(["pending"]);
    expect(
      (await again.enqueue({ dedupeKey: "k", dedupeTtlMs: 60_000, record: makeRecord(), deliveries: [] })).status,
    ).toBe("duplicate");
    await again.close();
  });

  it("reads ordering heads through jobs_order, and enqueues and settles without a temporary table", async () => {
    const path = file();
    await createSqliteStore({ path }).close();
    const db = new Database(path);
    const sql = writeStatementSql(db);
    const explain = (name: string, mode: "EXPLAIN" | "EXPLAIN QUERY PLAN"): Array<Record<string, unknown>> => {
      const text = sql[name]!;
      return db.prepare(`${mode} ${text}`).all(...Array<null>(text.split("?").length - 1).fill(null)) as Array<
        Record<string, unknown>
      >;
    };
    for (const name of ["headOf", "promoteHead"]) {
      expect(
        explain(name, "EXPLAIN QUERY PLAN")
          .map((r) => r["detail"])
          .join("\n"),
      ).toContain("INDEX jobs_order");
    }
    // A partial-index predicate with a 3-value IN list made SQLite open and close a temporary table on every job
    // insert and twice per settlement (migration 0004); so did the settlement's RETURNING.
    for (const name of ["dedupeUpsert", "insertRecord", "insertJob", "headOf", "setHead", "promoteHead", "settle"]) {
      expect(explain(name, "EXPLAIN").filter((op) => String(op["opcode"]).includes("Ephemeral"))).toEqual([]);
    }
    db.close();
  });

  it("purges expired dedupe keys and keeps live ones", async () => {
    const store = createSqliteStore({ path: file() });
    await store.enqueue({ dedupeKey: "short", dedupeTtlMs: 1, record: makeRecord(), deliveries: [] });
    await store.enqueue({ dedupeKey: "long", dedupeTtlMs: 60_000, record: makeRecord(), deliveries: [] });
    await sleep(10);
    expect(await store.purgeExpiredDedupeKeys()).toBe(1);
    expect(await store.purgeExpiredDedupeKeys()).toBe(0);
    expect(
      (await store.enqueue({ dedupeKey: "long", dedupeTtlMs: 60_000, record: makeRecord(), deliveries: [] })).status,
    ).toBe("duplicate");
    await store.close();
  });

  it("rejects only the invalid item of a group-committed batch", async () => {
    const store = createSqliteStore({ path: file() });
    const calls = Array.from({ length: 10 }, (_, i) =>
      store.enqueue({
        dedupeKey: `k${i}`,
        dedupeTtlMs: 60_000,
        record: makeRecord(),
        deliveries: [makeDelivery("a", { maxAttempts: i === 4 ? 0 : 3 })],
      }),
    );
    const settled = await Promise.allSettled(calls);
    expect(settled.filter((s) => s.status === "rejected")).toHaveLength(1);
    expect(settled[4]?.status).toBe("rejected");
    expect(await store.countJobs({})).toBe(9);
    await store.close();
  });

  it("refuses a file that is not a database with StoreError, and bad options with ConfigError", () => {
    const path = join(dir, "garbage.db");
    writeFileSync(path, "this is not a database, just text ".repeat(200));
    expect(() => createSqliteStore({ path })).toThrow(StoreError);
    expect(() => createSqliteStore({ path: file(), synchronous: "OFF" as "FULL" })).toThrow(ConfigError);
  });
});
