// A floor for bench:drain's Redis runs, not a product: one plain BullMQ worker process with a no-op processor, no
// intercom-bridge code. argv: redis URL, prefix, concurrency. Completed jobs are kept, as intercom-bridge keeps them.
import { Worker } from "bullmq";

const [url, prefix, concurrency] = process.argv.slice(2);
const worker = new Worker("floor", async () => undefined, {
  connection: { url, maxRetriesPerRequest: null },
  prefix,
  concurrency: Number(concurrency ?? 16),
});
await worker.waitUntilReady();
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  worker.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
