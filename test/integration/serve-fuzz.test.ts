import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sign } from "../../src/core/signature.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import { startServe, type ServeProcess } from "../helpers/serve-process.js";

const SECRET = "fuzz-secret";

/** Printable header values (fetch refuses control characters before they reach the server). */
const headerValue = fc
  .string({ unit: "binary-ascii", maxLength: 200 })
  .filter((s) => /^[\x20-\x7e]*$/.test(s) && s.trim() === s);

describe("serve under fuzzed input", () => {
  let dir: string;
  let server: ServeProcess;
  let dbPath: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ib-fuzz-"));
    dbPath = join(dir, "fuzz.db");
    server = await startServe(["--store", `sqlite:${dbPath}`, "--max-body-bytes", "16384"], {}, SECRET);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function storedRecords(): Promise<number> {
    const store = createSqliteStore({ path: dbPath });
    try {
      let n = 0;
      let cursor: string | null = null;
      do {
        const page = await store.listRecords({ limit: 500, ...(cursor ? { cursor } : {}) });
        n += page.items.length;
        cursor = page.nextCursor;
      } while (cursor);
      return n;
    } finally {
      await store.close();
    }
  }

  it("answers 4xx to random headers and bodies without crashing or storing anything", async () => {
    const before = await storedRecords();
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 4096 }),
        fc.option(headerValue, { nil: undefined }),
        fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", "APPLICATION/JSON", ""),
        async (bytes, signature, contentType) => {
          const headers: Record<string, string> = {};
          if (contentType) headers["content-type"] = contentType;
          if (signature !== undefined) headers["x-hub-signature"] = signature;
          const res = await fetch(`${server.url}/webhooks/intercom`, { method: "POST", headers, body: bytes });
          const text = await res.text();
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
          expect(() => JSON.parse(text) as unknown).not.toThrow();
        },
      ),
      { numRuns: 150 },
    );
    expect(await storedRecords()).toBe(before);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("answers 400 to correctly signed bodies that are not notifications, storing nothing", async () => {
    const before = await storedRecords();
    const notNotification = fc.oneof(
      fc.string({ maxLength: 500 }),
      fc.json({ maxDepth: 3 }),
      fc.record({ type: fc.string(), topic: fc.anything(), data: fc.anything() }).map((v) => JSON.stringify(v)),
      fc
        .record({ type: fc.constant("notification_event"), topic: fc.string({ minLength: 1 }), data: fc.constant({}) })
        .map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(notNotification, async (body) => {
        const res = await fetch(`${server.url}/webhooks/intercom`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-hub-signature": sign(body, SECRET) },
          body,
        });
        expect(res.status).toBe(400);
        await res.text();
      }),
      { numRuns: 150 },
    );
    expect(await storedRecords()).toBe(before);
  });
});
