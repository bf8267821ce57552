/**
 * PostgreSQL-specific behaviour the conformance suite cannot see: migrations under the advisory lock (instances
 * starting together migrate once; a newer schema is refused), and the query plans of the operator read model over a
 * million records (generate_series), which must read indexes in page order, never the whole table.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreError } from "../../src/core/errors.js";
import type { JobFilter } from "../../src/delivery/types.js";
import { createPostgresStore, loadMigrations } from "../../src/store/postgres/index.js";
import { statements } from "../../src/store/postgres/lease-backend.js";
import { PgReader, type Statement } from "../../src/store/postgres/reads.js";
import { makeDelivery, makeRecord } from "../../src/testing/store-conformance.js";
import { checkPostgres, dropSchema, POSTGRES_URL, uniqueSchema } from "../helpers/postgres.js";

const isReachable = await checkPostgres();

describe.skipIf(!isReachable)("PostgresStore (backend-specific behaviour)", () => {
  it("migrates a new schema once when three instances start together, and keeps data across re-opens", async () => {
    const schema = uniqueSchema("ib_migrate");
    try {
      const stores = await Promise.all(
        [0, 1, 2].map(() => createPostgresStore({ connectionString: POSTGRES_URL }, { schema })),
      );
      const r = await stores[0]!.enqueue({
        dedupeKey: "k",
        dedupeTtlMs: 60_000,
        record: makeRecord(),
        deliveries: [makeDelivery("a")],
      });
      await Promise.all(stores.map((s) => s.close()));
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      const versions = await client.query<{ version: number }>(
        `SELECT version FROM "${schema}".schema_migrations ORDER BY version`,
      );
      expect(versions.rows.map((v) => v.version)).toEqual(loadMigrations().map((m) => m.version));
      await client.end();
      const again = await createPostgresStore({ connectionString: POSTGRES_URL }, { schema });
      if (r.status !== "enqueued") throw new Error("expected enqueued");
      expect((await again.getRecord(r.recordId))?.jobs.map((j) => j.state)).toEqual(["pending"]);
      await again.close();
    } finally {
      await dropSchema(schema);
    }
  });

  it("refuses a schema newer than it knows, and a bad schema name, with errors that say so", async () => {
    const schema = uniqueSchema("ib_newer");
    try {
      await (await createPostgresStore({ connectionString: POSTGRES_URL }, { schema })).close();
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES (9999, '9999_future.sql')`);
      await client.end();
      const opening = createPostgresStore({ connectionString: POSTGRES_URL }, { schema });
      await expect(opening).rejects.toBeInstanceOf(StoreError);
      await expect(opening).rejects.toThrow(/version 9999, newer than this intercom-bridge knows/);
    } finally {
      await dropSchema(schema);
    }
    await expect(createPostgresStore({ connectionString: POSTGRES_URL }, { schema: "bad-name;" })).rejects.toThrow(
      /not a plain identifier/,
    );
  });

  it("shares one rate budget between instances: concurrent acquires never grant more than max", async () => {
    const schema = uniqueSchema("ib_limiter");
    const stores = await Promise.all(
      [0, 1, 2].map(() => createPostgresStore({ connectionString: POSTGRES_URL }, { schema })),
    );
    try {
      // A window of ten years: no window boundary falls inside the test.
      const windowMs = 10 * 365 * 86_400_000;
      const waits = await Promise.all(
        Array.from({ length: 300 }, (_, i) => stores[i % 3]!.limiter("intercom").acquire(50, windowMs)),
      );
      expect(waits.filter((w) => w === 0)).toHaveLength(50);
      expect(waits.filter((w) => w > 0)).toHaveLength(250);
      expect((await stores[1]!.limiter("intercom").state()).used).toBe(50);
      // A pause set by one instance holds for the others.
      await stores[0]!.limiter("other").pauseUntil(Date.now() + 60_000, "429 from Intercom");
      expect(await stores[2]!.limiter("other").acquire(10, 1_000)).toBeGreaterThan(50_000);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await dropSchema(schema);
    }
  });

  it("fails to open with a StoreError that names no password when the database is unreachable", async () => {
    const opening = createPostgresStore(
      { connectionString: "postgres://user:s3cret-pass@127.0.0.1:1/test", connectTimeoutMs: 1_000 },
      { schema: "ib_unreachable" },
    );
    await expect(opening).rejects.toBeInstanceOf(StoreError);
    await expect(opening).rejects.not.toThrow(/s3cret/);
  });
});

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Plan Rows": number;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  "Rows Removed by Filter"?: number;
  Plans?: PlanNode[];
}

/** Rows a scan node read: returned plus filtered out, over all its loops. */
function rowsRead(n: PlanNode): number {
  return ((n["Actual Rows"] ?? 0) + (n["Rows Removed by Filter"] ?? 0)) * (n["Actual Loops"] ?? 1);
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe.skipIf(!isReachable)("PostgresStore list queries over 1,000,000 records", () => {
  const schema = uniqueSchema("ib_plans");
  const RECORDS = 1_000_000;
  const base = Date.now() - RECORDS * 10;
  let client: pg.Client;
  let reader: PgReader;
  let pool: pg.Pool;

  beforeAll(async () => {
    await (await createPostgresStore({ connectionString: POSTGRES_URL }, { schema })).close();
    client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    const s = `"${schema}"`;
    await client.query("SET synchronous_commit TO off");
    // One record per 10 ms over the last ~2.8 hours; 4 topics, 5 apps, 1,000 items; a tenth in the outbox.
    await client.query(
      `INSERT INTO ${s}.records (id, queue, topic, app_id, notification_id, item_id, created_at, received_at, body)
       SELECT lpad(to_hex(g), 12, '0'), CASE WHEN g % 10 = 0 THEN 'outbox' ELSE 'inbound' END,
         (ARRAY['conversation.user.replied', 'conversation.admin.replied', 'contact.user.created', 'ticket.created'])[1 + g % 4],
         'app' || (g % 5), 'notif_' || g, 'item_' || (g % 1000), 1700000000 + g, $1::bigint + g * 10, '{}'
       FROM generate_series(1, ${RECORDS}) AS g`,
      [base],
    );
    // One delivery each: mostly done, 2 % failed (due), 1 % dead.
    await client.query(
      `INSERT INTO ${s}.jobs (record_seq, idx, queue, target, order_created_at, order_received_at, state, attempts,
         max_attempts, backoff_type, backoff_delay_ms, run_at, updated_at)
       SELECT seq, 0, queue, CASE WHEN seq % 3 = 0 THEN 'crm' ELSE 'archive' END, created_at, received_at,
         CASE WHEN seq % 100 = 0 THEN 'dead' WHEN seq % 50 = 0 THEN 'failed' ELSE 'done' END, 1, 3, 'fixed', 10,
         CASE WHEN seq % 100 <> 0 AND seq % 50 = 0 THEN received_at END, received_at
       FROM ${s}.records`,
    );
    await client.query(`VACUUM ANALYZE ${s}.records`);
    await client.query(`VACUUM ANALYZE ${s}.jobs`);
    pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    reader = new PgReader(pool, s);
  }, 300_000);

  afterAll(async () => {
    await pool?.end();
    await client?.end();
    await dropSchema(schema);
  }, 60_000);

  const filters: Array<[string, JobFilter]> = [
    ["everything", {}],
    ["dead", { state: "dead" }],
    ["failed or dead", { state: ["failed", "dead"] }],
    ["inbound done", { queue: "inbound", state: "done" }],
    ["exact topic", { queue: "inbound", topic: "conversation.user.replied" }],
    ["topic group", { topic: "ticket.*" }],
    ["app", { appId: "app1" }],
    ["app + topic group", { appId: "app1", topic: "ticket.*" }],
    ["app + dead", { appId: "app1", state: "dead" }],
    ["target", { target: "crm" }],
    ["target + dead", { target: "crm", state: "dead" }],
    ["notification", { notificationId: "notif_123456" }],
    ["item", { itemId: "item_42" }],
    ["last 10 minutes", { since: Date.now() - 600_000 }],
    ["an old hour", { since: base + 3_600_000, until: base + 7_200_000 }],
  ];

  async function plan(st: Statement): Promise<{ nodes: PlanNode[]; ms: number }> {
    const started = performance.now();
    await client.query(st.text, st.values);
    const ms = performance.now() - started;
    const res = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${st.text}`,
      st.values,
    );
    return { nodes: nodes(res.rows[0]!["QUERY PLAN"][0].Plan), ms };
  }

  /** Indexed, and no scan reads more than a few pages' worth of what the filter's index range holds. */
  function expectIndexed(name: string, found: PlanNode[]): void {
    const scans = found.filter((n) => n["Node Type"].includes("Scan") && n["Actual Rows"] !== undefined);
    const heavy = scans.filter((n) => rowsRead(n) > RECORDS / 40).map((n) => `${n["Node Type"]} read ${rowsRead(n)}`);
    expect(heavy, `${name}: scans reading most of a table`).toEqual([]);
    expectPlanShape(name, found);
  }

  function expectPlanShape(name: string, found: PlanNode[]): void {
    const seqScans = found.filter((n) => n["Node Type"] === "Seq Scan").map((n) => n["Relation Name"]);
    expect(seqScans, `${name}: sequential scans`).toEqual([]);
    // A sort may order a page (a few hundred rows), never the table.
    const bigSorts = found.filter((n) => n["Node Type"] === "Sort" && n["Plan Rows"] > 5_000);
    expect(
      bigSorts.map((n) => n["Plan Rows"]),
      `${name}: large sorts`,
    ).toEqual([]);
  }

  it("lists deliveries newest first through an index for every dashboard filter, first page and deep pages", async () => {
    const timings: string[] = [];
    for (const [name, filter] of filters) {
      for (const after of [null, [RECORDS / 2, 0] as [number, number]]) {
        const p = await plan(await reader.jobRowsStatement(filter, after, 51));
        expectIndexed(`jobs ${name}${after ? " (deep page)" : ""}`, p.nodes);
        timings.push(`${name}${after ? " (page at 500k)" : ""} ${p.ms.toFixed(1)} ms`);
      }
    }
    console.log(`listJobs over ${RECORDS} records: ${timings.join("; ")}`);
  }, 120_000);

  it("lists records newest first through an index for filters without a state", async () => {
    const timings: string[] = [];
    for (const [name, filter] of filters) {
      if (filter.state !== undefined || filter.target !== undefined) continue;
      const p = await plan(await reader.recordSeqsStatement(filter, null, 51));
      expectIndexed(`records ${name}`, p.nodes);
      timings.push(`${name} ${p.ms.toFixed(1)} ms`);
    }
    console.log(`listRecords over ${RECORDS} records: ${timings.join("; ")}`);
  }, 120_000);

  it("claims, finds the next due time and counts replay candidates through indexes", async () => {
    const s = statements(`"${schema}"`);
    const now = Date.now();
    const exchangeValues = [
      "inbound",
      now,
      16,
      "w/1",
      now + 30_000,
      "{}",
      ...Array.from({ length: 12 }, () => []),
      "off",
    ];
    for (const [name, text, values] of [
      ["probe", s.probe, ["inbound", now]],
      ["exchange ordered", s.exchangeOrdered, exchangeValues],
      ["exchange unordered", s.exchangeUnordered, exchangeValues],
    ] as const) {
      const res = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${text}`, [
        ...values,
      ]);
      expectPlanShape(name, nodes(res.rows[0]!["QUERY PLAN"][0].Plan));
    }
    const started = performance.now();
    const store = await createPostgresStore({ connectionString: POSTGRES_URL }, { schema });
    try {
      expect(await store.countJobs({ state: "dead" })).toBe(RECORDS / 100);
    } finally {
      await store.close();
    }
    console.log(
      `countJobs(dead) over ${RECORDS} records: ${(performance.now() - started).toFixed(0)} ms incl. opening`,
    );
  }, 120_000);
});
