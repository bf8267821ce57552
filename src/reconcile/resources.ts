/**
 * The three resources gap recovery scans, and how each maps to webhook topics: the synthetic topic it stores
 * (`reconcile.conversation` …) and the topic families whose notifications count as having "seen" a change of one of
 * its items. Pure data; imports nothing.
 */

/** The searchable resources, named as in their REST paths. */
export type SearchResource = "conversations" | "contacts" | "tickets";

/** Every searchable resource, in the order reconcile scans them. */
export const SEARCH_RESOURCES: readonly SearchResource[] = ["conversations", "contacts", "tickets"];

/** The topics of synthetic notifications. */
export const RECONCILE_TOPICS = {
  conversations: "reconcile.conversation",
  contacts: "reconcile.contact",
  tickets: "reconcile.ticket",
} as const satisfies Record<SearchResource, string>;

/** A synthetic notification's topic. */
export type ReconcileTopic = (typeof RECONCILE_TOPICS)[SearchResource];

/** The topic group of every synthetic notification (`reconcile.*`). */
export const RECONCILE_TOPIC_GROUP = "reconcile";

/** True for a topic reconcile synthesizes (the `reconcile.*` family): what `inspect`, the dashboard and metrics mark. */
export function isSyntheticTopic(topic: string): boolean {
  return topic.startsWith(`${RECONCILE_TOPIC_GROUP}.`);
}

/**
 * Topic prefixes whose notifications are about an item of each resource: `conversation_part.*` carries the
 * conversation, the legacy `user.*` / `visitor.*` topics carry a contact, `ticket.*` the ticket (nested for
 * `ticket.closed`; the stored item id is the ticket's either way).
 */
const TOPIC_PREFIXES: Record<SearchResource, readonly string[]> = {
  conversations: ["conversation.", "conversation_part.", "reconcile.conversation"],
  contacts: ["contact.", "user.", "visitor.", "reconcile.contact"],
  tickets: ["ticket.", "reconcile.ticket"],
};

/** True when a stored notification of `topic` is about an item of `resource`. */
export function isTopicOf(resource: SearchResource, topic: string): boolean {
  return TOPIC_PREFIXES[resource].some((p) => topic === p || topic.startsWith(p));
}

/** Parses a comma-separated list of resources (`conversations,contacts`). @throws {TypeError} naming a wrong entry. */
export function parseResources(list: string): SearchResource[] {
  const out: SearchResource[] = [];
  for (const raw of list.split(",")) {
    const name = raw.trim();
    if (name === "") continue;
    if (!(SEARCH_RESOURCES as readonly string[]).includes(name))
      throw new TypeError(`"${name}" is not one of ${SEARCH_RESOURCES.join(", ")}`);
    if (!out.includes(name as SearchResource)) out.push(name as SearchResource);
  }
  if (out.length === 0) throw new TypeError(`give at least one of ${SEARCH_RESOURCES.join(", ")}`);
  return out;
}
