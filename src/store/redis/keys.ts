/**
 * Redis key names used by {@link RedisStore} besides BullMQ's own (`<prefix>:<queue>:*`). Everything of ours lives
 * under `<prefix>:x:` so one `SCAN <prefix>:*` finds a deployment's keys. Internal.
 */
import type { QueueName } from "../../delivery/types.js";

/** Key builder for one prefix. */
export class RedisKeys {
  private readonly x: string;

  constructor(readonly prefix: string) {
    this.x = `${prefix}:x`;
  }

  /** Dedupe key of one notification/event: `p:<token>` while being written, `d:<recordId>` once stored. */
  dedupe(queue: QueueName, key: string): string {
    return `${this.x}:dd:${queue}:${key}`;
  }

  /** Record hash. */
  record(id: string): string {
    return `${this.x}:rec:${id}`;
  }

  /** Delivery metadata hash (due time, last error, current run). */
  meta(jobId: string): string {
    return `${this.x}:m:${jobId}`;
  }

  /** Attempt history list (JSON entries, oldest first). */
  history(jobId: string): string {
    return `${this.x}:h:${jobId}`;
  }

  /** Lexicographic record index (all members score 0; record ids sort by receive time). */
  recordIndex(kind: "all"): string;
  recordIndex(kind: "q" | "t" | "g" | "a" | "i" | "n", value: string): string;
  recordIndex(kind: string, value?: string): string {
    return value === undefined ? `${this.x}:ri:${kind}` : `${this.x}:ri:${kind}:${value}`;
  }

  /** Lexicographic job index per target (members are job ids). */
  targetIndex(target: string): string {
    return `${this.x}:ji:tg:${target}`;
  }

  /** Deliveries waiting for a retry after a failed attempt (the `failed` state), per queue. */
  retrying(queue: QueueName): string {
    return `${this.x}:retrying:${queue}`;
  }

  /** Topics ever seen per queue (for the received histogram). */
  topics(queue: QueueName): string {
    return `${this.x}:topics:${queue}`;
  }

  /** Received-per-minute counters: hash topic → count. */
  minute(queue: QueueName, minuteStartMs: number): string {
    return `${this.x}:rh:${queue}:${minuteStartMs}`;
  }

  /** Ordering line of one ordering key: sorted set of non-terminal job ids scored by record `createdAt`. */
  orderLine(queue: QueueName, orderingKey: string): string {
    return `${this.x}:ord:${queue}:${orderingKey}`;
  }

  /** Short-lived lock held by the one running delivery of an ordering key. */
  orderLock(queue: QueueName, orderingKey: string): string {
    return `${this.x}:olock:${queue}:${orderingKey}`;
  }

  /** Shared limiter hash. */
  limiter(name: string): string {
    return `${this.x}:lim:${name}`;
  }

  /** Named set. */
  set(name: string): string {
    return `${this.x}:set:${name}`;
  }
}
