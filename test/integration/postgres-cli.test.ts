/**
 * The operator commands on a PostgreSQL store, through the CLI as an operator runs them: `deliveries list`, `inspect`
 * and `replay --dead` with `--store postgres://…` and `--postgres-schema` (flag and environment variable).
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createPostgresStore } from "../../src/store/postgres/index.js";
import { makeDelivery, makeRecord } from "../../src/testing/store-conformance.js";
import { checkPostgres, dropSchema, POSTGRES_URL, uniqueSchema } from "../helpers/postgres.js";
import { runCli } from "../helpers/serve-process.js";

const isReachable = await checkPostgres();

describe.skipIf(!isReachable)("operator commands on PostgreSQL", () => {
  it("lists, inspects and replays dead deliveries of the schema it is pointed at", async () => {
    const schema = uniqueSchema("ib_cli");
    const store = await createPostgresStore({ connectionString: POSTGRES_URL }, { schema });
    try {
      const notificationId = `notif_${randomUUID()}`;
      const r = await store.enqueue({
        dedupeKey: `app1:${notificationId}`,
        dedupeTtlMs: 60_000,
        record: makeRecord({ notificationId, topic: "conversation.user.replied" }),
        deliveries: [makeDelivery("crm", { maxAttempts: 1 })],
      });
      if (r.status !== "enqueued") throw new Error("expected enqueued");
      const p = store.process(
        "inbound",
        async () => {
          throw new Error("CRM down");
        },
        { concurrency: 1, leaseMs: 2_000, pollMs: 20 },
      );
      for (let i = 0; i < 100 && (await store.getJob(r.jobIds[0]!))?.state !== "dead"; i++)
        await new Promise((res) => setTimeout(res, 50));
      await p.close();

      const list = runCli(["deliveries", "list", "--store", POSTGRES_URL, "--state", "dead", "--json"], {
        INTERCOM_BRIDGE_POSTGRES_SCHEMA: schema,
      });
      expect(list.stderr).toBe("");
      const page = JSON.parse(list.stdout) as { items: { id: string; target: string; state: string }[] };
      expect(page.items.map((j) => [j.id, j.target, j.state])).toEqual([[r.jobIds[0], "crm", "dead"]]);

      const inspect = runCli(["inspect", notificationId, "--store", POSTGRES_URL, "--postgres-schema", schema]);
      expect(inspect.code).toBe(0);
      expect(inspect.stdout).toContain("CRM down");

      const replay = runCli(["replay", "--dead", "--store", POSTGRES_URL, "--postgres-schema", schema]);
      expect(replay.stdout.trim()).toBe("Requeued 1 dead delivery.");
      expect((await store.getJob(r.jobIds[0]!))?.state).toBe("pending");

      // Another schema of the same database holds nothing of this one.
      const other = runCli([
        "deliveries",
        "list",
        "--store",
        POSTGRES_URL,
        "--postgres-schema",
        `${schema}_x`,
        "--json",
      ]);
      expect((JSON.parse(other.stdout) as { items: unknown[] }).items).toEqual([]);
      await dropSchema(`${schema}_x`);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  }, 60_000);
});
