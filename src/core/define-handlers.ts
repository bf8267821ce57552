/**
 * The type of a `--handlers` module (`defineHandlers`): each key narrows its handler's notification, as `on()` does,
 * and `*` / `**` take every notification, topics outside this version's catalogue included. Types only at runtime.
 */
import type { Handler } from "./router.js";
import type { IntercomNotification, NotificationFor, TopicPattern } from "../topics/index.js";

/**
 * A notification whose topic is not in this version's catalogue (Intercom added it later): its item is `unknown`.
 * `*` and `**` handlers receive these too, so their type includes this member and a `switch (n.topic)` needs a
 * default branch.
 */
export type UnknownTopicNotification = IntercomNotification<string>;

/**
 * A `--handlers` module's default export: key (exact topic, `group.*`, `*`) → handler. Exact topics and `group.*` keys
 * are narrowed like `on()`; `*` (and its alias `**`) receive every notification, topics Intercom added after this
 * version included. The key is the handler's stable name.
 */
export type HandlerMap = { [P in Exclude<TopicPattern, "*">]?: Handler<NotificationFor<P>> } & {
  "*"?: Handler<NotificationFor<"*"> | UnknownTopicNotification>;
  "**"?: Handler<NotificationFor<"*"> | UnknownTopicNotification>;
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
