// THIS FILE IS GENERATED - DO NOT EDIT DIRECTLY (scripts/generate-topics.ts)
// Temporary bootstrap list; regenerate with `npm run generate:topics`.
export const topicNames = ["ping", "conversation.user.created", "conversation.user.replied", "conversation.admin.replied", "contact.user.created", "ticket.created", "conversation_part.tag.created"] as const;
export const topicCatalogue = {} as Record<(typeof topicNames)[number], { item: string; description: string; source: string }>;
