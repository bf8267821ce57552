/**
 * Hand-written `data.item` shapes: webhook-only objects (no OpenAPI schema) and corrections where real webhook
 * payloads differ from the REST schemas generated into `./generated/items.ts` (facts §1.7, §1.9, captures in
 * `test/fixtures/intercom/`). Loose on purpose: every field is optional, unknown extras are allowed, and a field that
 * real payloads show as null is nullable. Route by topic, never by `item.type` (facts §7).
 */
import type {
  Admin,
  Article,
  Call,
  Company,
  Contact,
  ContentImportSource,
  Conversation,
  ConversationPart,
  ConversationStatistics,
  DataEvent,
  Jobs,
  SubscriptionType,
  Tag,
  Ticket,
  TicketPart,
} from "./generated/items.js";

/** Any further fields: unknown extras are normal in webhook payloads (facts §1.9). */
export interface LooseObject {
  [key: string]: unknown;
}

/** `T` without its index signature, so its known fields can be picked or replaced. */
export type KnownFields<T> = {
  [K in keyof T as string extends K ? never : number extends K ? never : symbol extends K ? never : K]: T[K];
};

/** `T` with the fields of `TOverride` replaced (or added); unknown extras stay allowed. */
export type Override<T, TOverride> = Omit<KnownFields<T>, keyof TOverride> & TOverride & LooseObject;

/**
 * A timestamp as webhooks send it: unix seconds (REST, conversations, tickets) or an ISO-8601 string (webhook contacts,
 * companies and articles, e.g. `"2026-01-10T04:22:28.240+00:00"`; facts §1.9).
 */
export type WebhookTimestamp = number | string;

type WithTimestamps<T, TKeys extends keyof KnownFields<T>> = Override<T, { [K in TKeys]?: WebhookTimestamp | null }>;

/** An image reference as webhooks send it for admin and legacy-user avatars. */
export interface WebhookAvatar extends LooseObject {
  type?: string | null;
  image_url?: string | null;
}

/** An admin as webhooks send it: `id` is a **number** (REST: string), `avatar` is an object (REST: a URL string). */
export type WebhookAdmin = Override<
  Admin,
  {
    /** A number in captures; a string in the REST schema. */
    id?: number | string | null;
    /** `{type: "avatar", image_url}` in captures; a URL string in the REST schema. */
    avatar?: WebhookAvatar | string | null;
    /** The away reason label, when set. */
    away_status_reason?: string | null;
  }
>;

/** A contact as webhooks send it: timestamps are ISO-8601 strings (REST: unix seconds). */
export type WebhookContact = WithTimestamps<
  Contact,
  | "created_at"
  | "updated_at"
  | "signed_up_at"
  | "last_seen_at"
  | "last_replied_at"
  | "last_contacted_at"
  | "last_email_opened_at"
  | "last_email_clicked_at"
  | "android_last_seen_at"
  | "ios_last_seen_at"
>;

/** A company as webhooks send it: timestamps are ISO-8601 strings (REST: unix seconds). */
export type WebhookCompany = WithTimestamps<
  Company,
  "created_at" | "updated_at" | "remote_created_at" | "last_request_at"
>;

/** An article as webhooks send it: timestamps are ISO-8601 strings; `author_id` is a number. */
export type WebhookArticle = Override<
  Article,
  { created_at?: WebhookTimestamp | null; updated_at?: WebhookTimestamp | null; author_id?: number | string | null }
>;

/** A conversation part as webhooks send it: `body` can be null (assignment, attribute-collector parts). */
export type WebhookConversationPart = Override<
  ConversationPart,
  {
    /** Null on assignment and other non-message parts (facts §1.7). Plain text from API 2.15 on. */
    body?: string | null;
    /** A number in 1.x captures; a string in the REST schema. */
    id?: string | number | null;
  }
>;

/** A user, lead or admin reference inside legacy (API 1.x) conversation payloads. */
export interface LegacyConversationParty extends LooseObject {
  type?: string | null;
  id?: string | number | null;
  user_id?: string | null;
  name?: string | null;
  email?: string | null;
}

