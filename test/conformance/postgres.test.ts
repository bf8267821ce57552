import { describe, it } from "vitest";
import { createPostgresStore } from "../../src/store/postgres/index.js";
import { defineStoreConformance } from "../../src/testing/store-conformance.js";
import { checkPostgres, dropSchema, POSTGRES_URL, uniqueSchema } from "../helpers/postgres.js";

// Skipped (reported as skipped) when PostgreSQL is unreachable; fails instead under REQUIRE_POSTGRES=1 (.ci/run).
const isReachable = await checkPostgres();

if (isReachable) {
  defineStoreConformance("postgres", async () => {
    const schema = uniqueSchema("ib_conformance");
    const store = await createPostgresStore({ connectionString: POSTGRES_URL }, { schema });
    return { store, cleanup: () => dropSchema(schema) };
  });
} else {
  describe.skip(`Store conformance: postgres (unreachable at ${POSTGRES_URL})`, () => {
    it("runs the conformance suite on PostgreSQL", () => undefined);
  });
}
