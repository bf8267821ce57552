/**
 * `createIntercomWebhooks`, the library's front door: a receiver with typed handlers over the store you pass, or over
 * the in-memory store, with a one-time warning, when you pass none. Loads no optional dependency: no driver, no
 * framework.
 */
import { ConfigError } from "./core/errors.js";
import { createLogger } from "./core/logger.js";
import { createReceiver, type Receiver, type ReceiverOptions } from "./core/receiver.js";
import { createMemoryStore } from "./store/memory/memory-store.js";
import type { Store } from "./store/store.js";

/** The receiver {@link createIntercomWebhooks} returns: typed `on` / `onAny` / `onError`, `receive`, `start`, `close`. */
export type IntercomWebhooks = Receiver;

/** The options every form of {@link IntercomWebhooksOptions} shares: all of {@link ReceiverOptions} but `secrets` and `store`. */
export interface IntercomWebhooksBaseOptions extends Omit<ReceiverOptions, "secrets" | "store"> {
  /**
   * Where notifications and deliveries are kept. Use `createSqliteStore()` from `intercom-bridge/sqlite` (or the Redis
   * store) in production.
   *
   * **The default is an in-memory store, which is not durable**: a 200 answered to Intercom only means "kept in this
   * process", and everything not yet handled is lost when the process exits. Intercom retries a failed delivery only
   * once, so lost notifications are not sent again.
   * @defaultValue `createMemoryStore()` (not durable)
   */
  store?: Store;
}

/** Options of {@link createIntercomWebhooks}: exactly one of `secret` or `secrets`, plus any receiver option. */
export type IntercomWebhooksOptions = IntercomWebhooksBaseOptions &
  (
    | {
        /** The Intercom app's client secret (Developer Hub → your app → Basic information). */
        secret: string;
        secrets?: never;
      }
    | {
        /** Several client secrets during a rotation: a body signed with any of them verifies. */
        secrets: string | readonly string[];
        secret?: never;
      }
  );

/** The warning given when no `store` is passed (through `log`, else once per process with `process.emitWarning`). */
export const MEMORY_STORE_WARNING =
  "intercom-bridge is using the in-memory store: notifications are lost when the process exits. Pass `store` (createSqliteStore from intercom-bridge/sqlite) in production.";
let hasEmittedMemoryWarning = false;

/**
 * Creates the Intercom webhook receiver an app mounts with one of the adapters (`intercom-bridge/node`, `/express`,
 * `/fastify`, `/web`, `/hono`): requests are verified, deduplicated and stored before the 200, then `start()` runs the
 * handlers in the background with retries.
 *
 * Without `store`, an in-memory store is used: fine for trying things out, **not durable** (see
 * {@link IntercomWebhooksBaseOptions.store}).
 *
 * @throws {ConfigError} when neither or both of `secret` and `secrets` are given, a secret is empty, or an option is
 * out of range.
 * @example
 * ```ts
 * import { createIntercomWebhooks } from "intercom-bridge";
 * import { createSqliteStore } from "intercom-bridge/sqlite";
 *
 * const webhooks = createIntercomWebhooks({
 *   secret: process.env.INTERCOM_CLIENT_SECRET!,
 *   store: createSqliteStore({ path: "./data/intercom-bridge.db" }),
 * });
 * webhooks.on("conversation.user.replied", async (n) => {
 *   console.log("reply in", n.data.item.id);
 * });
 * webhooks.start();
 * ```
 */
export function createIntercomWebhooks(options: IntercomWebhooksOptions): IntercomWebhooks {
  if (!options || typeof options !== "object") {
    throw new ConfigError("createIntercomWebhooks needs an options object: { secret, store?, … }");
  }
  const { secret, secrets, store, ...rest } = options as IntercomWebhooksBaseOptions & {
    secret?: unknown;
    secrets?: unknown;
  };
  const hasSecret = secret !== undefined;
  const hasSecrets = secrets !== undefined;
  if (hasSecret && hasSecrets) {
    throw new ConfigError("Pass either `secret` or `secrets` to createIntercomWebhooks, not both");
  }
  if (!hasSecret && !hasSecrets) {
    throw new ConfigError(
      "createIntercomWebhooks needs `secret` (your Intercom app's client secret) or `secrets` (several, during a rotation)",
    );
  }
  if (hasSecret && (typeof secret !== "string" || secret.length === 0)) {
    throw new ConfigError("`secret` must be a non-empty string (your Intercom app's client secret)");
  }
  if (hasSecrets && typeof secrets !== "string" && !Array.isArray(secrets)) {
    throw new ConfigError("`secrets` must be a string or an array of non-empty strings");
  }
  let chosen = store;
  if (chosen === undefined) {
    chosen = createMemoryStore(rest.clock ? { clock: rest.clock } : {});
    if (rest.log !== undefined) createLogger(rest.log).warn({ store: "memory" }, MEMORY_STORE_WARNING);
    else if (!hasEmittedMemoryWarning) {
      // No logger given: a process warning (once per process, like Node's own) so the quick start cannot hide it.
      // Runtimes without Node's `process` (some edge runtimes behind the web adapter) get console.warn.
      hasEmittedMemoryWarning = true;
      if (typeof process !== "undefined" && typeof process.emitWarning === "function")
        process.emitWarning(MEMORY_STORE_WARNING, { code: "IB_MEMORY_STORE" });
      else console.warn(MEMORY_STORE_WARNING);
    }
  }
  return createReceiver({
    ...rest,
    secrets: (hasSecret ? secret : secrets) as string | readonly string[],
    store: chosen,
  });
}
