/**
 * The public face of the topic catalogue: topic names, `IntercomTopic`, topic patterns (`group.*`, `*`) and the
 * notification type each pattern gives a handler, `isKnownTopic` and `topicMatches`. Types and pure functions only; the
 * catalogue itself is generated from `scripts/topic-catalogue.yaml`.
 */
import { topicNames, topicCatalogue } from "./generated/topic-names.js";
import type { TopicItemMap } from "./item-map.js";

export { topicNames, topicCatalogue };
export type { TopicItemMap };
export type { TopicItemShapes } from "./item-map.js";
export type { TopicCatalogueEntry, TopicSource } from "./generated/topic-names.js";
export type {
  WebhookAdmin,
  WebhookArticle,
  WebhookCompany,
  WebhookContact,
  WebhookConversation,
  WebhookConversationPart,
  WebhookEvent,
  WebhookTicket,
  WebhookTicketPart,
  TicketClosed,
  TicketTicketPart,
  ContactTag,
  UserTag,
  ContentStat,
  Ping,
  SubscriptionChange,
  Deleted,
  LegacyUser,
  LegacyUserDeleted,
  WebhookVisitor,
  WebhookTag,
  WebhookTimestamp,
  AdminActivityLogEvent,
  ApiRequestCompleted,
  CompanyContactAttachment,
  ConversationContactAttachment,
  TicketContactAttachment,
  ContactArchived,
  ContactMerged,
  ConversationDeleted,
  DataConnectorExecution,
  ProcedureHitlNotification,
  WebhookConversationStatistics,
  WebhookCall,
  UnknownItem,
} from "./webhook-items.js";

/** Every topic Intercom documents or is seen sending (facts §1.8, §1.9). */
export type IntercomTopic = (typeof topicNames)[number];

type Group<T> = T extends `${infer G}.${string}` ? G : never;

/** What `on()` accepts: an exact topic, a `group.*` pattern, or `*`. */
export type TopicPattern = IntercomTopic | `${Group<IntercomTopic>}.*` | "*";

/** The topics a pattern matches. */
export type ExpandPattern<P> = P extends "*"
  ? IntercomTopic
  : P extends `${infer G}.*`
    ? Extract<IntercomTopic, `${G}.${string}`>
    : Extract<P, IntercomTopic>;

/**
 * An Intercom webhook notification (facts §1.7). Only the envelope is checked at runtime; `data.item` is typed by
 * topic but loose on purpose (fields optional, extras allowed).
 */
export interface IntercomNotification<TTopic extends string = IntercomTopic> {
  type: "notification_event";
  /** `notif_<uuid>`; `null` on `ping`. */
  id: string | null;
  topic: TTopic;
  /**
   * The workspace the notification comes from (one subscription serves every installing workspace). Every captured
   * payload has it, but Intercom's documented envelope does not list it, so it is optional.
   */
  app_id?: string;
  /** Unix seconds. Intercom does not order deliveries; use this. */
  created_at: number;
  first_sent_at?: number;
  delivered_at?: number;
  delivery_attempts?: number;
  delivery_status?: string | null;
  self?: string | null;
  links?: Record<string, unknown>;
  data: {
    /** `"notification_event_data"` in every captured payload; not part of the documented envelope. */
    type?: string;
    item: TTopic extends IntercomTopic ? TopicItemMap[TTopic] : unknown;
  };
}

/** The notification type a handler for pattern `P` receives; distributes over topics so `switch (n.topic)` narrows. */
export type NotificationFor<P extends string> = P extends TopicPattern
  ? { [T in ExpandPattern<P>]: IntercomNotification<T> }[ExpandPattern<P>]
  : IntercomNotification<string>;

/** True when `topic` is in the catalogue. */
export function isKnownTopic(topic: string): topic is IntercomTopic {
  return KNOWN.has(topic);
}
const KNOWN: ReadonlySet<string> = new Set(topicNames);

/**
 * Topics Intercom spells two ways that are one topic when routing: a handler for either name receives both. The
 * documentation's spelling first, the one real payloads carry second (facts §1.8).
 */
export const TOPIC_ALIASES: ReadonlyArray<readonly [documented: string, delivered: string]> = Object.freeze([
  ["contact.archive", "contact.archived"] as const,
]);
const ALIAS_OF: ReadonlyMap<string, string> = new Map(
  TOPIC_ALIASES.flatMap(([a, b]) => [[a, b] as const, [b, a] as const]),
);

/**
 * True when `pattern` (exact, `group.*` or `*`) matches `topic`. `conversation.*` does not match `conversation_part.x`.
 * An exact pattern also matches the other spelling of the same topic ({@link TOPIC_ALIASES}).
 */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) return topic.startsWith(pattern.slice(0, -1));
  return pattern === topic || ALIAS_OF.get(pattern) === topic;
}