/**
 * A conversation as webhooks send it. 2.x payloads follow the REST model (`source`, `contacts`, `teammates`,
 * `conversation_parts`); 1.x payloads (2017/2019) have `user`, `assignee` and `conversation_message` instead.
 * `admin_assignee_id` is a number or null.
 */
export type WebhookConversation = Override<
  Conversation,
  {
    /** 1.x: the contact who started the conversation. */
    user?: LegacyConversationParty | null;
    /** 1.x: the assigned admin, team or `nobody_admin`. */
    assignee?: LegacyConversationParty | null;
    /** 1.x: the first message. */
    conversation_message?: LooseObject | null;
    /** The parts included in the notification (at most the latest ones). */
    conversation_parts?: {
      type?: string | null;
      conversation_parts?: WebhookConversationPart[] | null;
      total_count?: number | null;
      [key: string]: unknown;
    } | null;
    /** A number in captures (the REST schema says string). */
    admin_assignee_id?: number | string | null;
    /** A number or string in captures. */
    team_assignee_id?: number | string | null;
    /** Statistics; their `*_at` fields are ISO-8601 strings in 2026 captures (REST: unix seconds). */
    statistics?: WebhookConversationStatistics | null;
  }
>;

/** Conversation statistics as webhooks send them: `*_at` fields are ISO-8601 strings, `last_closed_by_id` a number. */
export type WebhookConversationStatistics = Override<
  WithTimestamps<ConversationStatistics, Extract<keyof KnownFields<ConversationStatistics>, `${string}_at`>>,
  { last_closed_by_id?: number | string | null }
>;

/** `conversation_part.tag.created`: documented as a Conversation Part, captured (2019) as a whole conversation. */
export type ConversationOrPart = WebhookConversation | WebhookConversationPart;

/** The ticket state object (2.x); older API versions sent a plain string. */
export type WebhookTicketState = Ticket["ticket_state"] | string;

/** A ticket as webhooks send it: `ticket_state` is an object (older versions: a string); assignee ids are strings, `"0"` = none. */
export type WebhookTicket = Override<
  Ticket,
  {
    ticket_state?: WebhookTicketState | null;
    /** A string; `"0"` means unassigned. */
    admin_assignee_id?: string | number | null;
    /** A string; `"0"` means unassigned. */
    team_assignee_id?: string | number | null;
  }
>;

/** A ticket part as webhooks send it: `body` can be null. */
export type WebhookTicketPart = Override<TicketPart, { body?: string | null }>;

/**
 * `ticket.closed`: the Ticket is nested at `data.item.ticket` (docs, API >= 2.15) **or** sent directly at `data.item`
 * (a 2026-01-11 capture). Handle both: `item.ticket ?? item`.
 */
export type TicketClosed = WebhookTicket & {
  /** Present when the ticket is nested (docs, API >= 2.15). */
  ticket?: WebhookTicket | null;
};

/** `ticket_ticket_part`: a ticket and the part the notification is about (`ticket.admin.replied`, …). */
export interface TicketTicketPart extends LooseObject {
  type?: "ticket_ticket_part" | (string & Record<never, never>) | null;
  ticket?: WebhookTicket | null;
  ticket_part?: WebhookTicketPart | null;
}

/** The legacy (API 1.x) user / lead object, also sent for `visitor.signed_up`. Timestamps are ISO strings. */
export interface LegacyUser extends LooseObject {
  /** `user`, or `contact` for leads. */
  type?: string | null;
  id?: string | null;
  user_id?: string | null;
  anonymous?: boolean | null;
  email?: string | null;
  phone?: string | null;
  name?: string | null;
  pseudonym?: string | null;
  avatar?: WebhookAvatar | string | null;
  app_id?: string | null;
  companies?: LooseObject | null;
  location_data?: LooseObject | null;
  last_request_at?: WebhookTimestamp | null;
  created_at?: WebhookTimestamp | null;
  remote_created_at?: WebhookTimestamp | null;
  signed_up_at?: WebhookTimestamp | null;
  updated_at?: WebhookTimestamp | null;
  session_count?: number | null;
  social_profiles?: LooseObject | null;
  unsubscribed_from_emails?: boolean | null;
  marked_email_as_spam?: boolean | null;
  has_hard_bounced?: boolean | null;
  tags?: LooseObject | null;
  segments?: LooseObject | null;
  custom_attributes?: LooseObject | null;
}

