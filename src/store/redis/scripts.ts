/**
 * The few Lua scripts the Redis store needs that BullMQ does not provide: compare-and-delete of a dedupe claim, the
 * per-ordering-key line + lock, and the shared fixed-window limiter. Queueing, retries, stalled-job recovery and the
 * queue-wide rate limit stay BullMQ's. Internal.
 */
import type { Redis } from "ioredis";

/** KEYS[1] dedupe key; ARGV[1] expected value. Deletes the key only if it still holds our claim. */
const DEDUPE_ABORT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * KEYS[1] ordering line (zset), KEYS[2] ordering lock; ARGV[1] job id, ARGV[2] lock ttl ms, ARGV[3] score.
 * 1: the job is first in line and now holds the lock (re-entrant for the same job). 0: not first. -1: first, but
 * another delivery of the key still holds the lock.
 */
const ORDER_ACQUIRE = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
if head ~= ARGV[1] then return 0 end
local cur = redis.call('GET', KEYS[2])
if cur and cur ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1`;

/**
 * KEYS[1] ordering line, KEYS[2] ordering lock; ARGV[1] job id, ARGV[2] "1" to leave the line (done/dead).
 * Releases the lock if held by the job; returns the new head of the line (or nil).
 */
const ORDER_RELEASE = `
if ARGV[2] == '1' then redis.call('ZREM', KEYS[1], ARGV[1]) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
if head then return head end
return false`;

/** KEYS[1] ordering lock; ARGV[1] job id, ARGV[2] ttl ms. Extends the lock if the job still holds it. */
const ORDER_EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/** Lua: `now` in ms from `ARGV[n]` when given (the limiter's table test), else from the Redis clock (`TIME`). */
function nowFrom(n: number): string {
  return `local now = tonumber(ARGV[${n}] or '')
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;
}

/**
 * KEYS[1] limiter hash; ARGV[1] max, ARGV[2] window ms, ARGV[3] origin ms (any window edge; 0 when absent), ARGV[4]
 * (tests only) now ms. A fixed window starting at origin + k * window ms, the same rule as the pure limiter the memory
 * and SQLite stores use (the outbox passes Intercom's window clock as `X-RateLimit-Reset` shows it), on the server
 * clock so every instance agrees. Lua's % is a floored modulo, never negative. Only a new window start begins a fresh
 * count: a window length corrected mid-window (the outbox learning Intercom's) keeps what was already granted in it.
 * A window that started at the first acquire instead straddles two of
 * Intercom's windows and lets a second budget land in one of them.
 * Returns 0 when granted, else ms to wait.
 */
const LIMITER_ACQUIRE = `
${nowFrom(4)}
local pu = tonumber(redis.call('HGET', KEYS[1], 'pu') or '0')
if pu > now then return pu - now end
local wm = tonumber(ARGV[2])
local max = tonumber(ARGV[1])
local ws = now - ((now - tonumber(ARGV[3] or '0')) % wm)
local cur_ws = tonumber(redis.call('HGET', KEYS[1], 'ws') or '-1')
if cur_ws ~= ws then
  redis.call('HSET', KEYS[1], 'ws', ws, 'used', 0, 'wm', wm)
else
  redis.call('HSET', KEYS[1], 'wm', wm)
end
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0')
if used < max then
  redis.call('HSET', KEYS[1], 'used', used + 1)
  return 0
end
return math.max(1, ws + wm - now)`;

/** KEYS[1] limiter hash; ARGV[1] until ms, ARGV[2] reason. A later pause extends, an earlier one does not shorten. */
const LIMITER_PAUSE = `
local pu = tonumber(redis.call('HGET', KEYS[1], 'pu') or '0')
if tonumber(ARGV[1]) > pu then redis.call('HSET', KEYS[1], 'pu', ARGV[1], 'pr', ARGV[2]) end
return 1`;

/** KEYS[1] limiter hash; ARGV[1] (tests only) now ms. Returns [now, ws, used, wm, pu, pr]. */
const LIMITER_STATE = `
${nowFrom(1)}
local v = redis.call('HMGET', KEYS[1], 'ws', 'used', 'wm', 'pu', 'pr')
return {tostring(now), v[1] or false, v[2] or false, v[3] or false, v[4] or false, v[5] or false}`;

