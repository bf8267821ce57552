import type { Handler } from "./router.js";
import type { IntercomNotification, NotificationFor, TopicPattern } from "../topics/index.js";

/**
 * A `--handlers` module's default export: pattern (exact topic, `group.*`, `*`) → handler; these match catalogued
 * topics, like `on()`. The key `"**"` is the module's `onAny`: every notification, topics Intercom added after this
 * version included. The key is the handler's stable name.
 */
export type HandlerMap = { [P in TopicPattern]?: Handler<NotificationFor<P>> } & {
  "**"?: Handler<IntercomNotification<string>>;
};

/**
 * Types a handlers module for `intercom-bridge serve --handlers`: each handler's notification is narrowed by its key.
 * @example
 * export default defineHandlers({
 *   "conversation.user.replied": async (n, { log }) => log.info({ id: n.data.item.id }, "reply"),
 *   "contact.*": async (n) => { await crm.upsert(n.data.item); },
 * });
 */
export function defineHandlers<const T extends HandlerMap>(handlers: T): T {
  return handlers;
}