/** The visitor object of `visitor.signed_up`: a legacy (1.x) user whose `type` says what it became. */
export type WebhookVisitor = LegacyUser;

/** A tag as webhooks carry it inside `contact_tag` / `user_tag` items (REST `Tag`, loose). */
export type WebhookTag = Override<Tag, LooseObject>;

/** `user.deleted` (1.x): a minimal user. */
export interface LegacyUserDeleted extends LooseObject {
  type?: string | null;
  id?: string | null;
  user_id?: string | null;
  email?: string | null;
}

/** `contact_tag`: a tag added to or removed from a contact (webhook-only). 1.x payloads carry a legacy contact. */
export interface ContactTag extends LooseObject {
  type?: "contact_tag" | (string & Record<never, never>) | null;
  /** Unix seconds; absent in 2.x captures. */
  created_at?: WebhookTimestamp | null;
  tag?: WebhookTag | null;
  contact?: WebhookContact | LegacyUser | null;
}

/** `user_tag` (1.x): a tag added to or removed from a user. */
export interface UserTag extends LooseObject {
  type?: "user_tag" | (string & Record<never, never>) | null;
  user?: LegacyUser | null;
  tag?: WebhookTag | null;
  created_at?: WebhookTimestamp | null;
  /** The admin who tagged, when known (may carry only `type`). */
  admin?: Partial<WebhookAdmin> | null;
}

/**
 * `contact_subscribe` / `contact_unsubscribe` / `granular_subscribe` / `granular_unsubscribe`: a contact joined or left
 * subscription types.
 */
export interface SubscriptionChange extends LooseObject {
  type?: string | null;
  contact?: WebhookContact | null;
  subscription_types?: {
    type?: string | null;
    data?: Array<Override<SubscriptionType, LooseObject>> | null;
    [key: string]: unknown;
  } | null;
  created_at?: WebhookTimestamp | null;
}

/** `admin_activity_log_event`: an admin activity-log entry (webhook item type; REST: `activity_log`). */
export interface AdminActivityLogEvent extends LooseObject {
  type?: "admin_activity_log_event" | (string & Record<never, never>) | null;
  id?: string | null;
  performed_by?: {
    type?: string | null;
    id?: string | number | null;
    email?: string | null;
    ip?: string | null;
    [key: string]: unknown;
  } | null;
  metadata?: LooseObject | null;
  created_at?: WebhookTimestamp | null;
  activity_type?: string | null;
  activity_description?: string | null;
}

/** `api.request.completed`: a successful v3 API request (facts §1.9). */
export interface ApiRequestCompleted extends LooseObject {
  type?: string | null;
  request_id?: string | null;
  timestamp?: WebhookTimestamp | null;
  request?: {
    method?: string | null;
    path?: string | null;
    ip_address?: string | null;
    user_agent?: string | null;
    [key: string]: unknown;
  } | null;
  authentication?: {
    method?: string | null;
    token_id?: string | number | null;
    oauth_client_id?: string | number | null;
    app_package_code?: string | null;
    [key: string]: unknown;
  } | null;
  response?: { status?: number | null; [key: string]: unknown } | null;
  admin?: { id?: string | number | null; email?: string | null; [key: string]: unknown } | null;
}

/** `content_stat.<x>`: a message statistic (receipt, click, reply, …; webhook-only, facts §1.7). */
export interface ContentStat extends LooseObject {
  /** `content_stat.<content type>`, e.g. `content_stat.email`. */
  type?: string | null;
  created_at?: WebhookTimestamp | null;
  /** The statistic: its `stat_type`, content ids and, for surveys, `question_id` / `response`. */
  content_stat?: LooseObject | null;
  contact?: WebhookContact | null;
  company?: WebhookCompany | null;
}

