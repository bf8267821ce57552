/**
 * Every captured payload in test/fixtures/intercom/ must fit the types of its topic: the topic is a catalogued
 * IntercomTopic, and its data.item is assignable to TopicItemMap[topic] (literal types widened, because JSON imports
 * infer plain strings). A field that a real payload sends as null, as a number instead of a string, or as an object
 * instead of a URL fails here, so the types cannot drift into promising what Intercom does not send (facts §1.9).
 */
import { describe, expectTypeOf, it } from "vitest";
import type { IntercomTopic, TopicItemMap } from "../../src/topics/index.js";
import adminActivityLogEventCreated from "../fixtures/intercom/admin_activity_log_event_created.json" with { type: "json" };
import adminAddedToWorkspace from "../fixtures/intercom/admin_added_to_workspace.json" with { type: "json" };
import adminAwayModeUpdated from "../fixtures/intercom/admin_away_mode_updated.json" with { type: "json" };
import adminLoggedIn from "../fixtures/intercom/admin_logged_in.json" with { type: "json" };
import adminRemovedFromWorkspace from "../fixtures/intercom/admin_removed_from_workspace.json" with { type: "json" };
import article from "../fixtures/intercom/article.json" with { type: "json" };
import articleCreated from "../fixtures/intercom/article_created.json" with { type: "json" };
import articleDeleted from "../fixtures/intercom/article_deleted.json" with { type: "json" };
import articlePublished from "../fixtures/intercom/article_published.json" with { type: "json" };
import articleUpdated from "../fixtures/intercom/article_updated.json" with { type: "json" };
import comapnyContactAttached from "../fixtures/intercom/comapny_contact_attached.json" with { type: "json" };
import companyContactAttached from "../fixtures/intercom/company_contact_attached.json" with { type: "json" };
import companyCreated from "../fixtures/intercom/company_created.json" with { type: "json" };
import companyCreatedWithName from "../fixtures/intercom/company_created_with_name.json" with { type: "json" };
import companyUpdated from "../fixtures/intercom/company_updated.json" with { type: "json" };
import conatctEmailUpdated from "../fixtures/intercom/conatct_email_updated.json" with { type: "json" };
import contactAddedEmail from "../fixtures/intercom/contact_added_email.json" with { type: "json" };
import contactCreated from "../fixtures/intercom/contact_created.json" with { type: "json" };
import contactDeleted from "../fixtures/intercom/contact_deleted.json" with { type: "json" };
import contactLeadAddedEmail from "../fixtures/intercom/contact_lead_added_email.json" with { type: "json" };
import contactLeadCreated from "../fixtures/intercom/contact_lead_created.json" with { type: "json" };
import contactLeadTagCreated from "../fixtures/intercom/contact_lead_tag_created.json" with { type: "json" };
import contactLeadTagDeleted from "../fixtures/intercom/contact_lead_tag_deleted.json" with { type: "json" };
import contactLeadUpdated from "../fixtures/intercom/contact_lead_updated.json" with { type: "json" };
import contactSignedUp from "../fixtures/intercom/contact_signed_up.json" with { type: "json" };
import contactSubscribed from "../fixtures/intercom/contact_subscribed.json" with { type: "json" };
import contactTagCreated from "../fixtures/intercom/contact_tag_created.json" with { type: "json" };
import contactTagDeleted from "../fixtures/intercom/contact_tag_deleted.json" with { type: "json" };
import contactUnarchived from "../fixtures/intercom/contact_unarchived.json" with { type: "json" };
import contactUserCreated from "../fixtures/intercom/contact_user_created.json" with { type: "json" };
import contactUserTagCreated from "../fixtures/intercom/contact_user_tag_created.json" with { type: "json" };
import contactUserTagDeleted from "../fixtures/intercom/contact_user_tag_deleted.json" with { type: "json" };
import contactUserUpdated from "../fixtures/intercom/contact_user_updated.json" with { type: "json" };
import conversationAdminAssigned from "../fixtures/intercom/conversation_admin_assigned.json" with { type: "json" };
import conversationAdminClosed from "../fixtures/intercom/conversation_admin_closed.json" with { type: "json" };
import conversationAdminNoted from "../fixtures/intercom/conversation_admin_noted.json" with { type: "json" };
import conversationAdminOpenAssigned from "../fixtures/intercom/conversation_admin_open_assigned.json" with { type: "json" };
import conversationAdminOpened from "../fixtures/intercom/conversation_admin_opened.json" with { type: "json" };
import conversationAdminReplied from "../fixtures/intercom/conversation_admin_replied.json" with { type: "json" };
import conversationAdminSingleCreated from "../fixtures/intercom/conversation_admin_single_created.json" with { type: "json" };
import conversationAdminSnoozed from "../fixtures/intercom/conversation_admin_snoozed.json" with { type: "json" };
import conversationContactAttached from "../fixtures/intercom/conversation_contact_attached.json" with { type: "json" };
import conversationDeleted from "../fixtures/intercom/conversation_deleted.json" with { type: "json" };
import conversationOperatorReplied from "../fixtures/intercom/conversation_operator_replied.json" with { type: "json" };
import conversationPartTagCreated from "../fixtures/intercom/conversation_part_tag_created.json" with { type: "json" };
import conversationPriorityUpdated from "../fixtures/intercom/conversation_priority_updated.json" with { type: "json" };
import conversationUserCreated from "../fixtures/intercom/conversation_user_created.json" with { type: "json" };
import conversationUserReplied from "../fixtures/intercom/conversation_user_replied.json" with { type: "json" };
import granularSubscribe from "../fixtures/intercom/granular_subscribe.json" with { type: "json" };
import ping from "../fixtures/intercom/ping.json" with { type: "json" };
import ticketAdminAssigned from "../fixtures/intercom/ticket_admin_assigned.json" with { type: "json" };
import ticketAdminReplied from "../fixtures/intercom/ticket_admin_replied.json" with { type: "json" };
import ticketAttributeUpdated from "../fixtures/intercom/ticket_attribute_updated.json" with { type: "json" };
import ticketClosed from "../fixtures/intercom/ticket_closed.json" with { type: "json" };
import ticketConatctReplied from "../fixtures/intercom/ticket_conatct_replied.json" with { type: "json" };
import ticketContactAttached from "../fixtures/intercom/ticket_contact_attached.json" with { type: "json" };
import ticketCreated from "../fixtures/intercom/ticket_created.json" with { type: "json" };
import ticketStateUpdated from "../fixtures/intercom/ticket_state_updated.json" with { type: "json" };
import userAdded from "../fixtures/intercom/user_added.json" with { type: "json" };
import userCreated from "../fixtures/intercom/user_created.json" with { type: "json" };
import userEmailUpdated from "../fixtures/intercom/user_email_updated.json" with { type: "json" };
import userTagCreated from "../fixtures/intercom/user_tag_created.json" with { type: "json" };
import userUnsubscribed from "../fixtures/intercom/user_unsubscribed.json" with { type: "json" };

