/**
 * Whether a Redis keeps what it acknowledged: reads `INFO persistence` (`aof_enabled`), `INFO memory`
 * (`maxmemory_policy`) and, where `CONFIG GET` is allowed, `appendfsync`, and turns them into a verdict with one
 * message naming each setting to change. "Stored before 200" holds on Redis only with the append-only file on, fsync
 * `everysec` or `always`, and `maxmemory-policy noeviction` (which BullMQ requires too). Must not import BullMQ.
 */
import type { Redis } from "ioredis";

/** What the persistence check found. */
export interface PersistenceReport {
  /** `aof_enabled` from `INFO persistence`. */
  aofEnabled: boolean | null;
  /** `appendfsync` from `CONFIG GET` (null where `CONFIG` is not allowed). */
  appendfsync: string | null;
  /** `maxmemory_policy` from `INFO memory`. */
  maxmemoryPolicy: string | null;
  /** One entry per setting to change; empty when the Redis keeps every acknowledged write. */
  problems: string[];
}

/** Field `name` of an `INFO` answer. */
export function infoField(info: string, name: string): string | null {
  const m = new RegExp(`^${name}:(.*)$`, "m").exec(info);
  return m?.[1]?.trim() ?? null;
}

/** The verdict for the values read (pure, for tests). */
export function judgePersistence(
  aofEnabled: boolean | null,
  appendfsync: string | null,
  maxmemoryPolicy: string | null,
): PersistenceReport {
  const problems: string[] = [];
  if (aofEnabled !== true)
    problems.push(
      aofEnabled === null
        ? "the append-only file state is unknown (INFO persistence is not allowed): allow INFO, and set appendonly yes"
        : "the append-only file is off: set appendonly yes",
    );
  if (appendfsync === "no")
    problems.push("appendfsync is no (the OS decides when writes reach the disk): set appendfsync everysec or always");
  if (maxmemoryPolicy !== "noeviction")
    problems.push(
      `maxmemory-policy is ${maxmemoryPolicy ?? "unknown"} (keys may be evicted): set maxmemory-policy noeviction`,
    );
  return { aofEnabled, appendfsync, maxmemoryPolicy, problems };
}

/** Reads the settings from a connected Redis. `CONFIG GET` is optional (managed Redis often forbids it). */
export async function checkPersistence(cmd: Redis): Promise<PersistenceReport> {
  const aof = await cmd.info("persistence").then(
    (info) => {
      const v = infoField(info, "aof_enabled");
      return v === null ? null : v === "1";
    },
    () => null,
  );
  const policy = await cmd.info("memory").then(
    (info) => infoField(info, "maxmemory_policy"),
    () => null,
  );
  const fsync = await (cmd.config("GET", "appendfsync") as Promise<unknown>).then(
    (reply) => (Array.isArray(reply) && typeof reply[1] === "string" ? reply[1] : null),
    () => null,
  );
  return judgePersistence(aof, fsync, policy);
}

/** The message of a refused Redis: where, what to change, and the way out. Never includes credentials. */
export function volatileMessage(where: string, report: PersistenceReport): string {
  return (
    `Redis at ${where} may lose acknowledged notifications: ${report.problems.join("; ")}. ` +
    "Change it in redis.conf (or CONFIG SET, then CONFIG REWRITE), or accept the risk with --allow-volatile-redis " +
    "(INTERCOM_BRIDGE_ALLOW_VOLATILE_REDIS=1; library: createRedisStore({ allowVolatile: true }))."
  );
}