/** `ping`: `{type: "ping", message}`; the envelope `id` is null (facts §1.5). */
export interface Ping extends LooseObject {
  type?: "ping" | (string & Record<never, never>) | null;
  message?: string | null;
}

/** `event.created`: a data event (2019 capture; REST `data_event` plus `ext_metadata`). */
export type WebhookEvent = Override<
  DataEvent,
  { created_at?: WebhookTimestamp | null; metadata?: LooseObject | null; ext_metadata?: LooseObject | null }
>;

/** `company.contact.attached/detached`: `{company, contact}` with **no** `type`. */
export interface CompanyContactAttachment extends LooseObject {
  company?: WebhookCompany | null;
  contact?: WebhookContact | null;
}

/**
 * `conversation.contact.attached/detached`: `{conversation, contact}` with no `type`; `conversation` is an internal
 * shape (`parts`, `options`, `model`, numeric ids), not the REST Conversation.
 */
export interface ConversationContactAttachment extends LooseObject {
  conversation?: {
    parts?: unknown[] | null;
    options?: LooseObject | null;
    model?: LooseObject | null;
    [key: string]: unknown;
  } | null;
  contact?: WebhookContact | null;
}

/** `ticket.contact.attached/detached`: `{ticket, contact}` with no `type`; the ticket is another internal shape. */
export interface TicketContactAttachment extends LooseObject {
  ticket?: {
    type?: string | null;
    /** A number here (the REST Ticket id is a string). */
    id?: number | string | null;
    url?: string | null;
    /** `{ name: { value, type } }`. */
    custom_attributes?: { [name: string]: { value?: unknown; type?: string | null; [key: string]: unknown } } | null;
    /** A state label string here. */
    state?: string | null;
    /** The ticket type name here. */
    ticket_type?: string | null;
    [key: string]: unknown;
  } | null;
  contact?: WebhookContact | null;
}

/** A minimal `*.deleted` payload, e.g. `{type: "contact", id, external_id, deleted: true}` (facts §1.7). */
export interface Deleted extends LooseObject {
  type?: string | null;
  id?: string | number | null;
  external_id?: string | null;
  deleted?: boolean | null;
}

/** `contact.archived`: minimal `{type, id, external_id, archived: true}`. */
export interface ContactArchived extends LooseObject {
  type?: string | null;
  id?: string | null;
  external_id?: string | null;
  archived?: boolean | null;
}

/** `conversation.deleted`: `{type: "conversation", conversation_id}` only — no `id`, no `deleted`. */
export interface ConversationDeleted extends LooseObject {
  type?: string | null;
  conversation_id?: string | null;
}

/** `contact.merged`: the surviving contact, documented to carry `merged_from` (absent in the one capture). */
export type ContactMerged = WebhookContact & {
  merged_from?: { type?: string | null; id?: string | null; [key: string]: unknown } | null;
};

/** `data_connector.execution.completed`: fields as documented (no capture). */
export interface DataConnectorExecution extends LooseObject {
  type?: string | null;
  success?: boolean | null;
  http_status?: number | null;
  error_type?: string | null;
  execution_time_ms?: number | null;
  source_type?: string | null;
}

/** `procedure.hitl_notification.created` (Preview): a Fin Procedure reached a human-in-the-loop step. */
export interface ProcedureHitlNotification extends LooseObject {
  type?: string | null;
  callback_url?: string | null;
  step_id?: string | null;
  expires_at?: WebhookTimestamp | null;
}

/** Items of topics whose shape no payload or schema describes: any object. */
export interface UnknownItem extends LooseObject {
  type?: string | null;
  id?: string | number | null;
}

/** `call.*` items (REST `call` schema; no capture). */
export type WebhookCall = Override<Call, LooseObject>;

/** `content_import_source.*` items (REST `content_import_source` schema; no capture). */
export type WebhookContentImportSource = Override<ContentImportSource, LooseObject>;

/** `job.completed` items (REST `jobs` schema; no capture). */
export type WebhookJob = Override<Jobs, LooseObject>;
