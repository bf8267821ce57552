/**
 * `doctor`'s Redis check: reachable, and durable — append-only file on (`INFO persistence`: `aof_enabled:1`) and keys
 * never evicted (`maxmemory-policy noeviction`, which BullMQ requires) and fsync not left to the OS. Without
 * AOF, a Redis restart forgets notifications that were already acknowledged to Intercom. Reads only INFO (and
 * CONFIG GET appendfsync where allowed), so it works on managed Redis too.
 */
import { Redis } from "ioredis";
import type { CheckResult } from "./doctor.js";

/** Connects once (no retries), reads the persistence settings, and disconnects. Never writes. */
export async function checkRedisDurability(url: string): Promise<CheckResult> {
  const shown = redactUrl(url);
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  redis.on("error", () => {}); // reported below, from connect()
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    return {
      name: "store",
      status: "fail",
      message: `cannot reach Redis at ${shown}: ${(err as Error).message}`,
      fix: "start Redis, or correct --store / INTERCOM_BRIDGE_STORE",
    };
  }
  try {
    const aof = /^aof_enabled:(\d)/m.exec(await redis.info("persistence"))?.[1];
    const policy = /^maxmemory_policy:(\S+)/m.exec(await redis.info("memory"))?.[1];
    let fsync: string | undefined;
    try {
      const reply = await redis.config("GET", "appendfsync");
      fsync = Array.isArray(reply) && typeof reply[1] === "string" ? reply[1] : undefined;
    } catch {
      fsync = undefined; // CONFIG is often disabled on managed Redis
    }
    const problems: string[] = [];
    if (aof !== "1") problems.push("append-only file is off (appendonly no)");
    if (fsync === "no") problems.push("appendfsync is no (the OS decides when writes reach the disk)");
    if (policy !== undefined && policy !== "noeviction") problems.push(`maxmemory-policy is ${policy}`);
    if (problems.length > 0) {
      return {
        name: "store",
        status: "fail",
        message: `Redis at ${shown} is not durable: ${problems.join("; ")}; a restart or eviction loses acknowledged notifications`,
        fix: "set appendonly yes, appendfsync everysec (or always) and maxmemory-policy noeviction in redis.conf (or CONFIG SET)",
      };
    }
    return {
      name: "store",
      status: "ok",
      message: `Redis at ${shown} answers; append-only file on${policy ? `, maxmemory-policy ${policy}` : ""}`,
    };
  } catch (err) {
    return {
      name: "store",
      status: "fail",
      message: `Redis at ${shown} refused INFO: ${(err as Error).message}`,
      fix: "check the URL's credentials and database",
    };
  } finally {
    redis.disconnect();
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}
