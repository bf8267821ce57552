import { describe, expectTypeOf, it } from "vitest";
import { defineHandlers } from "../../src/core/define-handlers.js";
import { createRouter } from "../../src/core/router.js";
import type {
  IntercomNotification,
  IntercomTopic,
  NotificationFor,
  TopicItemMap,
  TopicPattern,
} from "../../src/topics/index.js";
import type { topicCatalogue } from "../../src/topics/generated/topic-names.js";
import type {
  CompanyContactAttachment,
  ContactTag,
  ConversationDeleted,
  Deleted,
  Ping,
  TicketClosed,
  TicketTicketPart,
  WebhookAdmin,
  WebhookContact,
  WebhookConversation,
  WebhookConversationPart,
  WebhookTicket,
} from "../../src/topics/webhook-items.js";

const router = createRouter();

describe("topic types", () => {
  it("narrows the item of an exact topic", () => {
    router.on("conversation.user.replied", (n) => {
      expectTypeOf(n.topic).toEqualTypeOf<"conversation.user.replied">();
      expectTypeOf(n.data.item).toEqualTypeOf<WebhookConversation>();
      expectTypeOf(n.data.item.id).toEqualTypeOf<string | null | undefined>();
      // Nullable part bodies (facts §1.7) are typed as such.
      const part = n.data.item.conversation_parts?.conversation_parts?.[0];
      expectTypeOf(part).toEqualTypeOf<WebhookConversationPart | undefined>();
      expectTypeOf(part?.body).toEqualTypeOf<string | null | undefined>();
      // Unknown extras are allowed, as unknown.
      expectTypeOf(n.data.item["something_new"]).toEqualTypeOf<unknown>();
    });
  });

  it("types the envelope: id may be null, created_at is a number", () => {
    router.on("ping", (n) => {
      expectTypeOf(n.id).toEqualTypeOf<string | null>();
      expectTypeOf(n.created_at).toEqualTypeOf<number>();
      expectTypeOf(n.data.item).toEqualTypeOf<Ping>();
      expectTypeOf(n.data.item.message).toEqualTypeOf<string | null | undefined>();
    });
  });

  it("gives group.* a union that switch (n.topic) narrows", () => {
    router.on("ticket.*", (n) => {
      expectTypeOf(n.topic).toEqualTypeOf<Extract<IntercomTopic, `ticket.${string}`>>();
      // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- a default branch is the point: users handle a few topics
      switch (n.topic) {
        case "ticket.created":
          expectTypeOf(n.data.item).toEqualTypeOf<WebhookTicket>();
          break;
        case "ticket.admin.replied":
          expectTypeOf(n.data.item).toEqualTypeOf<TicketTicketPart>();
          expectTypeOf(n.data.item.ticket_part?.body).toEqualTypeOf<string | null | undefined>();
          break;
        case "ticket.closed": {
          expectTypeOf(n.data.item).toEqualTypeOf<TicketClosed>();
          // Flat (capture) or nested (docs >= 2.15): one expression reads both.
          const ticket = n.data.item.ticket ?? n.data.item;
          expectTypeOf(ticket.ticket_id).toEqualTypeOf<string | null | undefined>();
          break;
        }
        case "ticket.contact.attached":
          expectTypeOf(n.data.item.ticket?.id).toEqualTypeOf<number | string | null | undefined>();
          break;
        default:
          expectTypeOf(n.topic).not.toEqualTypeOf<"ticket.created">();
      }
    });
  });

  it("keeps conversation.* apart from conversation_part.*", () => {
    type Topics = NotificationFor<"conversation.*">["topic"];
    expectTypeOf<"conversation.admin.replied">().toExtend<Topics>();
    expectTypeOf<"conversation.admin.replied.translated">().toExtend<Topics>();
    expectTypeOf<"conversation_part.tag.created">().not.toExtend<Topics>();
    expectTypeOf<"conversation_part.tag.created">().toExtend<NotificationFor<"conversation_part.*">["topic"]>();
  });

  it("accepts a list of patterns and unions their notifications", () => {
    router.on(["contact.user.created", "company.*"], (n) => {
      expectTypeOf(n.topic).toEqualTypeOf<"contact.user.created" | Extract<IntercomTopic, `company.${string}`>>();
      if (n.topic === "contact.user.created") expectTypeOf(n.data.item).toEqualTypeOf<WebhookContact>();
      if (n.topic === "company.contact.attached") expectTypeOf(n.data.item).toEqualTypeOf<CompanyContactAttachment>();
    });
  });

  it("gives * every known topic, and onAny any topic with an unknown item", () => {
    router.on("*", (n) => {
      expectTypeOf(n.topic).toEqualTypeOf<IntercomTopic>();
    });
    router.onAny((n) => {
      expectTypeOf(n).toEqualTypeOf<IntercomNotification<string>>();
      expectTypeOf(n.topic).toEqualTypeOf<string>();
      expectTypeOf(n.data.item).toEqualTypeOf<unknown>();
    });
  });

  it("rejects misspelled topics and unknown groups", () => {
    // @ts-expect-error misspelled topic
    router.on("conversation.user.replyed", () => {});
    // @ts-expect-error the docs/real spelling is contact.unarchive / contact.unarchived, not contact.unarchiving
    router.on("contact.unarchiving", () => {});
    // @ts-expect-error unknown group
    router.on("widget.*", () => {});
    // @ts-expect-error a pattern inside a list is checked too
    router.on(["ticket.created", "tickets.*"], () => {});
    // @ts-expect-error only "group.*" and "*" wildcards exist
    router.on("conversation.admin.*", () => {});
    expectTypeOf<"contact.unarchived">().toExtend<TopicPattern>();
    expectTypeOf<"contact.unarchive">().toExtend<TopicPattern>();
    expectTypeOf<"nope.*">().not.toExtend<TopicPattern>();
  });

  it("reaches each captured topic's item through the types", () => {
    expectTypeOf<TopicItemMap["admin.logged_in"]>().toEqualTypeOf<WebhookAdmin>();
    expectTypeOf<TopicItemMap["admin.logged_in"]["id"]>().toEqualTypeOf<number | string | null | undefined>();
    expectTypeOf<TopicItemMap["contact.unarchived"]["created_at"]>().toEqualTypeOf<
      number | string | null | undefined
    >();
    expectTypeOf<TopicItemMap["contact.user.tag.created"]>().toEqualTypeOf<ContactTag>();
    expectTypeOf<TopicItemMap["contact.deleted"]>().toEqualTypeOf<Deleted>();
    expectTypeOf<TopicItemMap["conversation.deleted"]>().toEqualTypeOf<ConversationDeleted>();
    expectTypeOf<TopicItemMap["ticket.closed"]>().toEqualTypeOf<TicketClosed>();
    expectTypeOf<TopicItemMap["ping"]>().toEqualTypeOf<Ping>();
  });

  it("keeps the catalogue's literal metadata", () => {
    expectTypeOf<(typeof topicCatalogue)["contact.unarchived"]["source"]>().toEqualTypeOf<"capture">();
    expectTypeOf<(typeof topicCatalogue)["company.contact.attached"]["item"]>().toEqualTypeOf<null>();
    expectTypeOf<(typeof topicCatalogue)["audience.created"]["preview"]>().toEqualTypeOf<true>();
    expectTypeOf<keyof TopicItemMap>().toEqualTypeOf<IntercomTopic>();
  });
});

describe("defineHandlers (a --handlers module)", () => {
  it("narrows each key like on(), and types the module's '**' key as every notification", () => {
    defineHandlers({
      "ticket.created": (n) => {
        expectTypeOf(n.data.item).toEqualTypeOf<TopicItemMap["ticket.created"]>();
      },
      "*": (n) => {
        // Every notification, topics outside the catalogue included: the union carries an unknown-topic member.
        expectTypeOf(n).toMatchTypeOf<IntercomNotification<string>>();
        expectTypeOf<IntercomNotification<string>>().toMatchTypeOf<typeof n>();
        if (n.topic === "ticket.created") expectTypeOf(n.data.item).toMatchTypeOf<unknown>();
      },
      "**": (n) => {
        expectTypeOf(n.topic).toEqualTypeOf<string>();
      },
    });
    // @ts-expect-error misspelled topic key
    defineHandlers({ "ticket.craeted": () => {} });
  });
});
