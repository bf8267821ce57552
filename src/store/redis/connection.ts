/**
 * The Redis store's command connection and what it knows about the server: whether it answers (with one warning when
 * it stops and one info line when it is back, not a line per reconnect attempt) and whether it keeps what it
 * acknowledges (the persistence check, at start and after every reconnect). Every other part of the store goes
 * through {@link RedisConnection.ready} or {@link RedisConnection.guard}, so a refused or unreachable Redis fails
 * each operation with one clear error. Must not import BullMQ: the queues and workers open their own connections.
 */
import { Redis, type RedisOptions } from "ioredis";
import { ConfigError, StoreError, describeError } from "../../core/errors.js";
import { withTimeout as boundedBy } from "../../core/with-timeout.js";
import type { Logger } from "../../core/logger.js";
import { toStoreError } from "./model.js";
import type { ResolvedRedisStoreOptions } from "./options.js";
import { checkPersistence, volatileMessage, type PersistenceReport } from "./persistence.js";
import { defineScripts, type StoreScripts } from "./scripts.js";

/** Rejects with {@link StoreError} when Redis has not answered `what` within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return boundedBy(promise, ms, () => new StoreError(`Redis did not answer ${what} within ${ms} ms`));
}

/** Resolves true when `promise` settles within `ms`, false otherwise (never rejects). */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, ms));
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The command connection with its reachability and persistence state. */
export class RedisConnection {
  /** Fails fast while Redis is down (no offline queue), so enqueue can spool at once. */
  readonly cmd: Redis & StoreScripts;
  /** `host:port` for messages (never credentials). */
  readonly where: string;
  private closed = false;
  private readyWait: Promise<void> | null = null;
  /** The check of the current connection; null until it is connected. */
  private checking: Promise<void> | null = null;
  private report: PersistenceReport | null = null;
  private refusal: ConfigError | null = null;
  /** Whether the last state logged was "unreachable", so each outage logs one warning and one recovery line. */
  private isDown = false;
  private downSince = 0;

  constructor(
    private readonly opts: ResolvedRedisStoreOptions,
    connectionOptions: RedisOptions,
    private readonly log: Logger,
  ) {
    this.where = `${connectionOptions.host ?? "127.0.0.1"}:${connectionOptions.port ?? 6379}`;
    this.cmd = defineScripts(
      // `as never`: ioredis 6's constructor types reject its own RedisOptions under exactOptionalPropertyTypes.
      new Redis({
        ...connectionOptions,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        lazyConnect: false,
      } as never),
    );
    // Reconnect attempts fail every second during an outage: the transitions are logged, the attempts only at debug.
    this.cmd.on("error", (err: Error) => {
      if (this.isDown) this.log.debug({ err: describeError(err) }, "redis connection error");
      else this.markDown(err);
    });
    this.cmd.on("close", () => {
      this.checking = null;
      this.report = null;
      this.refusal = null;
      if (!this.closed) this.markDown();
    });
    this.cmd.on("ready", () => {
      this.checking ??= this.verify();
    });
  }

  private markDown(err?: Error): void {
    if (this.isDown || this.closed) return;
    this.isDown = true;
    this.downSince = Date.now();
    this.log.warn(
      { redis: this.where, ...(err ? { err: describeError(err) } : {}) },
      this.opts.spoolPath
        ? "redis is unreachable: notifications go to the local spool until it is back"
        : "redis is unreachable: notifications are refused with 503 until it is back",
    );
  }

  /** Runs the persistence check on a fresh connection and logs its verdict. */
  private async verify(): Promise<void> {
    let report: PersistenceReport;
    try {
      report = await checkPersistence(this.cmd);
    } catch (error) {
      // The connection dropped during the check: the next `ready` checks again.
      this.log.debug({ err: describeError(error) }, "redis persistence check interrupted");
      return;
    }
    // Answers read over a connection that dropped meanwhile say nothing: the next `ready` checks again.
    if (this.cmd.status !== "ready") return;
    this.report = report;
    if (this.isDown) {
      this.isDown = false;
      this.log.info({ redis: this.where, downMs: Date.now() - this.downSince }, "redis is reachable again");
    }
    if (report.problems.length === 0) {
      this.refusal = null;
      return;
    }
    const message = volatileMessage(this.where, report);
    if (this.opts.allowVolatile) {
      this.refusal = null;
      this.log.warn({ redis: this.where, problems: report.problems }, "redis is volatile (allowed): " + message);
    } else {
      this.refusal = new ConfigError(message);
      this.log.error({ redis: this.where, problems: report.problems }, message);
    }
  }

  /** The last persistence check, or null while not connected. */
  persistence(): PersistenceReport | null {
    return this.report;
  }

  /** Whether the connection answers and its check allows writing. */
  isUsable(): boolean {
    return this.cmd.status === "ready" && this.report !== null && this.refusal === null;
  }

  assertOpen(): void {
    if (this.closed) throw new StoreError("Store is closed");
  }

  /**
   * Resolves when the connection is ready and its persistence check passed (or a volatile Redis is allowed);
   * rejects at once when Redis is known to be down, and with {@link ConfigError} when it is refused.
   */
  async ready(): Promise<void> {
    const status = this.cmd.status;
    if (status === "reconnecting" || status === "end" || status === "close") {
      throw new StoreError(`Redis is unreachable (${status})`);
    }
    if (status !== "ready") await this.connected();
    if (this.report === null) {
      // ioredis reports `ready` a tick before it emits the event: start the check here if it has not started yet.
      this.checking ??= this.verify();
      await withTimeout(this.checking, this.opts.commandTimeoutMs, "the persistence check");
      if (this.report === null) throw new StoreError("Redis is unreachable (the persistence check did not finish)");
    }
    if (this.refusal) throw this.refusal;
  }

  /** One shared wait while connecting, however many callers arrive meanwhile. */
  private connected(): Promise<void> {
    this.readyWait ??= withTimeout(
      new Promise<void>((resolve, reject) => {
        const onReady = (): void => {
          this.cmd.off("end", onEnd);
          resolve();
        };
        const onEnd = (): void => {
          this.cmd.off("ready", onReady);
          reject(new StoreError("Redis connection ended"));
        };
        this.cmd.once("ready", onReady);
        this.cmd.once("end", onEnd);
      }),
      this.opts.commandTimeoutMs,
      "connect",
    ).finally(() => {
      this.readyWait = null;
    });
    return this.readyWait;
  }

  /** Runs `fn` once Redis is ready; turns driver errors into {@link StoreError}. */
  async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      await this.ready();
      return await fn();
    } catch (error) {
      if (error instanceof ConfigError || error instanceof StoreError) throw error;
      throw toStoreError(error, what);
    }
  }

  /** `PING` within the command timeout. */
  async ping(): Promise<void> {
    this.assertOpen();
    try {
      await this.ready();
      await withTimeout(this.cmd.ping(), this.opts.commandTimeoutMs, "PING");
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw toStoreError(error, "PING");
    }
  }

  /** Marks the store closed: every later call fails with {@link StoreError}. */
  markClosed(): void {
    this.closed = true;
  }

  /** Drops the connection without waiting for Redis (which may be unreachable). */
  disconnect(): void {
    this.closed = true;
    this.cmd.disconnect();
  }

  /** Whether {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }
}
