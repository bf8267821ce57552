/**
 * The (d) variant of bench:ingest: `intercom-bridge serve` on Redis, when Redis answers at REDIS_URL.
 */
import { randomUUID } from "node:crypto";
import { startServe, stopServer } from "./lib.js";

/** Returns the Redis variant, or undefined when Redis is unreachable. */
export async function redisVariant(
  cli: string,
): Promise<
  | { key: string; name: string; start(port: number): Promise<{ pid: number | undefined; stop(): Promise<void> }> }
  | undefined
> {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const { Redis } = await import("ioredis");
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await probe.connect();
    await probe.ping();
  } catch {
    probe.disconnect();
    return undefined;
  }
  return {
    key: "d",
    name: "serve (Redis)",
    async start(port) {
      const prefix = `bench-${randomUUID()}`;
      const child = await startServe(cli, port, ["--store", url, "--redis-prefix", prefix]);
      return {
        pid: child.pid,
        async stop() {
          await stopServer(child);
          let cursor = "0";
          do {
            const [next, keys] = await probe.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
            cursor = next;
            if (keys.length) await probe.del(...keys);
          } while (cursor !== "0");
        },
      };
    },
  };
}
