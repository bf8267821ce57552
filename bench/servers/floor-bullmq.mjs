// A floor for (d) under the Redis protocol of STYLE §5, not a product: per request, SET dedupe pending NX PX 60000,
// then BullMQ's Queue.add with the body as job data and a deterministic job id, then SET dedupe done XX PX 7d; the
// answer waits for all three. No record hash, no indices, no group commit, no deliveries run.
// Environment: PORT, REDIS_URL, PREFIX, SECRET.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { Queue } from "bullmq";
import { Redis } from "ioredis";

const secret = process.env.SECRET;
const prefix = process.env.PREFIX;
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const redis = new Redis(url, { enableAutoPipelining: true });
const queue = new Queue("floor", { connection: { url }, prefix });

async function ingest(n, text) {
  const key = `${prefix}:dedupe:${n.app_id}:${n.id}`;
  if ((await redis.set(key, "pending", "PX", 60_000, "NX")) !== "OK") return false;
  await queue.add("notification", { body: text }, { jobId: n.id.replace(/:/g, "_") });
  await redis.set(key, "done", "PX", 604_800_000, "XX");
  return true;
}

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
    ingest(JSON.parse(text), text).then(
      (inserted) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(inserted ? '{"received":true}' : '{"received":true,"duplicate":true}');
      },
      () => res.writeHead(503).end(),
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1");