/**
 * KEYS[1] record hash, KEYS[2] delivery meta, KEYS[3] retrying set; ARGV[1] started at, ARGV[2] worker, ARGV[3]
 * attempt, ARGV[4] job id, ARGV[5] "1" to leave the retrying set. Marks a run as started in one round trip and returns
 * [record hash as a flat list, previous run's startedAt, worker, attempt] (the previous run is set when it never
 * settled: its worker died).
 */
const RUN_START = `
local prev = redis.call('HMGET', KEYS[2], 'runStartedAt', 'runWorker', 'runAttempt')
redis.call('HSET', KEYS[2], 'runStartedAt', ARGV[1], 'runWorker', ARGV[2], 'runAttempt', ARGV[3], 'updatedAt', ARGV[1], 'blocked', 0)
if ARGV[5] == '1' then redis.call('SREM', KEYS[3], ARGV[4]) end
return {redis.call('HGETALL', KEYS[1]), prev[1] or false, prev[2] or false, prev[3] or false}`;

/**
 * KEYS[1] history list, KEYS[2] delivery meta, KEYS[3] retrying set; ARGV[1] history entry (JSON), ARGV[2] updated
 * at, ARGV[3] due at ("" to clear), ARGV[4] last error JSON ("" to keep), ARGV[5] "add" | "rem" | "" for the retrying
 * set, ARGV[6] job id. Records the end of a run in one round trip.
 */
const RUN_SETTLE = `
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], 'runStartedAt', 'runWorker', 'runAttempt')
redis.call('HSET', KEYS[2], 'updatedAt', ARGV[2])
if ARGV[3] == '' then redis.call('HDEL', KEYS[2], 'dueAt') else redis.call('HSET', KEYS[2], 'dueAt', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], 'lastError', ARGV[4]) end
if ARGV[5] == 'add' then redis.call('SADD', KEYS[3], ARGV[6]) elseif ARGV[5] == 'rem' then redis.call('SREM', KEYS[3], ARGV[6]) end
return 1`;

/**
 * Claim + record write in one round trip (STYLE §5 steps 1–2 minus BullMQ's `addBulk`). Variable keys:
 * KEYS[1] dedupe key, KEYS[2] record hash, then `nIndex` record indices, the topics set, the minute counter, then per
 * delivery: target index, meta hash, ordering line (the meta key again when the delivery has none).
 * ARGV: claim, pending ttl, record id, nFields, field/value pairs…, nIndex, topic, minute ttl, nDeliveries, then per
 * delivery: job id, due at, ordering score ("" for none).
 * Returns 1 when written, else the value holding the key ("" if it vanished meanwhile: try again).
 */
const CLAIM_AND_WRITE = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local cur = redis.call('GET', KEYS[1])
  if cur ~= ARGV[1] then return cur or '' end
end
local rid = ARGV[3]
local nf = tonumber(ARGV[4])
local fields = {}
for i = 1, nf * 2 do fields[i] = ARGV[4 + i] end
redis.call('HSET', KEYS[2], unpack(fields))
local a = 5 + nf * 2
local nidx = tonumber(ARGV[a])
local k = 3
for i = 1, nidx do
  redis.call('ZADD', KEYS[k], 0, rid)
  k = k + 1
end
local topic = ARGV[a + 1]
redis.call('SADD', KEYS[k], topic)
redis.call('HINCRBY', KEYS[k + 1], topic, 1)
redis.call('PEXPIRE', KEYS[k + 1], ARGV[a + 2])
k = k + 2
local nd = tonumber(ARGV[a + 3])
a = a + 4
for i = 1, nd do
  redis.call('ZADD', KEYS[k], 0, ARGV[a])
  redis.call('HSET', KEYS[k + 1], 'dueAt', ARGV[a + 1], 'updatedAt', ARGV[a + 1])
  if ARGV[a + 2] ~= '' then redis.call('ZADD', KEYS[k + 2], ARGV[a + 2], ARGV[a]) end
  k = k + 3
  a = a + 3
end
return 1`;

/**
 * Retention: deletes one record whose deliveries are all finished, atomically with the check, so a replay that moves a
 * delivery out of BullMQ's `completed`/`failed` set at the same moment keeps the record.
 * KEYS: [1] record hash, [2] BullMQ completed set, [3] BullMQ failed set, then `nIndex` record indices, then per
 * delivery: BullMQ job hash, BullMQ job log, meta hash, history list, target index.
 * ARGV: record id, nIndex, nDeliveries, then the delivery ids. Returns 1 when deleted, 0 when a delivery is unfinished.
 */
const PURGE_RECORD = `
local rid = ARGV[1]
local nidx = tonumber(ARGV[2])
local nj = tonumber(ARGV[3])
for i = 1, nj do
  local id = ARGV[3 + i]
  if not redis.call('ZSCORE', KEYS[2], id) and not redis.call('ZSCORE', KEYS[3], id) then return 0 end
