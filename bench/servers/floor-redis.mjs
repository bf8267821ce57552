// A floor for (d), not a product: the least work a Redis ingest with dedupe can do per notification. node:http reads
// the body, checks the HMAC, parses the JSON, and one script per request (auto-pipelined by ioredis) runs
// SET key NX EX 7d and, when the key is new, RPUSH of the body onto a list; the answer waits for the reply. No BullMQ,
// no job hash, no events stream, no crash recovery. Environment: PORT, REDIS_URL, PREFIX, SECRET.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { Redis } from "ioredis";

const secret = process.env.SECRET;
const prefix = process.env.PREFIX;
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { enableAutoPipelining: true });
redis.defineCommand("ingest", {
  numberOfKeys: 2,
  lua: "if redis.call('SET', KEYS[1], '1', 'EX', 604800, 'NX') then redis.call('RPUSH', KEYS[2], ARGV[1]) return 1 end return 0",
});
const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    const given = req.headers["x-hub-signature"];
    const expected = "sha1=" + createHmac("sha1", secret).update(body).digest("hex");
    if (typeof given !== "string" || given.length !== expected.length) return res.writeHead(401).end();
    if (!timingSafeEqual(Buffer.from(given), Buffer.from(expected))) return res.writeHead(401).end();
    const text = body.toString();
    const n = JSON.parse(text);
    redis.ingest(`${prefix}dedupe:${n.app_id}:${n.id}`, `${prefix}inbox`, text).then(
      (inserted) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(inserted === 1 ? '{"received":true}' : '{"received":true,"duplicate":true}');
      },
      () => res.writeHead(503).end(),
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1");
