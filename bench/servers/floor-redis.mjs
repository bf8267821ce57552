// A floor for (d), not a product: the least work a Redis ingest with dedupe can do per notification. After the shared
// HTTP half (floor-http.mjs), one script per request (auto-pipelined by ioredis) runs SET key NX EX 7d and, when the
// key is new, RPUSH of the body onto a list; the answer waits for the reply. No BullMQ, no job hash, no events
// stream, no crash recovery. Environment: PORT, REDIS_URL, PREFIX, SECRET.
import { Redis } from "ioredis";
import { serveFloor } from "./floor-http.mjs";

const prefix = process.env.PREFIX;
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { enableAutoPipelining: true });
redis.defineCommand("ingest", {
  numberOfKeys: 2,
  lua: "if redis.call('SET', KEYS[1], '1', 'EX', 604800, 'NX') then redis.call('RPUSH', KEYS[2], ARGV[1]) return 1 end return 0",
});
serveFloor(
  async (n, text) => (await redis.ingest(`${prefix}dedupe:${n.app_id}:${n.id}`, `${prefix}inbox`, text)) === 1,
);
