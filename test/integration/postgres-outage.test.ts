/**
 * PostgreSQL going away and coming back, through a TCP proxy the test cuts and restores (the shared server is never
 * restarted): enqueues fail with StoreError while it is away and never resolve for something not committed, `ping`
 * rejects, and the same store (and the same `serve` process) works again once the database is back, with every
 * acknowledged notification delivered.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreError } from "../../src/core/errors.js";
import type { RetryPolicy } from "../../src/delivery/types.js";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres/index.js";
import type { EnqueueInput, Processor } from "../../src/store/store.js";
import {
  checkPostgres,
  dropSchema,
  POSTGRES_URL,
  startPostgresProxy,
  uniqueSchema,
  type PostgresProxy,
} from "../helpers/postgres.js";
import { startServe, type ServeProcess } from "../helpers/serve-process.js";
import { waitFor } from "../helpers/wait-for.js";

const isReachable = await checkPostgres();
const RETRY: RetryPolicy = { maxAttempts: 5, backoff: { type: "fixed", delayMs: 20, jitter: 0 } };

function input(id: string): EnqueueInput {
  return {
    dedupeKey: `app:${id}`,
    dedupeTtlMs: 3_600_000,
    record: {
      queue: "inbound",
      topic: "conversation.user.replied",
      body: JSON.stringify({ type: "notification_event", id }),
      appId: "app",
      notificationId: id,
      itemId: "conv_1",
      createdAt: 1_700_000_000,
    },
    deliveries: [{ target: "crm", retry: RETRY, orderingKey: null }],
  };
}

describe.skipIf(!isReachable)("PostgreSQL store while the database is unreachable", () => {
  let schema: string;
  let proxy: PostgresProxy;
  let store: PostgresStore | undefined;
  let direct: PostgresStore | undefined;
  let processor: Processor | undefined;
  let serve: ServeProcess | undefined;
  let dir: string | undefined;

  beforeEach(async () => {
    schema = uniqueSchema("ib_outage");
    proxy = await startPostgresProxy();
  });

  afterEach(async () => {
    await proxy.restore();
    await serve?.stop();
    await processor?.close(1_000).catch(() => undefined);
    await store?.close().catch(() => undefined);
    await direct?.close().catch(() => undefined);
    await proxy.close();
    await dropSchema(schema);
    if (dir) rmSync(dir, { recursive: true, force: true });
    serve = store = direct = processor = dir = undefined;
  });

  it("rejects enqueues while cut off, resolves none that did not commit, and recovers without a restart", async () => {
    store = await createPostgresStore(
      { connectionString: proxy.url, connectTimeoutMs: 1_000 },
      { schema, pingTimeoutMs: 1_000 },
    );
    const ran = new Map<string, number>();
    processor = store.process(
      "inbound",
      async (job) => void ran.set(job.record.notificationId!, (ran.get(job.record.notificationId!) ?? 0) + 1),
      { concurrency: 4, leaseMs: 2_000, pollMs: 50 },
    );
    const acknowledged: string[] = [];
    const refused: unknown[] = [];
    let stop = false;
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!stop) {
          const id = `notif_${randomUUID()}`;
          try {
            const r = await store!.enqueue(input(id));
            if (r.status === "enqueued") acknowledged.push(id);
          } catch (error) {
            refused.push(error);
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      }),
    );
    await waitFor(() => acknowledged.length >= 200, { timeoutMs: 20_000 });
    await proxy.cut();
    const ackedAtCut = acknowledged.length;
    await expect(store.ping()).rejects.toBeInstanceOf(StoreError);
    await new Promise((r) => setTimeout(r, 1_000));
    const refusedWhileCut = refused.length;
    await proxy.restore();
    await waitFor(() => acknowledged.length >= ackedAtCut + 200, { timeoutMs: 20_000 });
    stop = true;
    await load;
    await store.ping();

    expect(refusedWhileCut).toBeGreaterThan(0);
    for (const error of refused) expect(error).toBeInstanceOf(StoreError);
    // Every acknowledged enqueue is in the database (read through a store that never saw the outage) and delivered.
    direct = await createPostgresStore({ connectionString: POSTGRES_URL }, { schema });
    await waitFor(() => acknowledged.every((id) => ran.has(id)), { timeoutMs: 30_000 });
    for (const id of acknowledged) {
      const jobs = (await direct.listJobs({ notificationId: id })).items;
      expect(jobs.map((j) => j.state)).toEqual(["done"]);
    }
    console.log(
      `outage: ${acknowledged.length} acknowledged, ${refused.length} refused with StoreError (${refusedWhileCut} during the 1 s cut)`,
    );
  }, 90_000);

  it("answers 503 on ingest and /readyz while cut off, and 200 again once the database is back", async () => {
    dir = mkdtempSync(join(tmpdir(), "ib-pg-outage-"));
    serve = await startServe(
      ["--store", proxy.url, "--data-dir", dir],
      { INTERCOM_BRIDGE_POSTGRES_SCHEMA: schema },
      "outage-secret",
    );
    const body = (id: string): string =>
      JSON.stringify({
        type: "notification_event",
        app_id: "outage",
        data: { item: { type: "conversation", id: "c1" } },
        id,
        topic: "conversation.user.replied",
        created_at: Math.floor(Date.now() / 1000),
      });
    expect((await serve.post(body(`notif_${randomUUID()}`))).status).toBe(200);
    expect((await fetch(`${serve.url}/readyz`)).status).toBe(200);

    await proxy.cut();
    const lost = `notif_${randomUUID()}`;
    const during = await serve.post(body(lost));
    expect(during.status).toBe(503);
    expect((await fetch(`${serve.url}/readyz`)).status).toBe(503);

    await proxy.restore();
    await waitFor(async () => (await fetch(`${serve!.url}/readyz`)).status === 200, { timeoutMs: 15_000 });
    const after = `notif_${randomUUID()}`;
    expect((await serve.post(body(after))).status).toBe(200);
    // Intercom retries what got a 503: the retry is accepted, not refused as a duplicate.
    expect((await serve.post(body(lost))).status).toBe(200);
    expect(serve.output()).toMatch(/"level":40/); // a warning line about the refused request
  }, 60_000);
});
