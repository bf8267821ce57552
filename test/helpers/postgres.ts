/**
 * PostgreSQL helpers for tests: reachability (skip, or fail under REQUIRE_POSTGRES=1), a unique schema per test and
 * its removal, and a TCP proxy a test can cut and restore to simulate the database going away without touching the
 * shared server. Never drops anything but the schema it is given.
 */
import { randomUUID } from "node:crypto";
import { createServer, connect, type Server, type Socket } from "node:net";
import pg from "pg";

/** The database the tests use: `POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`. */
export const POSTGRES_URL = process.env.POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Whether an unreachable PostgreSQL must fail the run instead of skipping (`.ci/run` sets `REQUIRE_POSTGRES=1`). */
export const IS_POSTGRES_REQUIRED = process.env.REQUIRE_POSTGRES === "1";

/** Resolves true when `SELECT 1` answers. */
export async function isPostgresReachable(url = POSTGRES_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether PostgreSQL tests should run; throws when unreachable and `REQUIRE_POSTGRES=1`. */
export async function checkPostgres(url = POSTGRES_URL): Promise<boolean> {
  const reachable = await isPostgresReachable(url);
  if (!reachable && IS_POSTGRES_REQUIRED) throw new Error(`REQUIRE_POSTGRES=1 but PostgreSQL is unreachable at ${url}`);
  return reachable;
}

/** A fresh schema name per test. */
export function uniqueSchema(name = "test"): string {
  return `${name}_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
}

/** Drops `schema` and everything in it. */
export async function dropSchema(schema: string, url = POSTGRES_URL): Promise<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new Error(`not a test schema: ${schema}`);
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** A TCP proxy in front of the database that a test can cut (every connection reset, new ones refused) and restore. */
export interface PostgresProxy {
  /** `postgres://…` through the proxy. */
  url: string;
  port: number;
  /** Resets every open connection and refuses new ones until {@link restore}. */
  cut(): Promise<void>;
  /** Accepts connections again. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy to the host and port of `url` on a free local port. */
export async function startPostgresProxy(url = POSTGRES_URL): Promise<PostgresProxy> {
  const target = new URL(url);
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const srv = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        sockets.add(client);
        sockets.add(upstream);
        const drop = (): void => {
          sockets.delete(client);
          sockets.delete(upstream);
          client.destroy();
          upstream.destroy();
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      srv.once("error", reject);
      srv.listen(port, "127.0.0.1", () => {
        const address = srv.address();
        if (typeof address === "object" && address) port = address.port;
        server = srv;
        resolve();
      });
    });
  await listen();
  const proxied = new URL(url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(port);
  const stop = async (): Promise<void> => {
    const srv = server;
    server = null;
    for (const s of sockets) s.resetAndDestroy();
    sockets.clear();
    if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
  };
  return {
    url: proxied.toString(),
    port,
    cut: stop,
    restore: async () => {
      if (!server) await listen();
    },
    close: stop,
  };
}
