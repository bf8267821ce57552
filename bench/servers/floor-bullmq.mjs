// A floor for (d) under the Redis protocol of STYLE §5, not a product: after the shared HTTP half (floor-http.mjs),
// per request, SET dedupe pending NX PX 60000, then BullMQ's Queue.add with the body as job data and a deterministic
// job id, then SET dedupe done XX PX 7d; the answer waits for all three. No record hash, no indices, no group commit,
// no deliveries run. Environment: PORT, REDIS_URL, PREFIX, SECRET.
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { serveFloor } from "./floor-http.mjs";

const prefix = process.env.PREFIX;
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const redis = new Redis(url, { enableAutoPipelining: true });
const queue = new Queue("floor", { connection: { url }, prefix });

serveFloor(async (n, text) => {
  const key = `${prefix}:dedupe:${n.app_id}:${n.id}`;
  if ((await redis.set(key, "pending", "PX", 60_000, "NX")) !== "OK") return false;
  await queue.add("notification", { body: text }, { jobId: n.id.replace(/:/g, "_") });
  await redis.set(key, "done", "PX", 604_800_000, "XX");
  return true;
});
