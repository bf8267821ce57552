import { describe, it } from "vitest";
import { createRedisStore } from "../../src/store/redis/index.js";
import { ALLOW_VOLATILE, checkRedis, deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { defineStoreConformance } from "../../src/testing/store-conformance.js";

// Skipped (reported as skipped) when Redis is unreachable; fails instead under REQUIRE_REDIS=1 (.ci/run).
const isReachable = await checkRedis();

if (isReachable) {
  defineStoreConformance("redis", async () => {
    const prefix = uniquePrefix("ib-conformance");
    const store = createRedisStore({ url: REDIS_URL, prefix, ...ALLOW_VOLATILE });
    return { store, cleanup: async () => void (await deletePrefix(prefix)) };
  });
} else {
  describe.skip(`Store conformance: redis (unreachable at ${REDIS_URL})`, () => {
    it("runs the conformance suite on Redis", () => undefined);
  });
}
