/** `events resume`: lift a pause of outbound sending (after a refused token) for every instance on the store. */
import { storeOptions, withStore, type StoreFlags } from "../../store-options.js";
import { type Command } from "commander";
import { OUTBOX_LIMITER } from "../../../outbound/rate-limit.js";

/** Registers `events resume` on the `events` command. */
export function registerResumeCommand(events: Command): void {
  storeOptions(
    events
      .command("resume")
      .description(
        "Lift a pause of outbound sending (after Intercom refused the token with 401/403) for every instance on this store",
      ),
  ).action(async (flags: StoreFlags) => {
    await withStore(flags, async (store) => {
      const limiter = store.limiter(OUTBOX_LIMITER);
      const before = await limiter.state();
      await limiter.resume();
      process.stdout.write(
        before.pausedUntil !== null && before.pausedUntil > Date.now()
          ? `resumed (was paused: ${before.pauseReason ?? "?"})\n`
          : "not paused\n",
      );
    });
  });
}
