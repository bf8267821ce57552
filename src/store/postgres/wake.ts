/**
 * Wake-ups for the PostgreSQL store's processors. In this process, an enqueue or requeue calls the listeners of its
 * queue at once. Across instances, a commit that made work due is followed by one `pg_notify` on the schema's
 * channel (coalesced: at most one in flight, off the acknowledgement path, since a transaction that notifies takes a
 * cluster-wide lock at commit), and a dedicated connection `LISTEN`s on it and wakes this process's listeners when
 * another instance announces work. When that connection drops it is re-opened with a growing delay, waking every
 * listener after each reconnect (a notification may have been missed); meanwhile processors still poll.
 *
 * Internal to the PostgreSQL store.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Pool, PoolClient } from "pg";
import type { QueueName } from "../../delivery/types.js";
import { quoteIdent } from "./sql.js";

/** The notification channel of a schema (an identifier of at most 63 bytes). */
export function wakeChannel(schema: string): string {
  const name = `ib_wake_${schema}`;
  return name.length <= 63 ? name : `ib_wake_${createHash("sha1").update(schema).digest("hex").slice(0, 32)}`;
}

/** Local listeners plus LISTEN/NOTIFY between instances sharing a schema. */
export class Waker {
  private readonly listeners = new Map<QueueName, Set<() => void>>();
  private readonly instance = randomBytes(6).toString("hex");
  private readonly channel: string;
  private client: PoolClient | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private retryMs = 250;
  private closed = false;
  private pendingNotify = new Set<QueueName>();
  private notifying: Promise<void> | null = null;

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.channel = wakeChannel(schema);
  }

  /** Opens the LISTEN connection; resolves once listening (or after the first failure, retrying in the background). */
  async start(): Promise<void> {
    await this.listen();
  }

  /** Registers a listener for `queue`; returns an unsubscribe. */
  on(queue: QueueName, listener: () => void): () => void {
    let set = this.listeners.get(queue);
    if (!set) this.listeners.set(queue, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Work of these queues became due through this process: wake local listeners now and the other instances soon. */
  wake(queues: Iterable<QueueName>): void {
    for (const q of queues) {
      this.wakeLocal(q);
      this.pendingNotify.add(q);
    }
    this.notifying ??= this.sendNotifications().finally(() => (this.notifying = null));
  }

  /** Stops listening and notifying. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    await this.notifying;
    const client = this.client;
    this.client = null;
    if (client) {
      try {
        await client.query(`UNLISTEN ${quoteIdent(this.channel)}`);
        client.release();
      } catch (error) {
        client.release(error instanceof Error ? error : true);
      }
    }
  }

  private wakeLocal(queue: QueueName): void {
    for (const listener of this.listeners.get(queue) ?? []) listener();
  }

  private wakeAll(): void {
    for (const q of this.listeners.keys()) this.wakeLocal(q);
  }

  private async sendNotifications(): Promise<void> {
    while (this.pendingNotify.size > 0 && !this.closed) {
      const queues = [...this.pendingNotify];
      this.pendingNotify.clear();
      try {
        await this.pool.query("SELECT pg_notify($1, q || ':' || $2) FROM unnest($3::text[]) AS q", [
          this.channel,
          this.instance,
          queues,
        ]);
      } catch {
        // Best effort: the other instances' processors also poll.
        return;
      }
    }
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch {
      this.scheduleReconnect();
      return;
    }
    const onError = (): void => {
      if (this.client !== client) return;
      this.client = null;
      client.removeListener("notification", onNotification);
      client.release(true);
      this.scheduleReconnect();
    };
    const onNotification = (msg: { channel: string; payload?: string | undefined }): void => {
      if (msg.channel !== this.channel || !msg.payload) return;
      const colon = msg.payload.indexOf(":");
      const queue = msg.payload.slice(0, colon) as QueueName;
      if (msg.payload.slice(colon + 1) !== this.instance) this.wakeLocal(queue);
    };
    client.on("error", onError);
    client.on("end", onError);
    client.on("notification", onNotification);
    this.client = client;
    try {
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    } catch {
      onError();
      return;
    }
    if (this.closed) return;
    this.retryMs = 250;
    this.wakeAll();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(5_000, this.retryMs * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.listen();
    }, delay);
    this.reconnectTimer.unref();
  }
}
