/**
 * The Redis store's outbox coordination: the fixed-window limiter every instance on a prefix shares (one Lua script
 * per call, on the Redis clock), the named sets (distinct outbound event names) and the named values of
 * `compareAndSet` (serve's heartbeat, the gap-recovery lease). Must not import the queue,
 * processor or reader parts.
 */
import type { SharedLimiter } from "../store.js";
import type { RedisConnection } from "./connection.js";
import type { RedisKeys } from "./keys.js";
import { num } from "./model.js";

/** See {@link Store.limiter}. A fixed window on the Redis clock, shared by every instance on this prefix. */
export function redisLimiter(conn: RedisConnection, keys: RedisKeys, name: string): SharedLimiter {
  const key = keys.limiter(name);
  const { cmd } = conn;
  return {
    acquire: (max, windowMs, originMs = 0) =>
      conn.guard("limiter", () =>
        cmd.ibLimiterAcquire(key, Math.floor(max), Math.max(1, Math.floor(windowMs)), Math.floor(originMs)),
      ),
    pauseUntil: (untilMs, reason) =>
      conn.guard("limiter", async () => void (await cmd.ibLimiterPause(key, Math.floor(untilMs), reason))),
    resume: () => conn.guard("limiter", async () => void (await cmd.hdel(key, "pu", "pr"))),
    state: () => conn.guard("limiter", async () => limiterView(await cmd.ibLimiterState(key))),
  };
}

/** The limiter state as {@link SharedLimiter.state} reports it, from the `ibLimiterState` reply. */
export function limiterView(reply: (string | null)[]): Awaited<ReturnType<SharedLimiter["state"]>> {
  const [nowS, ws, used, wm, pu, pr] = reply;
  const now = num(nowS) ?? Date.now();
  const windowMs = num(wm);
  const windowStart = num(ws) ?? 0;
  const isCurrent = windowMs !== null && now < windowStart + windowMs;
  const pausedUntil = num(pu);
  const isPaused = pausedUntil !== null && pausedUntil > now;
  return {
    windowStart,
    used: isCurrent ? (num(used) ?? 0) : 0,
    pausedUntil: isPaused ? pausedUntil : null,
    pauseReason: isPaused ? (pr ?? null) : null,
  };
}

/** See {@link Store.addToSet}. `SADD` + `SCARD` in one MULTI. */
export async function addToSet(
  conn: RedisConnection,
  keys: RedisKeys,
  name: string,
  members: readonly string[],
): Promise<number> {
  const m = conn.cmd.multi();
  if (members.length > 0) m.sadd(keys.set(name), ...members);
  m.scard(keys.set(name));
  const res = (await m.exec()) ?? [];
  return Number(res.at(-1)?.[1] ?? 0);
}

/** See {@link Store.setMembers}. */
export async function setMembers(conn: RedisConnection, keys: RedisKeys, name: string): Promise<string[]> {
  return (await conn.cmd.smembers(keys.set(name))).sort();
}

/** See {@link Store.compareAndSet}. One Lua script, so the compare and the set are atomic. */
export async function compareAndSet(
  conn: RedisConnection,
  keys: RedisKeys,
  name: string,
  expected: string | null,
  next: string,
): Promise<string | null> {
  const [current] = await conn.cmd.ibCompareAndSet(
    keys.value(name),
    expected === null ? "0" : "1",
    expected ?? "",
    next,
  );
  return current ?? null;
}
