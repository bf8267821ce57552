import { Option, type Command } from "commander";
import { ENV } from "../config/env.js";
import type { Store } from "../store/store.js";
import { DEFAULT_STORE_URL, openStore } from "./store-url.js";

/** The flags every store-reading command takes. */
export interface StoreFlags {
  store: string;
  redisPrefix: string;
}

/** Adds `--store` and `--redis-prefix` (with their environment variables) to a command. */
export function storeOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option("--store <url>", "sqlite:<path>, memory: or redis://host:port/db")
        .env(ENV.store)
        .default(DEFAULT_STORE_URL),
    )
    .addOption(
      new Option("--redis-prefix <prefix>", "key prefix for redis:// stores")
        .env(ENV.redisPrefix)
        .default("intercom-bridge"),
    );
}

/** Opens the store the flags name, runs `fn`, and closes the store whatever happens. */
export async function withStore<T>(flags: StoreFlags, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(flags.store, { redisPrefix: flags.redisPrefix });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
