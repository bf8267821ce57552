/**
 * Topic → `data.item` type. The topic → shape assignment lives in `scripts/topic-catalogue.yaml` (generated into
 * `topicCatalogue`); this file only names the TypeScript type behind each shape, so the catalogue stays the single
 * source. A shape missing here is a compile error.
 */
import type { Contact, ConversationListItem, Ticket } from "./generated/items.js";
import type { topicCatalogue } from "./generated/topic-names.js";
import type {
  AdminActivityLogEvent,
  ApiRequestCompleted,
  CompanyContactAttachment,
  ContactArchived,
  ContactMerged,
  ContactTag,
  ContentStat,
  ConversationContactAttachment,
  ConversationDeleted,
  ConversationOrPart,
  DataConnectorExecution,
  Deleted,
  LegacyUser,
  LegacyUserDeleted,
  Ping,
  ProcedureHitlNotification,
  SubscriptionChange,
  TicketClosed,
  TicketContactAttachment,
  TicketTicketPart,
  UnknownItem,
  UserTag,
  WebhookAdmin,
  WebhookArticle,
  WebhookCall,
  WebhookCompany,
  WebhookContact,
  WebhookContentImportSource,
  WebhookConversation,
  WebhookEvent,
  WebhookJob,
  WebhookTicket,
} from "./webhook-items.js";

/** The item type behind each `shape` name used in `scripts/topic-catalogue.yaml`. */
export interface TopicItemShapes {
  Admin: WebhookAdmin;
  AdminActivityLogEvent: AdminActivityLogEvent;
  ApiRequestCompleted: ApiRequestCompleted;
  Article: WebhookArticle;
  Call: WebhookCall;
  Company: WebhookCompany;
  CompanyContactAttachment: CompanyContactAttachment;
  Contact: WebhookContact;
  ContactArchived: ContactArchived;
  ContactMerged: ContactMerged;
  ContactTag: ContactTag;
  ContentImportSource: WebhookContentImportSource;
  ContentStat: ContentStat;
  Conversation: WebhookConversation;
  ConversationContactAttachment: ConversationContactAttachment;
  ConversationDeleted: ConversationDeleted;
  ConversationOrPart: ConversationOrPart;
  DataConnectorExecution: DataConnectorExecution;
  Deleted: Deleted;
  Event: WebhookEvent;
  Job: WebhookJob;
  LegacyUser: LegacyUser;
  LegacyUserDeleted: LegacyUserDeleted;
  Ping: Ping;
  ProcedureHitlNotification: ProcedureHitlNotification;
  /** `reconcile.contact`: the REST contact of the search API (unix-second timestamps, unlike webhooks). */
  RestContact: Contact;
  /** `reconcile.conversation`: the REST conversation of the search API. */
  RestConversation: ConversationListItem;
  /** `reconcile.ticket`: the REST ticket of the search API. */
  RestTicket: Ticket;
  SubscriptionChange: SubscriptionChange;
  Ticket: WebhookTicket;
  TicketClosed: TicketClosed;
  TicketContactAttachment: TicketContactAttachment;
  TicketTicketPart: TicketTicketPart;
  Unknown: UnknownItem;
  UserTag: UserTag;
}

type Catalogue = typeof topicCatalogue;

/** Every catalogued topic → the type of its `data.item`. */
export type TopicItemMap = { [T in keyof Catalogue]: TopicItemShapes[Catalogue[T]["shape"]] };
