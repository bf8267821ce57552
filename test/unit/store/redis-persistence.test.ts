/**
 * The verdict of the Redis persistence check for each combination the store can read: which settings make a Redis
 * lose acknowledged notifications, and that the refusal message names the setting to change and never a credential.
 */
import { describe, expect, it } from "vitest";
import { infoField, judgePersistence, volatileMessage } from "../../../src/store/redis/persistence.js";

describe("Redis persistence verdict", () => {
  it.each([
    { aof: true, fsync: "everysec", policy: "noeviction", problems: [] },
    { aof: true, fsync: "always", policy: "noeviction", problems: [] },
    { aof: true, fsync: null, policy: "noeviction", problems: [] },
    { aof: false, fsync: "everysec", policy: "noeviction", problems: ["appendonly yes"] },
    { aof: null, fsync: null, policy: "noeviction", problems: ["allow INFO, and set appendonly yes"] },
    { aof: true, fsync: "no", policy: "noeviction", problems: ["appendfsync everysec or always"] },
    { aof: true, fsync: "everysec", policy: "allkeys-lru", problems: ["maxmemory-policy noeviction"] },
    { aof: false, fsync: "no", policy: "volatile-ttl", problems: ["appendonly yes", "appendfsync", "noeviction"] },
  ])("aof $aof, appendfsync $fsync, maxmemory-policy $policy", ({ aof, fsync, policy, problems }) => {
    const report = judgePersistence(aof, fsync, policy);
    expect(report.problems).toHaveLength(problems.length);
    problems.forEach((p, i) => expect(report.problems[i]).toContain(p));
  });

  it("reads fields from an INFO answer", () => {
    const info = "# Persistence\r\nloading:0\r\naof_enabled:1\r\naof_rewrite_in_progress:0\r\n";
    expect(infoField(info, "aof_enabled")).toBe("1");
    expect(infoField(info, "maxmemory_policy")).toBeNull();
  });

  it("names the server, each setting and the way out", () => {
    const message = volatileMessage("10.0.0.5:6379", judgePersistence(false, null, "allkeys-lru"));
    expect(message).toContain("Redis at 10.0.0.5:6379");
    expect(message).toContain("set appendonly yes");
    expect(message).toContain("set maxmemory-policy noeviction");
    expect(message).toContain("--allow-volatile-redis");
    expect(message).toContain("INTERCOM_BRIDGE_ALLOW_VOLATILE_REDIS=1");
  });
});
