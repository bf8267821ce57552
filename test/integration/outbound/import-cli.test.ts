import { spawn, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeIntercom, type FakeIntercom } from "../../../src/outbound/fake-intercom.js";

const TOKEN = "tok_cli_secret";
const MAIN = join(import.meta.dirname, "../../../src/cli/main.ts");
let dir: string;
let fake: FakeIntercom;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "ib-import-"));
  fake = await startFakeIntercom({ token: TOKEN, limitPerWindow: 40, windowMs: 1_000 });
});

afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  children.length = 0;
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

function cli(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    env: { ...process.env, INTERCOM_ACCESS_TOKEN: TOKEN, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

async function waitUntil(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function importArgs(file: string): string[] {
  return [
    "events",
    "import",
    file,
    "--store",
    `sqlite:${join(dir, "db.sqlite")}`,
    "--base-url",
    fake.url,
    "--rate-limit-window-seconds",
    "1",
    "--lease",
    "1s",
    "--concurrency",
    "4",
  ];
}

describe("events import (CLI, SQLite store, fake-intercom)", () => {
  it("delivers each valid event exactly once when the import is killed mid-run and run again", async () => {
    const N = 240;
    const lines = Array.from({ length: N }, (_, i) =>
      JSON.stringify({ event_name: "placed-order", user_id: `u${i}`, created_at: 1_700_000_000 + i }),
    );
    lines.splice(10, 0, '{"eventName":"bad","user_id":"x"}');
    lines.splice(20, 0, "{not json");
    // Without created_at: stamped once at the first run and kept across the re-run.
    lines.push(JSON.stringify({ event_name: "no-timestamp", user_id: "late" }));
    const file = join(dir, "events.ndjson");
    writeFileSync(file, lines.join("\n") + "\n");

    const first = cli(importArgs(file));
    await waitUntil(() => fake.stats().accepted >= 80);
    first.child.kill("SIGKILL");
    const killed = await first.done;
    expect(killed.code).toBeNull();
    const acceptedBeforeKill = fake.stats().accepted;
    expect(acceptedBeforeKill).toBeLessThan(N);
    expect(killed.stderr).toMatch(/line 11: invalid: event_name: found "eventName"/);
    expect(killed.stderr).toMatch(/line 21: invalid: \(line\): not valid JSON/);

    const second = await cli(importArgs(file)).done;
    expect(second.code).toBe(1); // two invalid lines
    expect(second.stdout).toMatch(/invalid: 2/);
    const skipped = Number(/skipped: (\d+)/.exec(second.stdout)?.[1]);
    expect(skipped).toBeGreaterThanOrEqual(acceptedBeforeKill - 4);

    const stored = fake.events();
    const perUser = new Map<string, number>();
    for (const e of stored) perUser.set(e.user_id!, (perUser.get(e.user_id!) ?? 0) + 1);
    expect(stored).toHaveLength(N + 1);
    expect([...perUser.values()].every((n) => n === 1)).toBe(true);
    // Only requests in flight at the kill can be sent twice; Intercom (and the fake) dedupe them on created_at.
    expect(fake.stats().duplicates).toBeLessThanOrEqual(4);

    const failed = readFileSync(`${file}.failed.ndjson`, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(failed.map((f) => [f.line, f.reason])).toEqual([
      [11, "invalid"],
      [21, "invalid"],
    ]);

    const third = await cli(importArgs(file)).done;
    expect(third.stdout).toMatch(new RegExp(`skipped: ${N + 1}`));
    expect(fake.stats().accepted).toBe(N + 1);
  }, 90_000);

  it("keeps every event when Intercom goes away mid-import; the re-run sends each one exactly once", async () => {
    const N = 200;
    const file = join(dir, "outage.ndjson");
    writeFileSync(
      file,
      Array.from({ length: N }, (_, i) =>
        JSON.stringify({ event_name: "placed-order", user_id: `u${i}`, created_at: 1_700_000_000 + i }),
      ).join("\n"),
    );
    const first = cli(importArgs(file));
    await waitUntil(() => fake.stats().accepted >= 60);
    // Intercom is unreachable: connections are refused and in-flight requests get no answer.
    const down = fake;
    const port = down.port;
    await down.close();
    await new Promise((r) => setTimeout(r, 1_500));
    first.child.kill("SIGINT");
    const stopped = await first.done;
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toMatch(/unfinished: \d+/);
    const before = down.events();

    fake = await startFakeIntercom({ token: TOKEN, limitPerWindow: 40, windowMs: 1_000, port });
    const second = await cli(importArgs(file)).done;
    expect(second.code, second.stderr).toBe(0);
    expect(Number(/skipped: (\d+)/.exec(second.stdout)?.[1])).toBeGreaterThanOrEqual(before.length - 4);

    const count = new Map<string, number>();
    for (const e of [...before, ...fake.events()]) count.set(e.user_id!, (count.get(e.user_id!) ?? 0) + 1);
    expect(count.size).toBe(N);
    // Only a request that reached the first server but lost its answer (at most --concurrency 4) can arrive twice,
    // with the same created_at (Intercom dedupes it); everything else arrives once.
    const twice = [...count.values()].filter((n) => n > 1);
    expect(twice.length).toBeLessThanOrEqual(4);
    expect(Math.max(...count.values())).toBeLessThanOrEqual(2);
    expect(fake.stats().duplicates).toBe(0);
  }, 90_000);

  it("exits 0 when everything was sent, and --dry-run sends nothing", async () => {
    const file = join(dir, "ok.csv");
    writeFileSync(
      file,
      'event_name,user_id,created_at,metadata.plan,metadata.price\nsigned-up,a,1700000000,pro,"12.5"\nsigned-up,b,1700000001,"free, forever",3\n',
    );
    const dry = await cli([...importArgs(file), "--dry-run"]).done;
    expect(dry.code).toBe(0);
    expect(fake.stats().requests).toBe(0);
    const real = await cli(importArgs(file)).done;
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toMatch(/sent: {4}2/);
    expect(fake.events().map((e) => e.metadata)).toEqual([
      { plan: "pro", price: 12.5 },
      { plan: "free, forever", price: 3 },
    ]);
  }, 60_000);

  it("writes a 404 line to <file>.failed.ndjson and counts failures by reason in the summary", async () => {
    const file = join(dir, "mixed.ndjson");
    const lines = [
      { event_name: "placed-order", user_id: "u1", created_at: 1 },
      { event_name: "placed-order", user_id: "missing-1", created_at: 2 },
      { event_name: "placed-order", email: "missing@example.com", created_at: 3, metadata: { plan: "pro" } },
      { event_name: "placed-order", user_id: "u2", created_at: 1_700_000_000_000 },
      { event_name: "placed-order", user_id: "missing-2" },
    ];
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const startedAt = Math.floor(Date.now() / 1000);
    const res = await cli(importArgs(file)).done;
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^sent: {4}1\nskipped: 0 .*\nfailed: {2}3\n {2}404 not_found: 3\ninvalid: 1\n/);
    expect(res.stdout).toContain(`failed and invalid lines: ${file}.failed.ndjson`);
    const readFailed = () =>
      readFileSync(`${file}.failed.ndjson`, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
    const failed = readFailed();
    // A sent line's record holds the event as stored, created_at stamped, so importing it again cannot make a
    // second Intercom event.
    const stamped = failed[3]?.event as { created_at: number };
    expect(stamped.created_at).toBeGreaterThanOrEqual(startedAt);
    expect(failed).toEqual([
      {
        line: 2,
        reason: "404 not_found",
        error: expect.stringMatching(/^Intercom 404 not_found: User Not Found/),
        event: lines[1],
      },
      {
        line: 3,
        reason: "404 not_found",
        error: expect.stringMatching(/^Intercom 404 not_found: User Not Found/),
        event: lines[2],
      },
      { line: 4, reason: "invalid", error: expect.stringMatching(/^created_at: .*milliseconds/), event: lines[3] },
      {
        line: 5,
        reason: "404 not_found",
        error: expect.stringMatching(/^Intercom 404 not_found: User Not Found/),
        event: { ...lines[4], created_at: stamped.created_at },
      },
    ]);

    // The re-run retries it with the first run's stamp, and the record keeps that stamp.
    await new Promise((r) => setTimeout(r, 1_100));
    const again = await cli(importArgs(file)).done;
    expect(again.stdout).toMatch(/404 not_found: 3/);
    expect(readFailed()[3]?.event).toEqual({ ...lines[4], created_at: stamped.created_at });

    // events retry --failed prints the same tally by reason as the import.
    const retry = await cli(["events", "retry", "--failed", ...importArgs(file).slice(3)]).done;
    expect(retry.code).toBe(1);
    expect(retry.stdout).toMatch(
      /^requeued 3 failed events\n(failed: .*\n){3}sent: {4}0\nfailed: {2}3\n {2}404 not_found: 3\n$/,
    );
  }, 60_000);

  it("sends the same timestamp-less line once per file, and warns about lines Intercom would merge", async () => {
    const line = JSON.stringify({ event_name: "logged-in", user_id: "u1" });
    const monday = join(dir, "monday.ndjson");
    const tuesday = join(dir, "tuesday.ndjson");
    writeFileSync(monday, line + "\n");
    writeFileSync(tuesday, line + "\n" + line + "\n");

    const dry = await cli([...importArgs(tuesday), "--dry-run"]).done;
    expect(dry.code).toBe(0);
    expect(dry.stderr).toMatch(
      /line 2: warning: created_at: same identifiers, event_name and created_at \(\d+\) as line 1: Intercom keeps only one of lines 1 and 2/,
    );
    expect(fake.stats().requests).toBe(0);

    const first = await cli(importArgs(monday)).done;
    expect(first.stdout, first.stderr).toMatch(/sent: {4}1/);
    const again = await cli(importArgs(monday)).done;
    expect(again.stdout).toMatch(/sent: {4}0\nskipped: 1/);
    await new Promise((r) => setTimeout(r, 1_100)); // a new second, so tuesday's stamp differs from monday's
    const second = await cli(importArgs(tuesday)).done;
    expect(second.stdout).toMatch(/skipped: 0/);
    expect(second.stderr).toMatch(/line 2: warning: created_at: same identifiers/);
    // Both of tuesday's lines were stored and sent; Intercom (the fake) merges them into one event.
    expect(second.stdout).toMatch(/sent: {4}2/);
    expect(fake.events().map((e) => e.user_id)).toEqual(["u1", "u1"]);
    expect(fake.stats().duplicates).toBe(1);
  }, 60_000);

  it("skips a moved file's sent events when re-run with the printed --batch-id, and sends its undated lines again without it", async () => {
    const lines = [
      { event_name: "logged-in", user_id: "dated", created_at: 1_700_000_000 },
      { event_name: "logged-in", user_id: "undated" },
    ];
    const file = join(dir, "export.ndjson");
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");

    const dry = await cli([...importArgs(file), "--dry-run"]).done;
    expect(dry.stdout).toBe(`batch:   ${realpathSync(file)}\n`);
    const first = await cli(importArgs(file)).done;
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/sent: {4}2/);
    const batch = /^batch: +(.+)$/m.exec(first.stdout)?.[1];
    expect(batch).toBe(realpathSync(file));

    const moved = join(dir, "archive", "export-renamed.ndjson");
    mkdirSync(join(dir, "archive"));
    renameSync(file, moved);
    await new Promise((r) => setTimeout(r, 1_100)); // a new second, so a fresh stamp would differ from the first
    const same = await cli([...importArgs(moved), "--batch-id", batch!]).done;
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/sent: {4}0\nskipped: 2 /);
    expect(same.stdout).toContain(`batch:   ${batch}\n`);
    expect(fake.stats().requests).toBe(2);

    // Without it the moved file is another batch: the dated line is still Intercom's same event, the undated one is
    // stamped anew and sent a second time.
    const other = await cli(importArgs(moved)).done;
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toMatch(/sent: {4}1\nskipped: 1 /);
    expect(other.stdout).toContain(`batch:   ${realpathSync(moved)}\n`);
    const undated = fake.events().filter((e) => e.user_id === "undated");
    expect(undated).toHaveLength(2);
    expect(undated[0]!.created_at).not.toBe(undated[1]!.created_at);

    const empty = await cli([...importArgs(moved), "--batch-id", " "]).done;
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--batch-id must not be empty/);
  }, 60_000);

  it("prints warn-level logs (a 429 pause) and, in --dry-run, the distinct event-name limit against the store", async () => {
    const store = join(dir, "db.sqlite");
    const names = join(dir, "names.ndjson");
    writeFileSync(
      names,
      Array.from({ length: 122 }, (_, i) =>
        JSON.stringify({ event_name: `did-thing-${i}`, user_id: "u", created_at: 1_700_000_000 }),
      ).join("\n"),
    );
    const dry = await cli([...importArgs(names), "--dry-run"]).done;
    expect(dry.code).toBe(0);
    expect(dry.stderr.match(/warning: event_name/g)).toHaveLength(2);
    expect(dry.stderr).toMatch(
      /line 121: warning: event_name: "did-thing-120" would be distinct event name number 121; Intercom keeps at most 120/,
    );
    expect(dry.stderr).toMatch(
      /line 122: warning: event_name: "did-thing-121" would be distinct event name number 122/,
    );
    expect(existsSync(store)).toBe(false); // a dry run creates no store
    const lower = await cli([...importArgs(names), "--dry-run", "--max-event-names", "121"]).done;
    expect(lower.stderr.match(/warning: event_name/g)).toEqual(["warning: event_name"]);
    expect(lower.stderr).toMatch(/line 122: warning: event_name: .* number 122; Intercom keeps at most 121/);
    const fromEnv = await cli([...importArgs(names), "--dry-run"], { INTERCOM_BRIDGE_MAX_EVENT_NAMES: "122" }).done;
    expect(fromEnv.stderr).not.toMatch(/warning/);

    const file = join(dir, "three.ndjson");
    writeFileSync(
      file,
      [1, 2, 3].map((i) => JSON.stringify({ event_name: "did-thing-0", user_id: `u${i}`, created_at: i })).join("\n"),
    );
    fake.setFaults({ failNext: 1, failStatus: 429 });
    const real = await cli(importArgs(file)).done;
    expect(real.code, real.stderr).toBe(0);
    expect(real.stderr).toMatch(/^warning: Intercom answered 429; outbound events paused until the window resets/m);
    expect(real.stdout).toMatch(/sent: {4}3/);

    // The store now knows one name: 120 more are fine, the 121st new one is not.
    const dry2 = await cli([...importArgs(names), "--dry-run"]).done;
    expect(dry2.stderr.match(/warning: event_name/g)).toHaveLength(2);
    expect(dry2.stderr).toMatch(
      /line 121: warning: event_name: "did-thing-120" would be distinct event name number 121/,
    );
  }, 60_000);

  it("events send prints the outcome; list, retry and resume work on the same store", async () => {
    const store = ["--store", `sqlite:${join(dir, "db.sqlite")}`];
    const send = (...args: string[]) => cli(["events", "send", ...store, "--base-url", fake.url, ...args]).done;
    const ok = await send(
      "--event-name",
      "placed-order",
      "--user-id",
      "u1",
      "--metadata",
      '{"plan":"pro","price":{"amount":100,"currency":"eur"}}',
      "--created-at",
      "1700000000",
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^sent placed-order \(created_at 1700000000\)/);
    expect(fake.events()).toEqual([
      expect.objectContaining({ user_id: "u1", metadata: { plan: "pro", price: { amount: 100, currency: "eur" } } }),
    ]);

    const missing = await send("--event-name", "placed-order", "--user-id", "missing-1", "--created-at", "1700000000");
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/failed: Intercom 404 not_found: User Not Found/);

    const invalid = await send("--event-name", "placed-order", "--user-id", "u2", "--created-at", "1700000000000");
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/invalid: created_at: 1700000000000 looks like milliseconds/);

    const list = await cli(["events", "list", ...store, "--state", "failed", "--json"]).done;
    const items = JSON.parse(list.stdout).items;
    expect(items.map((i: { state: string; reason: string; itemId: string }) => [i.state, i.reason, i.itemId])).toEqual([
      ["failed", "404 not_found", "missing-1"],
    ]);
    const table = await cli(["events", "list", ...store]).done;
    expect(table.stdout).toMatch(/sent\s+placed-order\s+u1/);

    const resume = await cli(["events", "resume", ...store]).done;
    expect(resume.stdout).toMatch(/not paused/);

    // retry <id> sends the requeued event now and waits for Intercom's answer.
    fake.setFaults({ failNext: 1, failStatus: 422 });
    const rejected = await send("--event-name", "placed-order", "--user-id", "u3", "--created-at", "1700000003");
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toMatch(
      /failed: Intercom 422 unprocessable_entity: Injected unprocessable entity .* \[(\S+)\]/,
    );
    const rejectedId = /\[(\S+)\]/.exec(rejected.stdout)![1]!;
    const retry = cli(["events", "retry", rejectedId, ...store, "--base-url", fake.url]);
    const retried = await retry.done;
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toBe(`requeued ${rejectedId}\nsent placed-order [${rejectedId}]\n`);
    expect(fake.events().map((e) => e.user_id)).toEqual(["u1", "u3"]);

    // --failed: the 404 fails again, with the summary by reason; --no-wait only requeues.
    const all = await cli(["events", "retry", "--failed", ...store, "--base-url", fake.url]).done;
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(/^requeued 1 failed event\nfailed: Intercom 404 not_found: User Not Found.* \[/);
    const requeued = await cli(["events", "retry", "--failed", "--no-wait", ...store], {
      INTERCOM_ACCESS_TOKEN: "",
    }).done;
    expect(requeued.code).toBe(0);
    expect(requeued.stdout).toBe("requeued 1 failed event\n");
    const pending = await cli(["events", "list", ...store, "--state", "pending", "--json"]).done;
    expect(JSON.parse(pending.stdout).items.map((i: { itemId: string }) => i.itemId)).toEqual(["missing-1"]);
    expect(fake.stats().requests).toBe(5); // u1, missing-1, u3 (422), u3 retry, missing-1 retry

    const usage = await cli(["events", "retry", ...store]).done;
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/give an event id or --failed/);
    const badJson = await send("--event-name", "x", "--user-id", "u", "--metadata", "{plan:pro}");
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/--metadata must be a JSON object/);
  }, 90_000);

  it("stops with exit 1 and keeps the events queued when Intercom refuses the token", async () => {
    const file = join(dir, "one.ndjson");
    writeFileSync(file, JSON.stringify({ event_name: "placed-order", user_id: "u1", created_at: 1 }) + "\n");
    const res = await cli(importArgs(file), { INTERCOM_ACCESS_TOKEN: "wrong-token" }).done;
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/ALL outbound events are paused/);
    expect(res.stdout).toMatch(/unfinished: 1/);
    expect(res.stdout + res.stderr).not.toContain("wrong-token");
    const again = await cli(importArgs(file)).done;
    expect(again.code, again.stderr).toBe(0);
    expect(fake.stats().accepted).toBe(1);
  }, 60_000);
});
