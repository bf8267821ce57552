/**
 * Redis helpers for tests: reachability (skip, or fail under REQUIRE_REDIS=1), unique prefixes, prefix cleanup, and
 * private redis-server processes for outage tests. Never touches keys outside the prefix it is given.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { Redis } from "ioredis";

/** The Redis the tests use: `REDIS_URL`, default `redis://127.0.0.1:6379`. */
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * The shared test Redis keeps nothing on disk, so the store refuses it unless told to accept a volatile Redis: every
 * test on it passes these options (library) or {@link VOLATILE_REDIS_ENV} (CLI). Tests about persistence start their
 * own `redis-server` instead.
 */
export const ALLOW_VOLATILE = { allowVolatile: true } as const;

/** The environment that lets `serve` and the CLI use the shared, volatile test Redis. */
export const VOLATILE_REDIS_ENV = { INTERCOM_BRIDGE_ALLOW_VOLATILE_REDIS: "1" } as const;

/** Whether an unreachable Redis must fail the run instead of skipping (`.ci/run` sets `REQUIRE_REDIS=1`). */
export const IS_REDIS_REQUIRED = process.env.REQUIRE_REDIS === "1";

/** Resolves true when `PING` answers within `timeoutMs`. */
export async function isRedisReachable(url = REDIS_URL, timeoutMs = 1_000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Whether Redis tests should run. Throws when Redis is unreachable and `REQUIRE_REDIS=1`, so the test file fails
 * instead of being reported as skipped.
 */
export async function checkRedis(url = REDIS_URL): Promise<boolean> {
  const reachable = await isRedisReachable(url);
  if (!reachable && IS_REDIS_REQUIRED) throw new Error(`REQUIRE_REDIS=1 but Redis is unreachable at ${url}`);
  return reachable;
}

/** A fresh key prefix per test (BullMQ's tests do the same). */
export function uniquePrefix(name = "test"): string {
  return `${name}-${randomUUID()}`;
}

/** Deletes every key under `<prefix>:` (SCAN + UNLINK); only that prefix. */
export async function deletePrefix(prefix: string, url = REDIS_URL): Promise<number> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on("error", () => undefined);
  let deleted = 0;
  try {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1_000);
      cursor = next;
      if (keys.length > 0) deleted += await client.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    client.disconnect();
  }
  return deleted;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether a `redis-server` binary is on PATH. */
export function hasRedisServerBinary(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/** A private redis-server (its own port) that a test may stop and start at will. */
export interface PrivateRedis {
  port: number;
  url: string;
  /** Extra `redis-server` arguments for the next {@link start} (e.g. `["--maxmemory-policy", "allkeys-lru"]`). */
  args: string[];
  /** Starts (or restarts) the server and waits until it answers. */
  start(): Promise<void>;
  /** Kills the server (SIGKILL) and waits until the port is closed. */
  stop(): Promise<void>;
}

/**
 * Creates (does not start) a private redis-server on a free port. With `dataDir`, it persists with
 * `appendfsync always`, so a SIGKILL + restart keeps every acknowledged write (like a real outage of a durable Redis);
 * without, it keeps nothing (`--appendonly no`). `args` are appended (later arguments win).
 */
export async function privateRedis(dataDir?: string, args: string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ReturnType<typeof spawn> | null = null;
  const server: PrivateRedis = {
    port,
    url,
    args,
    async start() {
      if (child) return;
      const persistence = dataDir
        ? ["--dir", dataDir, "--appendonly", "yes", "--appendfsync", "always"]
        : ["--appendonly", "no"];
      child = spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence, ...server.args],
        { stdio: "ignore" },
      );
      const deadline = Date.now() + 10_000;
      while (!(await isRedisReachable(url, 300))) {
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
      c.kill("SIGKILL");
      await exited;
    },
  };
  return server;
}