end
redis.call('DEL', KEYS[1])
for i = 1, nidx do redis.call('ZREM', KEYS[3 + i], rid) end
for i = 1, nj do
  local id = ARGV[3 + i]
  local k = 4 + nidx + (i - 1) * 5
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('DEL', KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3])
  redis.call('ZREM', KEYS[k + 4], id)
end
return 1`;

/**
 * Compare-and-set of one named value. ARGV: has-expected ("1"/"0"), expected, next. Returns {} when nothing was
 * stored, else {value}; the swap happened when that equals the expectation.
 */
const COMPARE_AND_SET = `
local cur = redis.call('GET', KEYS[1])
local matches
if ARGV[1] == '0' then matches = (cur == false) else matches = (cur == ARGV[2]) end
if matches then redis.call('SET', KEYS[1], ARGV[3]) end
if cur == false then return {} end
return {cur}`;

/** The scripts as typed methods on an ioredis client (EVALSHA with a fallback to EVAL, via `defineCommand`). */
export interface StoreScripts {
  ibDedupeAbort(key: string, value: string): Promise<number>;
  ibClaimAndWrite(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<number | string>;
  ibOrderAcquire(line: string, lock: string, jobId: string, ttlMs: number, score: number): Promise<number>;
  ibOrderRelease(line: string, lock: string, jobId: string, leave: "0" | "1"): Promise<string | null>;
  ibOrderExtend(lock: string, jobId: string, ttlMs: number): Promise<number>;
  ibRunStart(
    record: string,
    meta: string,
    retrying: string,
    startedAt: number,
    worker: string,
    attempt: number,
    jobId: string,
    leaveRetrying: "0" | "1",
  ): Promise<[string[], string | null, string | null, string | null]>;
  ibRunSettle(
    history: string,
    meta: string,
    retrying: string,
    entry: string,
    updatedAt: number,
    dueAt: number | "",
    lastError: string,
    retryingOp: "add" | "rem" | "",
    jobId: string,
  ): Promise<number>;
  ibPurgeRecord(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<number>;
  /** `originMs`: any window edge (0: multiples of the window since the epoch). `nowMs` replaces the Redis clock
   * (`TIME`): only the limiter's table test passes it. */
  ibLimiterAcquire(key: string, max: number, windowMs: number, originMs: number, nowMs?: number): Promise<number>;
  ibLimiterPause(key: string, untilMs: number, reason: string): Promise<number>;
  /** `nowMs` replaces the Redis clock (`TIME`): only the limiter's table test passes it. */
  ibLimiterState(key: string, nowMs?: number): Promise<(string | null)[]>;
  ibCompareAndSet(key: string, hasExpected: "0" | "1", expected: string, next: string): Promise<string[]>;
}

/** Registers the scripts on `client` and returns it typed with them. */
export function defineScripts(client: Redis): Redis & StoreScripts {
  client.defineCommand("ibDedupeAbort", { numberOfKeys: 1, lua: DEDUPE_ABORT });
  client.defineCommand("ibClaimAndWrite", { lua: CLAIM_AND_WRITE });
  client.defineCommand("ibOrderAcquire", { numberOfKeys: 2, lua: ORDER_ACQUIRE });
  client.defineCommand("ibOrderRelease", { numberOfKeys: 2, lua: ORDER_RELEASE });
  client.defineCommand("ibOrderExtend", { numberOfKeys: 1, lua: ORDER_EXTEND });
  client.defineCommand("ibRunStart", { numberOfKeys: 3, lua: RUN_START });
  client.defineCommand("ibRunSettle", { numberOfKeys: 3, lua: RUN_SETTLE });
  client.defineCommand("ibPurgeRecord", { lua: PURGE_RECORD });
  client.defineCommand("ibLimiterAcquire", { numberOfKeys: 1, lua: LIMITER_ACQUIRE });
  client.defineCommand("ibLimiterPause", { numberOfKeys: 1, lua: LIMITER_PAUSE });
  client.defineCommand("ibLimiterState", { numberOfKeys: 1, lua: LIMITER_STATE });
  client.defineCommand("ibCompareAndSet", { numberOfKeys: 1, lua: COMPARE_AND_SET });
  return client as Redis & StoreScripts;
}