/** Replaces literal types with their primitive, recursively, keeping optionality and index signatures. */
type Widen<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer U)[]
        ? Widen<U>[]
        : T extends object
          ? { [K in keyof T]: Widen<T[K]> }
          : T;

/** Compiles only when the fixture topic is catalogued and its item fits the topic item type. */
function fits<TTopic extends IntercomTopic>(_topic: TTopic, _item: Widen<TopicItemMap[TTopic]>): void {}

describe("captured fixtures", () => {
  it("fit the item type of their topic", () => {
    fits("admin.activity_log_event.created", adminActivityLogEventCreated.data.item);
    fits("admin.added_to_workspace", adminAddedToWorkspace.data.item);
    fits("admin.away_mode_updated", adminAwayModeUpdated.data.item);
    fits("admin.logged_in", adminLoggedIn.data.item);
    fits("admin.removed_from_workspace", adminRemovedFromWorkspace.data.item);
    fits("article.created", article.data.item);
    fits("article.created", articleCreated.data.item);
    fits("article.deleted", articleDeleted.data.item);
    fits("article.published", articlePublished.data.item);
    fits("article.updated", articleUpdated.data.item);
    fits("company.contact.attached", comapnyContactAttached.data.item);
    fits("company.contact.attached", companyContactAttached.data.item);
    fits("company.created", companyCreated.data.item);
    fits("company.created", companyCreatedWithName.data.item);
    fits("company.updated", companyUpdated.data.item);
    fits("contact.email.updated", conatctEmailUpdated.data.item);
    fits("contact.added_email", contactAddedEmail.data.item);
    fits("contact.created", contactCreated.data.item);
    fits("contact.deleted", contactDeleted.data.item);
    fits("contact.lead.added_email", contactLeadAddedEmail.data.item);
    fits("contact.lead.created", contactLeadCreated.data.item);
    fits("contact.lead.tag.created", contactLeadTagCreated.data.item);
    fits("contact.lead.tag.deleted", contactLeadTagDeleted.data.item);
    fits("contact.lead.updated", contactLeadUpdated.data.item);
    fits("contact.signed_up", contactSignedUp.data.item);
    fits("contact.subscribed", contactSubscribed.data.item);
    fits("contact.tag.created", contactTagCreated.data.item);
    fits("contact.tag.deleted", contactTagDeleted.data.item);
    fits("contact.unarchived", contactUnarchived.data.item);
    fits("contact.user.created", contactUserCreated.data.item);
    fits("contact.user.tag.created", contactUserTagCreated.data.item);
    fits("contact.user.tag.deleted", contactUserTagDeleted.data.item);
    fits("contact.user.updated", contactUserUpdated.data.item);
    fits("conversation.admin.assigned", conversationAdminAssigned.data.item);
    fits("conversation.admin.closed", conversationAdminClosed.data.item);
    fits("conversation.admin.noted", conversationAdminNoted.data.item);
    fits("conversation.admin.open.assigned", conversationAdminOpenAssigned.data.item);
    fits("conversation.admin.opened", conversationAdminOpened.data.item);
    fits("conversation.admin.replied", conversationAdminReplied.data.item);
    fits("conversation.admin.single.created", conversationAdminSingleCreated.data.item);
    fits("conversation.admin.snoozed", conversationAdminSnoozed.data.item);
    fits("conversation.contact.attached", conversationContactAttached.data.item);
    fits("conversation.deleted", conversationDeleted.data.item);
    fits("conversation.operator.replied", conversationOperatorReplied.data.item);
    fits("conversation_part.tag.created", conversationPartTagCreated.data.item);
    fits("conversation.priority.updated", conversationPriorityUpdated.data.item);
    fits("conversation.user.created", conversationUserCreated.data.item);
    fits("conversation.user.replied", conversationUserReplied.data.item);
    fits("granular.subscribe", granularSubscribe.data.item);
    fits("ping", ping.data.item);
    fits("ticket.admin.assigned", ticketAdminAssigned.data.item);
    fits("ticket.admin.replied", ticketAdminReplied.data.item);
    fits("ticket.attribute.updated", ticketAttributeUpdated.data.item);
    fits("ticket.closed", ticketClosed.data.item);
    fits("ticket.contact.replied", ticketConatctReplied.data.item);
    fits("ticket.contact.attached", ticketContactAttached.data.item);
    fits("ticket.created", ticketCreated.data.item);
    fits("ticket.state.updated", ticketStateUpdated.data.item);
    fits("user.tag.created", userAdded.data.item);
    fits("user.created", userCreated.data.item);
    fits("user.email.updated", userEmailUpdated.data.item);
    fits("user.tag.created", userTagCreated.data.item);
    fits("user.unsubscribed", userUnsubscribed.data.item);
    expectTypeOf<"ping">().toExtend<IntercomTopic>();
  });
});
