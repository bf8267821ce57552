/**
 * The Redis limiter's Lua twin follows the same table as the pure fixed-window limiter the other stores use
 * (`test/unit/store/fixed-window.cases.ts`): each case replays on Redis with the scripts' test clock argument in
 * place of `TIME`, under a unique key that is deleted afterwards.
 */
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { limiterView } from "../../src/store/redis/coordination.js";
import { defineScripts } from "../../src/store/redis/scripts.js";
import { checkRedis, deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { FIXED_WINDOW_CASES } from "../unit/store/fixed-window.cases.js";

const isReachable = await checkRedis();
/** A multiple of every window length in the table. */
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);

describe.skipIf(!isReachable)("Redis limiter script (the fixed-window table)", () => {
  const prefix = uniquePrefix("ib-limiter");
  const cmd = defineScripts(new Redis(REDIS_URL));

  afterAll(async () => {
    cmd.disconnect();
    await deletePrefix(prefix);
  });

  it.each(FIXED_WINDOW_CASES.map((c, i) => [c.name, c, i] as const))("%s", async (_name, c, i) => {
    const key = `${prefix}:lim:${i}`;
    for (const step of c.steps) {
      const now = T0 + step.at;
      if ("acquire" in step) {
        const wait = await cmd.ibLimiterAcquire(
          key,
          step.acquire.max,
          step.acquire.windowMs,
          T0 + (step.acquire.originMs ?? 0),
          now,
        );
        expect({ at: step.at, wait }).toEqual({ at: step.at, wait: step.wait });
      } else if ("pauseUntil" in step) {
        await cmd.ibLimiterPause(key, T0 + step.pauseUntil, step.reason);
      } else {
        const view = limiterView(await cmd.ibLimiterState(key, now));
        expect({ used: view.used, paused: view.pausedUntil !== null }).toEqual(step.state);
      }
    }
  });
});
