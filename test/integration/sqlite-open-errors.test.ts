/**
 * A SQLite store that cannot open says which file and why — from the library and from `serve` (exit code 2, one line
 * naming the absolute path, the reason and the flag to change) — instead of SQLite's bare "unable to open database
 * file".
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { StoreError } from "../../src/core/errors.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import { runCli } from "../helpers/serve-process.js";
import { readOnlyDir } from "../helpers/tmpfs.js";

const dir = mkdtempSync(join(tmpdir(), "ib-open-errors-"));
const readOnly = readOnlyDir();
afterAll(() => {
  if (!("skip" in readOnly)) readOnly.unmount();
  rmSync(dir, { recursive: true, force: true });
});

function serveWith(store: string) {
  return runCli(["serve", "--port", "0", "--store", store], {
    INTERCOM_CLIENT_SECRET: "s3cret",
    INTERCOM_BRIDGE_ADMIN_TOKEN: "test-admin-token",
  });
}

describe("a SQLite store that cannot open", () => {
  const roTitle = "skip" in readOnly ? ` (skipped: ${readOnly.skip})` : "";
  it.skipIf("skip" in readOnly)(`serve in a read-only data directory exits 2 naming the file and why${roTitle}`, () => {
    if ("skip" in readOnly) return;
    const file = join(readOnly.dir, "intercom-bridge.db");
    const r = serveWith(`sqlite:${file}`);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot open the SQLite store ${file}: the directory ${readOnly.dir} is not writable`);
    expect(r.stderr).toMatch(/read-only file system \(EROFS\)|permission denied \(EACCES\)/);
    expect(r.stderr).toContain("Point --store at a usable file: sqlite:<path> (or INTERCOM_BRIDGE_STORE)");
    expect(r.stderr.trim().split("\n")).toHaveLength(1); // one line, no stack trace
  });

  it.skipIf("skip" in readOnly)(`a missing directory that cannot be created is named${roTitle}`, () => {
    if ("skip" in readOnly) return;
    const file = join(readOnly.dir, "sub", "x.db");
    expect(() => createSqliteStore({ path: file })).toThrow(
      `cannot open the SQLite store ${file}: cannot create the directory ${join(readOnly.dir, "sub")}`,
    );
  });

  it("serve with a path through a regular file exits 2 naming that file", () => {
    const notADir = join(dir, "plain-file");
    writeFileSync(notADir, "x");
    const r = serveWith(`sqlite:${notADir}/intercom-bridge.db`);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `IB_ERR_CONFIG: cannot open the SQLite store ${notADir}/intercom-bridge.db: ${notADir} is a file, not a directory`,
    );
  });

  it("a file that is not a SQLite database is said to be one", () => {
    const file = join(dir, "notes.txt");
    writeFileSync(file, "These are someone's notes, not a database. ".repeat(50));
    let error: unknown;
    try {
      void createSqliteStore({ path: file }).close();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toBe(
      `cannot open the SQLite store ${file}: the file exists but is not a SQLite database`,
    );
  });

  it("a directory given as the file is said to be a directory", () => {
    const sub = join(dir, "a-directory");
    mkdirSync(sub);
    expect(() => createSqliteStore({ path: sub })).toThrow(
      `cannot open the SQLite store ${sub}: it is a directory, not a database file`,
    );
  });
});
