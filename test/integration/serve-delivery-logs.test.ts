/**
 * What `serve` logs when a handler fails: each failed run with the error itself (stack included), whether it will be
 * retried and when; and exactly one error line when the delivery goes dead.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServe, type ServeProcess } from "../helpers/serve-process.js";
import { waitFor } from "../helpers/wait-for.js";

const SECRET = "delivery-log-secret";

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function logLines(output: string): LogLine[] {
  return output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as LogLine);
}

describe("serve logs failed and dead deliveries", () => {
  let dir: string;
  let server: ServeProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ib-delivery-log-"));
    const handlers = join(dir, "handlers.mjs");
    writeFileSync(
      handlers,
      `export default { "conversation.user.created": async () => { throw new Error("boom from the handler"); } };\n`,
    );
    server = await startServe(
      ["--store", "memory:", "--handlers", handlers, "--max-attempts", "2", "--retry-base-ms", "50"],
      {},
      SECRET,
    );
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("logs each failure with its stack and next run, and one error line when the delivery is dead", async () => {
    const id = `notif_dead_${Date.now()}`;
    const body = JSON.stringify({
      type: "notification_event",
      app_id: "app",
      id,
      topic: "conversation.user.created",
      created_at: Math.floor(Date.now() / 1000),
      data: { type: "notification_event_data", item: { type: "conversation", id: "c-dead" } },
    });
    expect((await server.post(body)).status).toBe(200);
    await waitFor(() => logLines(server.output()).some((l) => l.level === 50 && /dead/.test(l.msg)), {
      timeoutMs: 15_000,
    });
    await new Promise((r) => setTimeout(r, 300)); // nothing more may follow

    const lines = logLines(server.output());
    const failures = lines.filter((l) => l.msg === "delivery failed");
    expect(failures.map((l) => [l.attempt, l.willRetry])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(Date.parse(failures[0]!.nextRunAt as string)).toBeGreaterThan(0);
    expect(failures[1]!.nextRunAt).toBeNull();
    for (const f of failures) {
      expect(f.level).toBe(40);
      const err = f.err as { message: string; stack: string };
      expect(err.message).toBe("boom from the handler");
      expect(err.stack).toMatch(/handlers\.mjs/);
    }

    const dead = lines.filter((l) => l.level === 50);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      notificationId: id,
      topic: "conversation.user.created",
      target: "conversation.user.created",
      attempts: 2,
      err: { message: "boom from the handler", stack: expect.stringMatching(/handlers\.mjs/) },
    });
  });
});
