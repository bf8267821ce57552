/**
 * The store's side of the SQLite writer thread: starts `writer-thread.ts`, sends it enqueue batches and processor
 * exchanges, and resolves each with the thread's answer. The thread holds the process open only while a request is
 * outstanding, like the in-process writer would.
 *
 * Internal: used by {@link SqliteStore}; not exported from the package entry.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { StoreError } from "../../core/errors.js";
import { withTimeout } from "../../core/with-timeout.js";
import type { ExchangeRequest, ExchangeResult } from "../../delivery/lease-loop.js";
import type { EnqueueInput } from "../store.js";
import type { CheckpointThreadData } from "./checkpoint-thread.js";
import type { BatchOutcome } from "./sqlite-writer.js";

/** What the writer thread is started with. */
export interface WriterThreadData {
  path: string;
  synchronous: "FULL" | "NORMAL";
  processingSynchronous: "FULL" | "NORMAL";
  busyTimeoutMs: number;
  cacheSizeKiB: number;
  walAutocheckpointPages: number;
  /**
   * > 0: a checkpointer thread copies the WAL into the database file this often (ms), and the writer's own
   * autocheckpoint (at `walAutocheckpointPages`) is only the backstop; 0: the writer checkpoints alone.
   */
  checkpointIntervalMs: number;
}

/** A request to the writer thread. */
export type WriterRequest =
  | { id: number; op: "enqueue"; items: readonly EnqueueInput[] }
  | { id: number; op: "exchange"; req: ExchangeRequest }
  | { id: number; op: "renew"; leases: readonly { jobId: string; token: string }[]; until: number }
  | { id: number; op: "purge"; beforeMs: number; limit: number }
  | { id: number; op: "close" };

/** The thread's answer to request `id` (id 0: the thread is ready). */
export type WriterResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

interface Pending {
  what: string;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

function startThread(name: "writer-thread" | "checkpoint-thread", data: unknown): Worker {
  const here = import.meta.url;
  if (here.endsWith(".ts")) {
    // Running from source (tests, tsx scripts): register tsx in the thread before loading the TypeScript entry.
    // tsx is resolved from this file, not from the process's working directory (which may be anywhere).
    const entry = new URL(`./${name}.ts`, here).href;
    // require.resolve gives the CommonJS build; the thread needs the ESM one (package.json exports "./esm/api".import).
    const tsx = pathToFileURL(
      createRequire(here)
        .resolve("tsx/esm/api")
        .replace(/\.cjs$/, ".mjs"),
    ).href;
    const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
    return new Worker(boot, { eval: true, workerData: data });
  }
  return new Worker(new URL(`./${name}.js`, here), { workerData: data });
}

/** A connection to the writer thread. */
export class WriterClient {
  private readonly worker: Worker;
  private readonly checkpointer: Worker | null = null;
  private checkpointerExited: Promise<void> = Promise.resolve();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: StoreError | null = null;
  private closing = false;
  private exited: Promise<void>;

  constructor(data: WriterThreadData) {
    this.worker = startThread("writer-thread", data);
    this.worker.unref();
    if (data.checkpointIntervalMs > 0) {
      this.checkpointer = startThread("checkpoint-thread", {
        path: data.path,
        busyTimeoutMs: data.busyTimeoutMs,
        intervalMs: data.checkpointIntervalMs,
      } satisfies CheckpointThreadData);
      this.checkpointer.unref();
      const checkpointer = this.checkpointer;
      this.checkpointerExited = new Promise((resolve) => checkpointer.once("exit", () => resolve()));
      // A failing checkpointer loses nothing: the writer's own autocheckpoint still bounds the WAL.
      this.checkpointer.on("error", () => undefined);
    }
    this.worker.on("message", (msg: WriterResponse) => this.onMessage(msg));
    this.worker.on("error", (error) =>
      this.fail(new StoreError(`SQLite writer thread failed: ${error.message}`, { cause: error })),
    );
    this.exited = new Promise((resolve) =>
      this.worker.once("exit", () => {
        this.fail(new StoreError("SQLite writer thread stopped"));
        resolve();
      }),
    );
  }

  /** Set once the thread failed or stopped; later requests reject with it. */
  get error(): StoreError | null {
    return this.failure;
  }

  /** Stores a batch in one transaction; resolves with one outcome per item. */
  enqueue(items: readonly EnqueueInput[]): Promise<BatchOutcome[]> {
    return this.request("enqueue", (id) => ({ id, op: "enqueue", items })) as Promise<BatchOutcome[]>;
  }

  /** See {@link LeaseBackend.exchange}. */
  exchange(req: ExchangeRequest): Promise<ExchangeResult> {
    return this.request("claim", (id) => ({ id, op: "exchange", req })) as Promise<ExchangeResult>;
  }

  /** See {@link LeaseBackend.renew}. */
  renew(leases: readonly { jobId: string; token: string }[], until: number): Promise<string[]> {
    return this.request("renew", (id) => ({ id, op: "renew", leases, until })) as Promise<string[]>;
  }

  /** See {@link SqliteWriter.purge}. */
  purge(beforeMs: number, limit: number): Promise<number> {
    return this.request("purge", (id) => ({ id, op: "purge", beforeMs, limit })) as Promise<number>;
  }

  /** Closes the thread's connection (after every earlier request) and waits for the thread to exit. */
  async close(): Promise<void> {
    // Held open until the thread has exited, or a caller awaiting close() could see the process end first.
    this.closing = true;
    if (this.checkpointer) {
      this.checkpointer.ref();
      this.checkpointer.postMessage({ op: "close" });
      await within(this.checkpointerExited, 5_000);
    }
    this.worker.ref();
    if (!this.failure) await this.request("close", (id) => ({ id, op: "close" })).catch(() => undefined);
    await within(this.exited, 5_000);
    if (!this.failure) await this.worker.terminate();
  }

  private request(what: string, build: (id: number) => WriterRequest): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { what, resolve, reject });
      this.worker.postMessage(build(id));
    });
  }

  private onMessage(msg: WriterResponse): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (this.pending.size === 0 && !this.closing) this.worker.unref();
    if (msg.ok) p.resolve(msg.value);
    else p.reject(new StoreError(`SQLite ${p.what} failed: ${msg.error}`));
  }

  private fail(error: StoreError): void {
    this.failure ??= error;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(this.failure);
  }
}

/** Waits for `promise`, or `ms` at most. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  await withTimeout(promise, ms, () => new Error("timed out")).catch(() => undefined);
}
