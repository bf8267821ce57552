/**
 * The reliability suite's fault loop: signed notifications posted by several clients without pause while a `serve`
 * process is killed with SIGKILL at random moments and restarted on the same port, plus the forward sink that counts
 * every delivery run. The tests compare what was acknowledged (200) with what the store holds and what the sink
 * received, so a lost notification or a duplicate run shows as a number.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { sign } from "../../src/core/signature.js";
import type { ServeProcess } from "./serve-process.js";
import { sleep } from "./wait-for.js";

/** An HTTP endpoint that serve forwards to; counts runs per notification id and answers 204. */
export interface Sink {
  url: string;
  /** Runs received per notification id. */
  runs: Map<string, number>;
  /** Runs received in all. */
  total(): number;
  close(): Promise<void>;
}

/** Starts a {@link Sink} on 127.0.0.1. */
export async function startSink(): Promise<Sink> {
  const runs = new Map<string, number>();
  let total = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const id = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: string }).id;
      runs.set(id, (runs.get(id) ?? 0) + 1);
      total++;
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/sink`,
    runs,
    total: () => total,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A notification body with a fresh id and its own item (so ordering never serialises the load). */
export function loadNotification(id: string): string {
  return JSON.stringify({
    type: "notification_event",
    topic: "conversation.user.replied",
    app_id: "reliability",
    id,
    created_at: Math.floor(Date.now() / 1000),
    data: { type: "notification_event_data", item: { type: "conversation", id: `conv_${id}` } },
  });
}

/** What the clients saw. */
export interface LoadResult {
  /** Notification ids answered 200. */
  acknowledged: Set<string>;
  /** Requests answered 503 (refused: not stored, Intercom retries). */
  refused: number;
  /** Requests that got no answer (the process died or was down): they may or may not be stored. */
  unanswered: number;
  /** Answers other than 200 and 503, as `status body`: none is expected. */
  unexpected: string[];
}

/** Signed load running in the background. */
export interface Load {
  /** Stops the clients and waits for their last requests. */
  stop(): Promise<LoadResult>;
}

/** Starts `clients` loops that post fresh signed notifications to serve on `port` until stopped. */
export function startLoad(port: number, secret: string, clients = 12): Load {
  const url = `http://127.0.0.1:${port}/webhooks/intercom`;
  const result: LoadResult = { acknowledged: new Set(), refused: 0, unanswered: 0, unexpected: [] };
  let stopped = false;
  const client = async (): Promise<void> => {
    while (!stopped) {
      const id = `notif_${randomUUID()}`;
      const body = loadNotification(id);
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "x-hub-signature": sign(body, secret) },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        if (res.status === 200) result.acknowledged.add(id);
        else if (res.status === 503) result.refused++;
        else result.unexpected.push(`${res.status} ${text}`);
        if (res.status !== 200) await sleep(20);
      } catch {
        result.unanswered++;
        await sleep(20);
      }
    }
  };
  const running = Array.from({ length: clients }, () => client());
  return {
    async stop() {
      stopped = true;
      await Promise.all(running);
      return result;
    },
  };
}

/** Options of {@link killUnderLoad}. */
export interface KillUnderLoadOptions {
  /** Starts serve (again) on `port`. */
  start(): Promise<ServeProcess>;
  port: number;
  secret: string;
  /** How many SIGKILLs. */
  kills: number;
  /** Each run of serve lives a random time in this range (ms) under load before it is killed. */
  upMs: [number, number];
  /** Clients posting at once. @defaultValue 12 */
  clients?: number;
  /** Called after the n-th restart (the load keeps running), e.g. to fail a dependency meanwhile. */
  afterStart?(n: number): Promise<void>;
}

/**
 * Posts notifications from `clients` loops while killing serve `kills` times and restarting it, then lets the last
 * run take load for one more period and stops the clients. Returns with the last process still running.
 */
export async function killUnderLoad(options: KillUnderLoadOptions): Promise<LoadResult & { last: ServeProcess }> {
  const upFor = () => options.upMs[0] + Math.random() * (options.upMs[1] - options.upMs[0]);
  let current = await options.start();
  const load = startLoad(options.port, options.secret, options.clients);
  try {
    for (let n = 1; n <= options.kills; n++) {
      await sleep(upFor());
      await current.kill9();
      current = await options.start();
      await options.afterStart?.(n);
    }
    await sleep(upFor());
  } catch (error) {
    await load.stop();
    throw error;
  }
  return { ...(await load.stop()), last: current };
}

/** The figures a reliability test reports. */
export interface Figures {
  acknowledged: number;
  /** Notifications in the store (acknowledged ones, and some that were stored as the process died). */
  stored: number;
  /** Distinct notifications the sink received. */
  processed: number;
  /** Runs beyond the first per notification: runs that had started when a process died. */
  duplicateRuns: number;
  refused: number;
  unanswered: number;
  /** Acknowledged notifications missing from the sink: must be 0. */
  lost: number;
}

/**
 * Waits until the sink has seen every acknowledged notification (some may wait in a local spool, outside `count`),
 * every stored delivery is done and the sink has seen each stored notification, then counts.
 * `count(state)` counts the store's deliveries (one per notification), all of them without a state.
 */
export async function settle(
  load: LoadResult,
  sink: Sink,
  count: (state?: "done") => Promise<number>,
  timeoutMs = 30_000,
): Promise<Figures> {
  const deadline = Date.now() + timeoutMs;
  let stored = await count();
  while (Date.now() < deadline) {
    stored = await count();
    const allAcknowledgedRan = [...load.acknowledged].every((id) => sink.runs.has(id));
    if (allAcknowledgedRan && (await count("done")) === stored && sink.runs.size >= stored) break;
    await sleep(200);
  }
  await sleep(300); // a late duplicate run would arrive now
  let lost = 0;
  for (const id of load.acknowledged) if (!sink.runs.has(id)) lost++;
  return {
    acknowledged: load.acknowledged.size,
    stored,
    processed: sink.runs.size,
    duplicateRuns: sink.total() - sink.runs.size,
    refused: load.refused,
    unanswered: load.unanswered,
    lost,
  };
}

/** One line a CI log can be searched for: `[reliability] <name>: acknowledged … stored … processed … duplicate runs …`. */
export function report(name: string, f: Figures, extra = ""): void {
  console.log(
    `[reliability] ${name}: acknowledged ${f.acknowledged}, stored ${f.stored}, processed ${f.processed}, ` +
      `duplicate runs ${f.duplicateRuns}, lost ${f.lost}, refused (503) ${f.refused}, unanswered ${f.unanswered}` +
      (extra ? `, ${extra}` : ""),
  );
}
