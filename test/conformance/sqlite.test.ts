import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import { defineStoreConformance } from "../../src/testing/store-conformance.js";

defineStoreConformance("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ib-sqlite-"));
  // A nested path also checks that the parent directory is created.
  const store = createSqliteStore({ path: join(dir, "nested", "bridge.db") });
  return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});
