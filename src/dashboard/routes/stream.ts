/**
 * `GET /api/stream`: newly received notifications as Server-Sent Events (`event: received`, one notification row
 * each), fed by the live feed (the receiver's notices, the store's polling or both), with keep-alive comments for
 * proxies. Open streams end when the server closes. Imports no store implementation.
 */
import type { FastifyInstance } from "fastify";
import type { ServerResponse } from "node:http";
import { createLiveFeed, type LiveFeed } from "../live-feed.js";
import type { ApiContext } from "./context.js";

/** Registers `GET /api/stream` and closes its feed and open streams when `api` closes. */
export function registerStreamRoute(api: FastifyInstance, { store, options, log, now }: ApiContext): void {
  const heartbeatMs = options.streamHeartbeatMs ?? 15_000;
  const feed: LiveFeed = createLiveFeed({
    store,
    events: options.events,
    pollWithEvents: options.streamPollsStore ?? store.kind !== "memory",
    log,
    now,
    ...(options.streamPollMs !== undefined ? { pollMs: options.streamPollMs } : {}),
  });
  const streams = new Set<ServerResponse>();

  api.addHook("preClose", (done) => {
    feed.close();
    for (const res of streams) res.end();
    streams.clear();
    done();
  });

  api.get("/api/stream", (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store, no-transform",
      connection: "keep-alive",
      // nginx buffers responses unless told otherwise.
      "x-accel-buffering": "no",
    });
    res.write(`retry: 3000\nevent: ready\ndata: {"at":${now()}}\n\n`);
    streams.add(res);
    const unsubscribe = feed.subscribe((row) => {
      res.write(`event: received\nid: ${row.id}\ndata: ${JSON.stringify(row)}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), heartbeatMs);
    heartbeat.unref();
    req.raw.once("close", () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
      // Ending our side marks the connection idle, so server.close() does not wait for the client's keep-alive.
      if (!res.writableEnded) res.destroy();
    });
  });
}
