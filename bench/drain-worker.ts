/**
 * One drain worker process for bench/drain.ts: opens the store, registers a no-op handler named "noop" and runs
 * deliveries until SIGTERM.
 */
import { createReceiver } from "../src/core/receiver.js";
import { openStore } from "../src/cli/store-url.js";

const [storeUrl, prefix, concurrency] = process.argv.slice(2);
// The prefix names the Redis key prefix or the PostgreSQL schema, whichever the store URL is.
const store = await openStore(storeUrl!, {
  redisPrefix: prefix ?? "intercom-bridge",
  postgresSchema: prefix ?? "intercom_bridge",
  // The machine's shared Redis keeps nothing on disk; a bench measures speed, not durability.
  allowVolatileRedis: true,
});
const receiver = createReceiver({ secrets: ["drain"], store, concurrency: Number(concurrency ?? 16), ordered: false });
receiver.onAny(() => undefined, { name: "noop" });
receiver.start();
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  receiver.close(5_000).then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
