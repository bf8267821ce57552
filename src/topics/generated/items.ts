// THIS FILE IS GENERATED - DO NOT EDIT DIRECTLY (scripts/generate-topics.ts)
// Source: scripts/intercom-openapi/api.intercom.io.2.15.yaml (Intercom API 2.15), schemas listed in scripts/topic-catalogue.yaml
// and everything they reference. Loose on purpose (facts §1.9): every field is optional and nullable, unknown extras are allowed.
// These are the REST shapes; src/topics/webhook-items.ts corrects them where webhook payloads differ.

/** A string enum that stays open: the documented values autocomplete, any other string is accepted. */
export type OpenString<T extends string> = T | (string & Record<never, never>);

/** A list used to access other resources from a parent model. */
export interface AddressableList {
  /** The addressable object type */
  type?: string | null;
  /** The id of the addressable object */
  id?: string | null;
  /** Url to get more company resources for this contact */
  url?: string | null;
  [key: string]: unknown;
}

/** Admins are teammate accounts that have access to a workspace. */
export interface Admin {
  /** String representing the object's type. Always has the value `admin`. */
  type?: string | null;
  /** The id representing the admin. */
  id?: string | null;
  /** The name of the admin. */
  name?: string | null;
  /** The email of the admin. */
  email?: string | null;
  /** The job title of the admin. */
  job_title?: string | null;
  /** Identifies if this admin is currently set in away mode. */
  away_mode_enabled?: boolean | null;
  /** Identifies if this admin is set to automatically reassign new conversations to the apps default inbox. */
  away_mode_reassign?: boolean | null;
  /** The unique identifier of the away status reason */
  away_status_reason_id?: number | null;
  /** Identifies if this admin has a paid inbox seat to restrict/allow features that require them. */
  has_inbox_seat?: boolean | null;
  /** This object represents the avatar associated with the admin. */
  team_ids?: Array<number> | null;
  /** Image for the associated team or teammate */
  avatar?: string | null;
  team_priority_level?: TeamPriorityLevel | null;
  [key: string]: unknown;
}

/** Admin priority levels for the team */
export interface AdminPriorityLevel {
  /** The primary admin ids for the team */
  primary_admin_ids?: Array<number> | null;
  /** The secondary admin ids for the team */
  secondary_admin_ids?: Array<number> | null;
  [key: string]: unknown;
}

/** Data related to AI Agent involvement in the conversation. */
export interface AiAgent {
  /** The type of the source that triggered AI Agent involvement in the conversation. */
  source_type?: OpenString<"essentials_plan_setup" | "profile" | "workflow" | "workflow_preview" | "fin_preview"> | null;
  /** The title of the source that triggered AI Agent involvement in the conversation. If this is `essentials_plan_setup` then it will return `null`. */
  source_title?: string | null;
  /** The type of the last answer delivered by AI Agent. If no answer was delivered then this will return `null` */
  last_answer_type?: OpenString<"null" | "ai_answer" | "custom_answer"> | null;
  /** The resolution state of AI Agent. If no AI or custom answer has been delivered then this will return `null`. */
  resolution_state?: OpenString<"assumed_resolution" | "confirmed_resolution" | "escalated" | "negative_feedback" | "procedure_handoff" | "null"> | null;
  /** The customer satisfaction rating given to AI Agent, from 1-5. */
  rating?: number | null;
  /** The customer satisfaction rating remark given to AI Agent. */
  rating_remark?: string | null;
  /** The time when the AI agent rating was created. */
  created_at?: number | null;
  /** The time when the AI agent rating was last updated. */
  updated_at?: number | null;
  content_sources?: ContentSourcesList | null;
  [key: string]: unknown;
}

/** The Articles API is a central place to gather all information and take actions on your articles. Articles can live within collections and sections, or alternatively they can stand alone. */
export type Article = ArticleListItem & {
  statistics?: ArticleStatistics | null;
  [key: string]: unknown;
};

/** The Content of an Article. */
export interface ArticleContent {
  /** The type of object - `article_content` . */
  type?: OpenString<"null" | "article_content"> | null;
  /** The title of the article. */
  title?: string | null;
  /** The description of the article. */
  description?: string | null;
  /** The body of the article. */
  body?: string | null;
  /** The ID of the author of the article. */
  author_id?: number | null;
  /** Whether the article is `published` or is a `draft` . */
  state?: OpenString<"published" | "draft"> | null;
  /** The time when the article was created (seconds). */
  created_at?: number | null;
  /** The time when the article was last updated (seconds). */
  updated_at?: number | null;
  /** The URL of the article. */
  url?: string | null;
  [key: string]: unknown;
}

/** The data returned about your articles when you list them. */
export interface ArticleListItem {
  /** The type of object - `article`. */
  type?: OpenString<"article"> | null;
  /** The unique identifier for the article which is given by Intercom. */
  id?: string | null;
  /** The id of the workspace which the article belongs to. */
  workspace_id?: string | null;
  /** The title of the article. For multilingual articles, this will be the title of the default language's content. */
  title?: string | null;
  /** The description of the article. For multilingual articles, this will be the description of the default language's content. */
  description?: string | null;
  /** The body of the article in HTML. For multilingual articles, this will be the body of the default language's content. */
  body?: string | null;
  /** The id of the author of the article. For multilingual articles, this will be the id of the author of the default language's content. Must be a teammate on the help center's workspace. */
  author_id?: number | null;
  /** Whether the article is `published` or is a `draft`. For multilingual articles, this will be the state of the default language's content. */
  state?: OpenString<"published" | "draft"> | null;
  /** The time when the article was created. For multilingual articles, this will be the timestamp of creation of the default language's content in seconds. */
  created_at?: number | null;
  /** The time when the article was last updated. For multilingual articles, this will be the timestamp of last update of the default language's content in seconds. */
  updated_at?: number | null;
  /** The URL of the article. For multilingual articles, this will be the URL of the default language's content. */
  url?: string | null;
  /** The id of the article's parent collection or section. An article without this field stands alone. */
  parent_id?: number | null;
  /** The ids of the article's parent collections or sections. An article without this field stands alone. */
  parent_ids?: Array<number> | null;
  /** The type of parent, which can either be a `collection` or `section`. */
  parent_type?: string | null;
  /** The default locale of the help center. This field is only returned for multilingual help centers. */
  default_locale?: string | null;
  translated_content?: ArticleTranslatedContent | null;
  tags?: Tags | null;
  [key: string]: unknown;
}

/** The statistics of an article. */
export interface ArticleStatistics {
  /** The type of object - `article_statistics`. */
  type?: OpenString<"article_statistics"> | null;
  /** The number of total views the article has received. */
  views?: number | null;
  /** The number of conversations started from the article. */
  conversions?: number | null;
  /** The number of total reactions the article has received. */
  reactions?: number | null;
  /** The percentage of happy reactions the article has received against other types of reaction. */
  happy_reaction_percentage?: number | null;
  /** The percentage of neutral reactions the article has received against other types of reaction. */
  neutral_reaction_percentage?: number | null;
  /** The percentage of sad reactions the article has received against other types of reaction. */
  sad_reaction_percentage?: number | null;
  [key: string]: unknown;
}

/** The Translated Content of an Article. The keys are the locale codes and the values are the translated content of the article. */
export interface ArticleTranslatedContent {
  /** The type of object - article_translated_content. */
  type?: OpenString<"null" | "article_translated_content"> | null;
  /** The content of the article in Arabic */
  ar?: ArticleContent | null;
  /** The content of the article in Bulgarian */
  bg?: ArticleContent | null;
  /** The content of the article in Bosnian */
  bs?: ArticleContent | null;
  /** The content of the article in Catalan */
  ca?: ArticleContent | null;
  /** The content of the article in Czech */
  cs?: ArticleContent | null;
  /** The content of the article in Danish */
  da?: ArticleContent | null;
  /** The content of the article in German */
  de?: ArticleContent | null;
  /** The content of the article in Greek */
  el?: ArticleContent | null;
  /** The content of the article in English */
  en?: ArticleContent | null;
  /** The content of the article in Spanish */
  es?: ArticleContent | null;
  /** The content of the article in Estonian */
  et?: ArticleContent | null;
  /** The content of the article in Finnish */
  fi?: ArticleContent | null;
  /** The content of the article in French */
  fr?: ArticleContent | null;
  /** The content of the article in Hebrew */
  he?: ArticleContent | null;
  /** The content of the article in Croatian */
  hr?: ArticleContent | null;
  /** The content of the article in Hungarian */
  hu?: ArticleContent | null;
  /** The content of the article in Indonesian */
  id?: ArticleContent | null;
  /** The content of the article in Italian */
  it?: ArticleContent | null;
  /** The content of the article in Japanese */
  ja?: ArticleContent | null;
  /** The content of the article in Korean */
  ko?: ArticleContent | null;
  /** The content of the article in Lithuanian */
  lt?: ArticleContent | null;
  /** The content of the article in Latvian */
  lv?: ArticleContent | null;
  /** The content of the article in Mongolian */
  mn?: ArticleContent | null;
  /** The content of the article in Norwegian */
  nb?: ArticleContent | null;
  /** The content of the article in Dutch */
  nl?: ArticleContent | null;
  /** The content of the article in Polish */
  pl?: ArticleContent | null;
  /** The content of the article in Portuguese (Portugal) */
  pt?: ArticleContent | null;
  /** The content of the article in Romanian */
  ro?: ArticleContent | null;
  /** The content of the article in Russian */
  ru?: ArticleContent | null;
  /** The content of the article in Slovenian */
  sl?: ArticleContent | null;
  /** The content of the article in Serbian */
  sr?: ArticleContent | null;
  /** The content of the article in Swedish */
  sv?: ArticleContent | null;
  /** The content of the article in Turkish */
  tr?: ArticleContent | null;
  /** The content of the article in Vietnamese */
  vi?: ArticleContent | null;
  /** The content of the article in Portuguese (Brazil) */
  "pt-BR"?: ArticleContent | null;
  /** The content of the article in Chinese (China) */
  "zh-CN"?: ArticleContent | null;
  /** The content of the article in Chinese (Taiwan) */
  "zh-TW"?: ArticleContent | null;
  [key: string]: unknown;
}

/** Represents a phone call in Intercom */
export interface Call {
  /** String representing the object's type. Always has the value `call`. */
  type?: string | null;
  /** The id of the call. */
  id?: string | null;
  /** The id of the conversation associated with the call, if any. */
  conversation_id?: string | null;
  /** The id of the admin associated with the call, if any. */
  admin_id?: string | null;
  /** The id of the contact associated with the call, if any. */
  contact_id?: string | null;
  /** The current state of the call. */
  state?: string | null;
  initiated_at?: Datetime | null;
  answered_at?: Datetime | null;
  ended_at?: Datetime | null;
  created_at?: Datetime | null;
  updated_at?: Datetime | null;
  /** API URL to download or redirect to the call recording if available. */
  recording_url?: string | null;
  /** API URL to download or redirect to the call transcript if available. */
  transcription_url?: string | null;
  /** The type of call. */
  call_type?: string | null;
  /** The direction of the call. */
  direction?: string | null;
  /** The reason for the call end, if applicable. */
  ended_reason?: string | null;
  /** The phone number involved in the call, in E.164 format. */
  phone?: string | null;
  /** API URL to the AI Agent (Fin) call recording if available. */
  fin_recording_url?: string | null;
  /** API URL to the AI Agent (Fin) call transcript if available. */
  fin_transcription_url?: string | null;
  [key: string]: unknown;
}

/** Companies allow you to represent organizations using your product. Each company will have its own description and be associated with contacts. You can fetch, create, update and list companies. */
export interface Company {
  /** Value is `company` */
  type?: OpenString<"company"> | null;
  /** The Intercom defined id representing the company. */
  id?: string | null;
  /** The name of the company. */
  name?: string | null;
  /** The Intercom defined code of the workspace the company is associated to. */
  app_id?: string | null;
  plan?: {
    /** Value is always "plan" */
    type?: string | null;
    /** The id of the plan */
    id?: string | null;
    /** The name of the plan */
    name?: string | null;
    [key: string]: unknown;
  } | null;
  /** The company id you have defined for the company. */
  company_id?: string | null;
  /** The time the company was created by you. */
  remote_created_at?: number | null;
  /** The time the company was added in Intercom. */
  created_at?: number | null;
  /** The last time the company was updated. */
  updated_at?: number | null;
  /** The time the company last recorded making a request. */
  last_request_at?: number | null;
  /** The number of employees in the company. */
  size?: number | null;
  /** The URL for the company website. */
  website?: string | null;
  /** The industry that the company operates in. */
  industry?: string | null;
  /** How much revenue the company generates for your business. */
  monthly_spend?: number | null;
  /** How many sessions the company has recorded. */
  session_count?: number | null;
  /** The number of users in the company. */
  user_count?: number | null;
  /** The custom attributes you have set on the company. */
  custom_attributes?: { [key: string]: unknown } | null;
  /** The list of tags associated with the company */
  tags?: {
    /** The type of the object */
    type?: OpenString<"tag.list"> | null;
    tags?: Array<TagBasic> | null;
    [key: string]: unknown;
  } | null;
  /** The list of segments associated with the company */
  segments?: {
    /** The type of the object */
    type?: OpenString<"segment.list"> | null;
    segments?: Array<Segment> | null;
    [key: string]: unknown;
  } | null;
  [key: string]: unknown;
}

/** An object containing data about the companies that a contact is associated with. */
export interface CompanyData {
  /** The unique identifier for the company which is given by Intercom. */
  id?: string | null;
  /** The type of the object. Always company. */
  type?: OpenString<"company"> | null;
  /** The relative URL of the company. */
  url?: string | null;
  [key: string]: unknown;
}

/** Contacts represent your leads and users in Intercom. */
export interface Contact {
  /** The type of object. */
  type?: string | null;
  /** The unique identifier for the contact which is given by Intercom. */
  id?: string | null;
  /** The unique identifier for the contact which is provided by the Client. */
  external_id?: string | null;
  /** The id of the workspace which the contact belongs to. */
  workspace_id?: string | null;
  /** The role of the contact. */
  role?: string | null;
  /** The contact's email. */
  email?: string | null;
  /** The contact's email domain. */
  email_domain?: string | null;
  /** The contacts phone. */
  phone?: string | null;
  /** The contacts name. */
  name?: string | null;
  /** The id of an admin that has been assigned account ownership of the contact. */
  owner_id?: number | null;
  /** Whether the contact has had an email sent to them hard bounce. */
  has_hard_bounced?: boolean | null;
  /** Whether the contact has marked an email sent to them as spam. */
  marked_email_as_spam?: boolean | null;
  /** Whether the contact is unsubscribed from emails. */
  unsubscribed_from_emails?: boolean | null;
  /** (Unix timestamp in seconds) The time when the contact was created. */
  created_at?: number | null;
  /** (Unix timestamp in seconds) The time when the contact was last updated. */
  updated_at?: number | null;
  /** (Unix timestamp in seconds) The time specified for when a contact signed up. */
  signed_up_at?: number | null;
  /** (Unix timestamp in seconds) The time when the contact was last seen (either where the Intercom Messenger was installed or when specified manually). */
  last_seen_at?: number | null;
  /** (Unix timestamp in seconds) The time when the contact last messaged in. */
  last_replied_at?: number | null;
  /** (Unix timestamp in seconds) The time when the contact was last messaged. */
  last_contacted_at?: number | null;
  /** (Unix timestamp in seconds) The time when the contact last opened an email. */
  last_email_opened_at?: number | null;
  /** (Unix timestamp in seconds) The time when the contact last clicked a link in an email. */
  last_email_clicked_at?: number | null;
  /** A preferred language setting for the contact, used by the Intercom Messenger even if their browser settings change. */
  language_override?: string | null;
  /** The name of the browser which the contact is using. */
  browser?: string | null;
  /** The version of the browser which the contact is using. */
  browser_version?: string | null;
  /** The language set by the browser which the contact is using. */
  browser_language?: string | null;
  /** The operating system which the contact is using. */
  os?: string | null;
  /** The name of the Android app which the contact is using. */
  android_app_name?: string | null;
  /** The version of the Android app which the contact is using. */
  android_app_version?: string | null;
  /** The Android device which the contact is using. */
  android_device?: string | null;
  /** The version of the Android OS which the contact is using. */
  android_os_version?: string | null;
  /** The version of the Android SDK which the contact is using. */
  android_sdk_version?: string | null;
  /** (Unix timestamp in seconds) The time when the contact was last seen on an Android device. */
  android_last_seen_at?: number | null;
  /** The name of the iOS app which the contact is using. */
  ios_app_name?: string | null;
  /** The version of the iOS app which the contact is using. */
  ios_app_version?: string | null;
  /** The iOS device which the contact is using. */
  ios_device?: string | null;
  /** The version of iOS which the contact is using. */
  ios_os_version?: string | null;
  /** The version of the iOS SDK which the contact is using. */
  ios_sdk_version?: string | null;
  /** (Unix timestamp in seconds) The last time the contact used the iOS app. */
  ios_last_seen_at?: number | null;
  /** The custom attributes which are set for the contact. */
  custom_attributes?: { [key: string]: unknown } | null;
  avatar?: {
    /** The type of object */
    type?: string | null;
    /** An image URL containing the avatar of a contact. */
    image_url?: string | null;
    [key: string]: unknown;
  } | null;
  tags?: ContactTags | null;
  notes?: ContactNotes | null;
  companies?: ContactCompanies | null;
  location?: ContactLocation | null;
  social_profiles?: ContactSocialProfiles | null;
  [key: string]: unknown;
}

/** archived contact object */
export type ContactArchived = ContactReference & {
  /** Whether the contact is archived or not. */
  archived?: boolean | null;
  [key: string]: unknown;
};

/** An object with metadata about companies attached to a contact . Up to 10 will be displayed here. Use the url to get more. */
export interface ContactCompanies {
  /** An array of company data objects attached to the contact. */
  data?: Array<CompanyData> | null;
  /** Url to get more company resources for this contact */
  url?: string | null;
  /** Integer representing the total number of companies attached to this contact */
  total_count?: number | null;
  /** Whether there's more Addressable Objects to be viewed. If true, use the url to view all */
  has_more?: boolean | null;
  [key: string]: unknown;
}

/** An object containing location meta data about a Intercom contact. */
export interface ContactLocation {
  /** Always location */
  type?: string | null;
  /** The country that the contact is located in */
  country?: string | null;
  /** The overal region that the contact is located in */
  region?: string | null;
  /** The city that the contact is located in */
  city?: string | null;
  [key: string]: unknown;
}

/** An object containing notes meta data about the notes that a contact has. Up to 10 will be displayed here. Use the url to get more. */
export interface ContactNotes {
  /** This object represents the notes attached to a contact. */
  data?: Array<AddressableList> | null;
  /** Url to get more company resources for this contact */
  url?: string | null;
  /** Int representing the total number of companyies attached to this contact */
  total_count?: number | null;
  /** Whether there's more Addressable Objects to be viewed. If true, use the url to view all */
  has_more?: boolean | null;
  [key: string]: unknown;
}

/** reference to contact object */
export interface ContactReference {
  /** always contact */
  type?: OpenString<"contact"> | null;
  /** The unique identifier for the contact which is given by Intercom. */
  id?: string | null;
  /** The unique identifier for the contact which is provided by the Client. */
  external_id?: string | null;
  [key: string]: unknown;
}

/** An object containing social profiles that a contact has. */
export interface ContactSocialProfiles {
  /** A list of social profiles objects associated with the contact. */
  data?: Array<SocialProfile> | null;
  [key: string]: unknown;
}

/** An object containing tags meta data about the tags that a contact has. Up to 10 will be displayed here. Use the url to get more. */
export interface ContactTags {
  /** This object represents the tags attached to a contact. */
  data?: Array<AddressableList> | null;
  /** url to get more tag resources for this contact */
  url?: string | null;
  /** Int representing the total number of tags attached to this contact */
  total_count?: number | null;
  /** Whether there's more Addressable Objects to be viewed. If true, use the url to view all */
  has_more?: boolean | null;
  [key: string]: unknown;
}

/** An external source for External Pages that you add to your Fin Content Library. */
export interface ContentImportSource {
  /** Always external_page */
  type?: OpenString<"content_import_source"> | null;
  /** The unique identifier for the content import source which is given by Intercom. */
  id?: number | null;
  /** The time when the content import source was last synced. */
  last_synced_at?: number | null;
  /** If you intend to create or update External Pages via the API, this should be set to `api`. */
  sync_behavior?: OpenString<"api" | "automatic" | "manual"> | null;
  /** The status of the content import source. */
  status?: OpenString<"active" | "deactivated"> | null;
  /** The URL of the root of the external source. */
  url?: string | null;
  /** The time when the content import source was created. */
  created_at?: number | null;
  /** The time when the content import source was last updated. */
  updated_at?: number | null;
  /** The unique identifiers for the audiences associated with this content import source. */
  audience_ids?: Array<number> | null;
  [key: string]: unknown;
}

/** The content source used by AI Agent in the conversation. */
export interface ContentSource {
  /** The type of the content source. */
  content_type?: OpenString<"file" | "article" | "external_content" | "content_snippet" | "workflow_connector_action"> | null;
  /** The internal URL linking to the content source for teammates. */
  url?: string | null;
  /** The title of the content source. */
  title?: string | null;
  /** The ISO 639 language code of the content source. */
  locale?: string | null;
  [key: string]: unknown;
}

/** Content Source List */
export interface ContentSourcesList {
  type?: OpenString<"content_source.list"> | null;
  /** The total number of content sources used by AI Agent in the conversation. */
  total_count?: number | null;
  /** The content sources used by AI Agent in the conversation. */
  content_sources?: Array<ContentSource> | null;
  [key: string]: unknown;
}

/** Conversations are how you can communicate with users in Intercom. They are created when a contact replies to an outbound message, or when one admin directly sends a message to a single contact. */
export interface Conversation {
  /** Always conversation. */
  type?: string | null;
  /** The id representing the conversation. */
  id?: string | null;
  /** The title given to the conversation. */
  title?: string | null;
  /** The time the conversation was created. */
  created_at?: number | null;
  /** The last time the conversation was updated. */
  updated_at?: number | null;
  /** The last time a Contact responded to an Admin. In other words, the time a customer started waiting for a response. Set to null if last reply is from an Admin. */
  waiting_since?: number | null;
  /** If set this is the time in the future when this conversation will be marked as open. i.e. it will be in a snoozed state until this time. i.e. it will be in a snoozed state until this time. */
  snoozed_until?: number | null;
  /** Indicates whether a conversation is open (true) or closed (false). */
  open?: boolean | null;
  /** Can be set to "open", "closed" or "snoozed". */
  state?: OpenString<"open" | "closed" | "snoozed"> | null;
  /** Indicates whether a conversation has been read. */
  read?: boolean | null;
  /** If marked as priority, it will return priority or else not_priority. */
  priority?: OpenString<"priority" | "not_priority"> | null;
  /** The id of the admin assigned to the conversation. If it's not assigned to an admin it will return null. */
  admin_assignee_id?: number | null;
  /** The id of the team assigned to the conversation. If it's not assigned to a team it will return null. */
  team_assignee_id?: number | null;
  /** The company associated with the conversation. */
  company?: Company | null;
  tags?: Tags | null;
  conversation_rating?: ConversationRating | null;
  source?: ConversationSource | null;
  contacts?: ConversationContacts | null;
  teammates?: ConversationTeammates | null;
  custom_attributes?: CustomAttributes | null;
  first_contact_reply?: ConversationFirstContactReply | null;
  sla_applied?: SlaApplied | null;
  statistics?: ConversationStatistics | null;
  conversation_parts?: ConversationParts | null;
  linked_objects?: LinkedObjectList | null;
  /** Indicates whether the AI Agent participated in the conversation. */
  ai_agent_participated?: boolean | null;
  ai_agent?: AiAgent | null;
  [key: string]: unknown;
}

/** Contains details about Custom Data Attributes (CDAs) that were modified by an admin (operator) for conversation part type <code>conversation_attribute_updated_by_admin</code>. */
export interface ConversationAttributeUpdatedByAdmin {
  attribute?: {
    /** Name of the CDA updated */
    name?: string | null;
    [key: string]: unknown;
  } | null;
  value?: {
    /** Current value of the CDA updated */
    name?: string | null;
    /** Previous value of the CDA */
    previous?: string | null;
    [key: string]: unknown;
  } | null;
  [key: string]: unknown;
}

/** Contains details about Custom Data Attributes (CDAs) that were modified by a user for conversation part type <code>conversation_attribute_updated_by_user</code>. */
export interface ConversationAttributeUpdatedByUser {
  attribute?: {
    /** Name of the CDA updated */
    name?: string | null;
    [key: string]: unknown;
  } | null;
  value?: {
    /** Current value of the CDA updated */
    name?: string | null;
    /** Previous value of the CDA (null for older events) */
    previous?: string | null;
    [key: string]: unknown;
  } | null;
  [key: string]: unknown;
}

/** Contains details about the workflow that was triggered and any Custom Data Attributes (CDAs) that were modified during the workflow execution for conversation part type <code>conversation_attribute_updated_by_workflow</code>. */
export interface ConversationAttributeUpdatedByWorkflow {
  workflow?: {
    /** Name of the workflow */
    name?: string | null;
    [key: string]: unknown;
  } | null;
  attribute?: {
    /** Name of the CDA updated */
    name?: string | null;
    [key: string]: unknown;
  } | null;
  value?: {
    /** Value of the CDA updated */
    name?: string | null;
    [key: string]: unknown;
  } | null;
  [key: string]: unknown;
}

/** The list of contacts (users or leads) involved in this conversation. This will only contain one customer unless more were added via the group conversation feature. */
export interface ConversationContacts {
  type?: OpenString<"contact.list"> | null;
  /** The list of contacts (users or leads) involved in this conversation. This will only contain one customer unless more were added via the group conversation feature. */
  contacts?: Array<ContactReference> | null;
  [key: string]: unknown;
}

/** An object containing information on the first users message. For a contact initiated message this will represent the users original message. */
export interface ConversationFirstContactReply {
  created_at?: number | null;
  type?: string | null;
  url?: string | null;
  [key: string]: unknown;
}

/** The data returned about your conversations when you list or search them. */
export interface ConversationListItem {
  /** Always conversation. */
  type?: string | null;
  /** The id representing the conversation. */
  id?: string | null;
  /** The title given to the conversation. */
  title?: string | null;
  /** The time the conversation was created. */
  created_at?: number | null;
  /** The last time the conversation was updated. */
  updated_at?: number | null;
  /** The last time a Contact responded to an Admin. In other words, the time a customer started waiting for a response. Set to null if last reply is from an Admin. */
  waiting_since?: number | null;
  /** If set this is the time in the future when this conversation will be marked as open. i.e. it will be in a snoozed state until this time. i.e. it will be in a snoozed state until this time. */
  snoozed_until?: number | null;
  /** Indicates whether a conversation is open (true) or closed (false). */
  open?: boolean | null;
  /** Can be set to "open", "closed" or "snoozed". */
  state?: OpenString<"open" | "closed" | "snoozed"> | null;
  /** Indicates whether a conversation has been read. */
  read?: boolean | null;
  /** If marked as priority, it will return priority or else not_priority. */
  priority?: OpenString<"priority" | "not_priority"> | null;
  /** The id of the admin assigned to the conversation. If it's not assigned to an admin it will return null. */
  admin_assignee_id?: number | null;
  /** The id of the team assigned to the conversation. If it's not assigned to a team it will return null. */
  team_assignee_id?: number | null;
  /** The company associated with the conversation. */
  company?: Company | null;
  tags?: Tags | null;
  conversation_rating?: ConversationRating | null;
  source?: ConversationSource | null;
  contacts?: ConversationContacts | null;
  teammates?: ConversationTeammates | null;
  custom_attributes?: CustomAttributes | null;
  first_contact_reply?: ConversationFirstContactReply | null;
  sla_applied?: SlaApplied | null;
  statistics?: ConversationStatistics | null;
  linked_objects?: LinkedObjectList | null;
  /** Indicates whether the AI Agent participated in the conversation. */
  ai_agent_participated?: boolean | null;
  ai_agent?: AiAgent | null;
  [key: string]: unknown;
}

/** A Conversation Part represents a message in the conversation. */
export interface ConversationPart {
  /** Always conversation_part */
  type?: string | null;
  /** The id representing the conversation part. */
  id?: string | null;
  /** The type of conversation part. */
  part_type?: string | null;
  /** The message body, which may contain HTML. For Twitter, this will show a generic message regarding why the body is obscured. In webhook payloads for API version 2.15+, this field returns plain text. */
  body?: string | null;
  /** The time the conversation part was created. */
  created_at?: number | null;
  /** The last time the conversation part was updated. */
  updated_at?: number | null;
  /** The time the user was notified with the conversation part. */
  notified_at?: number | null;
  /** The id of the admin that was assigned the conversation by this conversation_part (null if there has been no change in assignment.) */
  assigned_to?: Reference | null;
  author?: ConversationPartAuthor | null;
  /** A list of attachments for the part. */
  attachments?: Array<PartAttachment> | null;
  /** The external id of the conversation part */
  external_id?: string | null;
  /** Whether or not the conversation part has been redacted. */
  redacted?: boolean | null;
  email_message_metadata?: EmailMessageMetadata | null;
  metadata?: ConversationPartMetadata | null;
  /** Indicates the current state of conversation when the conversation part was created. */
  state?: OpenString<"open" | "closed" | "snoozed"> | null;
  /** A list of tags objects associated with the conversation part. */
  tags?: Array<TagBasic> | null;
  event_details?: EventDetails | null;
  /** The app package code if this part was created via API. null if the part was not created via API. */
  app_package_code?: string | null;
  [key: string]: unknown;
}

/** The object who initiated the conversation, which can be a Contact, Admin or Team. Bots and campaigns send messages on behalf of Admins or Teams. For Twitter, this will be blank. */
export interface ConversationPartAuthor {
  /** The type of the author */
  type?: string | null;
  /** The id of the author */
  id?: string | null;
  /** The name of the author */
  name?: string | null;
  /** The email of the author */
  email?: string | null;
  /** If this conversation part was sent by the AI Agent */
  from_ai_agent?: boolean | null;
  /** If this conversation part body was generated by the AI Agent */
  is_ai_answer?: boolean | null;
  [key: string]: unknown;
}

/** Metadata for a conversation part */
export interface ConversationPartMetadata {
  /** The quick reply options sent by the Admin or bot, presented in this conversation part. */
  quick_reply_options?: Array<QuickReplyOption & {
    /** The translations for the quick reply option. */
    translations?: { [key: string]: unknown } | null;
    [key: string]: unknown;
  }> | null;
  /** The unique identifier for the quick reply option that was clicked by the end user. */
  quick_reply_uuid?: string | null;
  [key: string]: unknown;
}

/** A list of Conversation Part objects for each part message in the conversation. This is only returned when Retrieving a Conversation, and ignored when Listing all Conversations. There is a limit of 500 parts. */
export interface ConversationParts {
  type?: OpenString<"conversation_part.list"> | null;
  /** A list of Conversation Part objects for each part message in the conversation. This is only returned when Retrieving a Conversation, and ignored when Listing all Conversations. There is a limit of 500 parts. */
  conversation_parts?: Array<ConversationPart> | null;
  total_count?: number | null;
  [key: string]: unknown;
}

/** The Conversation Rating object which contains information on the rating and/or remark added by a Contact and the Admin assigned to the conversation. */
export interface ConversationRating {
  /** The rating, between 1 and 5, for the conversation. */
  rating?: number | null;
  /** An optional field to add a remark to correspond to the number rating */
  remark?: string | null;
  /** The time the rating was requested in the conversation being rated. */
  created_at?: number | null;
  /** The time the rating was last updated. */
  updated_at?: number | null;
  contact?: ContactReference | null;
  teammate?: Reference | null;
  [key: string]: unknown;
}

/** Details of first response time of assigned team in seconds. */
export interface ConversationResponseTime {
  /** Id of the assigned team. */
  team_id?: number | null;
  /** Name of the assigned Team, null if team does not exist, Unassigned if no team is assigned. */
  team_name?: string | null;
  /** First response time of assigned team in seconds. */
  response_time?: number | null;
  [key: string]: unknown;
}

/** The type of the conversation part that started this conversation. Can be Contact, Admin, Campaign, Automated or Operator initiated. */
export interface ConversationSource {
  /** This includes conversation, email, facebook, instagram, phone_call, phone_switch, push, sms, twitter and whatsapp. */
  type?: OpenString<"conversation" | "email" | "facebook" | "instagram" | "phone_call" | "phone_switch" | "push" | "sms" | "twitter" | "whatsapp"> | null;
  /** The id representing the message. */
  id?: string | null;
  /** The conversation's initiation type. Possible values are customer_initiated, campaigns_initiated (legacy campaigns), operator_initiated (Custom bot), automated (Series and other outbounds with dynamic audience message) and admin_initiated (fixed audience message, ticket initiated by an admin, group email). */
  delivered_as?: string | null;
  /** Optional. The message subject. For Twitter, this will show a generic message regarding why the subject is obscured. In webhook payloads for API version 2.15+, this field returns plain text. */
  subject?: string | null;
  /** The message body, which may contain HTML. For Twitter, this will show a generic message regarding why the body is obscured. In webhook payloads for API version 2.15+, this field returns plain text. */
  body?: string | null;
  author?: ConversationPartAuthor | null;
  /** A list of attachments for the part. */
  attachments?: Array<PartAttachment> | null;
  /** The URL where the conversation was started. For Twitter, Email, and Bots, this will be blank. */
  url?: string | null;
  /** Whether or not the source message has been redacted. Only applicable for contact initiated messages. */
  redacted?: boolean | null;
  [key: string]: unknown;
}

/** A Statistics object containing all information required for reporting, with timestamps and calculated metrics. */
export interface ConversationStatistics {
  type?: string | null;
  /** Duration until last assignment before first admin reply. In seconds. */
  time_to_assignment?: number | null;
  /** Duration until first admin reply. Subtracts out of business hours. In seconds. */
  time_to_admin_reply?: number | null;
  /** Duration until conversation was closed first time. Subtracts out of business hours. In seconds. */
  time_to_first_close?: number | null;
  /** Duration until conversation was closed last time. Subtracts out of business hours. In seconds. */
  time_to_last_close?: number | null;
  /** Median based on all admin replies after a contact reply. Subtracts out of business hours. In seconds. */
  median_time_to_reply?: number | null;
  /** Time of first text conversation part from a contact. */
  first_contact_reply_at?: number | null;
  /** Time of first assignment after first_contact_reply_at. */
  first_assignment_at?: number | null;
  /** Time of first admin reply after first_contact_reply_at. */
  first_admin_reply_at?: number | null;
  /** Time of first close after first_contact_reply_at. */
  first_close_at?: number | null;
  /** Time of last assignment after first_contact_reply_at. */
  last_assignment_at?: number | null;
  /** Time of first admin reply since most recent assignment. */
  last_assignment_admin_reply_at?: number | null;
  /** Time of the last conversation part from a contact. */
  last_contact_reply_at?: number | null;
  /** Time of the last conversation part from an admin. */
  last_admin_reply_at?: number | null;
  /** Time of the last conversation close. */
  last_close_at?: number | null;
  /** The last admin who closed the conversation. Returns a reference to an Admin object. */
  last_closed_by_id?: string | null;
  /** Number of reopens after first_contact_reply_at. */
  count_reopens?: number | null;
  /** Number of assignments after first_contact_reply_at. */
  count_assignments?: number | null;
  /** Total number of conversation parts. */
  count_conversation_parts?: number | null;
  /** An array of conversation response time objects */
  assigned_team_first_response_time?: Array<ConversationResponseTime> | null;
  /** An array of conversation response time objects within office hours */
  assigned_team_first_response_time_in_office_hours?: Array<ConversationResponseTime> | null;
  /** Time from conversation assignment to conversation close in seconds. */
  handling_time?: number | null;
  /** Adjusted handling time for conversation in seconds. This is the active handling time excluding idle periods when teammates are not actively working on the conversation. */
  adjusted_handling_time?: number | null;
  [key: string]: unknown;
}

/** The list of teammates who participated in the conversation (wrote at least one conversation part). */
export interface ConversationTeammates {
  /** The type of the object - `admin.list`. */
  type?: string | null;
  /** The list of teammates who participated in the conversation (wrote at least one conversation part). */
  teammates?: Array<Reference> | null;
  [key: string]: unknown;
}

/** Contains details about final status of the completed action for conversation part type <code>custom_action_finished</code>. */
export interface CustomActionFinished {
  action?: {
    /** Name of the action */
    name?: string | null;
    /** Status of the action */
    result?: OpenString<"success" | "failed"> | null;
    [key: string]: unknown;
  } | null;
  [key: string]: unknown;
}

/** Contains details about name of the action that was initiated for conversation part type <code>custom_action_started</code>. */
export interface CustomActionStarted {
  action?: {
    /** Name of the action */
    name?: string | null;
    [key: string]: unknown;
  } | null;
  [key: string]: unknown;
}

/** An object containing the different custom attributes associated to the conversation as key-value pairs. For relationship attributes the value will be a list of custom object instance models. System-defined attributes such as "CX Score rating" and "CX Score explanation" may also be included. */
export interface CustomAttributes {
  [key: string]: unknown;
}

/** A Custom Object Instance represents an instance of a custom object type. This allows you to create and set custom attributes to store data about your customers that is not already captured by Intercom. The parent object includes recommended default attributes and you can add your own custom attributes. */
export interface CustomObjectInstance {
  /** The Intercom defined id representing the custom object instance. */
  id?: string | null;
  /** The id you have defined for the custom object instance. */
  external_id?: string | null;
  /** The time when the Custom Object instance was created in the external system it originated from. */
  external_created_at?: number | null;
  /** The time when the Custom Object instance was last updated in the external system it originated from. */
  external_updated_at?: number | null;
  /** The time the attribute was created as a UTC Unix timestamp */
  created_at?: number | null;
  /** The time the attribute was last updated as a UTC Unix timestamp */
  updated_at?: number | null;
  /** The identifier of the custom object type that defines the structure of the custom object instance. */
  type?: string | null;
  /** The custom attributes you have set on the custom object instance. */
  custom_attributes?: { [key: string]: unknown } | null;
  [key: string]: unknown;
}

/** The list of associated custom object instances for a given reference attribute on the parent object. */
export interface CustomObjectInstanceList {
  type?: string | null;
  /** The list of associated custom object instances for a given reference attribute on the parent object. */
  instances?: Array<CustomObjectInstance | null> | null;
  [key: string]: unknown;
}

/** Data events are used to notify Intercom of changes to your data. */
export interface DataEvent {
  /** The type of the object */
  type?: OpenString<"event"> | null;
  /** The name of the event that occurred. This is presented to your App's admins when filtering and creating segments - a good event name is typically a past tense 'verb-noun' combination, to improve readability, for example `updated-plan`. */
  event_name?: string | null;
  /** The time the event occurred as a UTC Unix timestamp */
  created_at?: number | null;
  /** Your identifier for the user. */
  user_id?: string | null;
  /** Your identifier for a lead or a user. */
  id?: string | null;
  /** The Intercom identifier for the user. */
  intercom_user_id?: string | null;
  /** An email address for your user. An email should only be used where your application uses email to uniquely identify users. */
  email?: string | null;
  /** Optional metadata about the event. */
  metadata?: { [key: string]: unknown } | null;
  [key: string]: unknown;
}

export type Datetime = string | number;

/** Contains data for an email address header for a conversation part that was sent as an email. */
export interface EmailAddressHeader {
  /** The type of email address header */
  type?: string | null;
  /** The email address */
  email_address?: string | null;
  /** The name associated with the email address */
  name?: string | null;
  [key: string]: unknown;
}

/** Contains metadata if the message was sent as an email */
export interface EmailMessageMetadata {
  /** The subject of the email */
  subject?: string | null;
  /** A list of an email address headers. */
  email_address_headers?: Array<EmailAddressHeader> | null;
  /** The unique identifier for the email message as specified in the Message-ID header */
  message_id?: string | null;
  [key: string]: unknown;
}

/** Event details of Workflow & actions */
export type EventDetails = ConversationAttributeUpdatedByWorkflow | ConversationAttributeUpdatedByAdmin | ConversationAttributeUpdatedByUser | CustomActionStarted | CustomActionFinished | OperatorWorkflowEvent;

/** The value describing a file upload set for a custom attribute */
export interface FileAttribute {
  type?: string | null;
  /** The name of the file */
  name?: string | null;
  /** The url of the file. This is a temporary URL and will expire after 30 minutes. */
  url?: string | null;
  /** The type of file */
  content_type?: string | null;
  /** The size of the file in bytes */
  filesize?: number | null;
  /** The width of the file in pixels, if applicable */
  width?: number | null;
  /** The height of the file in pixels, if applicable */
  height?: number | null;
  [key: string]: unknown;
}

/** Jobs are tasks that are processed asynchronously by the Intercom system after being enqueued via the API. This allows for efficient handling of operations that may take time to complete, such as data imports or exports. You can check the status of your jobs to monitor their progress and ensure they are completed successfully. */
export interface Jobs {
  /** The type of the object */
  type?: OpenString<"job"> | null;
  /** The id of the job that's currently being processed or has completed. */
  id?: string | null;
  /** API endpoint URL to check the job status. */
  url?: string | null;
  /** The status of the job execution. */
  status?: OpenString<"pending" | "success" | "failed"> | null;
  /** The type of resource created during job execution. */
  resource_type?: string | null;
  /** The id of the resource created during job execution (e.g. ticket id) */
  resource_id?: string | null;
  /** The url of the resource created during job exeuction. Use this url to fetch the resource. */
  resource_url?: string | null;
  [key: string]: unknown;
}

/** A linked conversation or ticket. */
export interface LinkedObject {
  /** ticket or conversation */
  type?: OpenString<"ticket" | "conversation"> | null;
  /** The ID of the linked object */
  id?: string | null;
  /** Category of the Linked Ticket Object. */
  category?: OpenString<"Customer" | "Back-office" | "Tracker" | "null"> | null;
  [key: string]: unknown;
}

/** An object containing metadata about linked conversations and linked tickets. Up to 1000 can be returned. */
export interface LinkedObjectList {
  /** Always list. */
  type?: OpenString<"list"> | null;
  /** The total number of linked objects. */
  total_count?: number | null;
  /** Whether or not there are more linked objects than returned. */
  has_more?: boolean | null;
  /** An array containing the linked conversations and linked tickets. */
  data?: Array<LinkedObject> | null;
  [key: string]: unknown;
}

/** Notes allow you to annotate and comment on your contacts. */
export interface Note {
  /** String representing the object's type. Always has the value `note`. */
  type?: string | null;
  /** The id of the note. */
  id?: string | null;
  /** The time the note was created. */
  created_at?: number | null;
  /** Represents the contact that the note was created about. */
  contact?: {
    /** String representing the object's type. Always has the value `contact`. */
    type?: string | null;
    /** The id of the contact. */
    id?: string | null;
    [key: string]: unknown;
  } | null;
  /** Optional. Represents the Admin that created the note. */
  author?: Admin | null;
  /** The body text of the note. */
  body?: string | null;
  [key: string]: unknown;
}

/** Contains details about name of the workflow for conversation part type <code>operator_workflow_event</code>. */
export interface OperatorWorkflowEvent {
  workflow?: {
    /** The name of the workflow */
    name?: string | null;
    [key: string]: unknown;
  } | null;
  event?: {
    /** Type of the workflow event initiated */
    type?: string | null;
    /** Result of the workflow event */
    result?: string | null;
    [key: string]: unknown;
  } | null;
  [key: string]: unknown;
}

/** The file attached to a part */
export interface PartAttachment {
  /** The type of attachment */
  type?: string | null;
  /** The name of the attachment */
  name?: string | null;
  /** The URL of the attachment */
  url?: string | null;
  /** The content type of the attachment */
  content_type?: string | null;
  /** The size of the attachment */
  filesize?: number | null;
  /** The width of the attachment */
  width?: number | null;
  /** The height of the attachment */
  height?: number | null;
  [key: string]: unknown;
}

/** Quick Reply Option */
export interface QuickReplyOption {
  /** The text to display in this quick reply option. */
  text?: string | null;
  /** A unique identifier for this quick reply option. This value will be available within the metadata of the comment conversation part that is created when a user clicks on this reply option. */
  uuid?: string | null;
  [key: string]: unknown;
}

/** reference to another object */
export interface Reference {
  type?: string | null;
  id?: string | null;
  [key: string]: unknown;
}

/** A segment is a group of your contacts defined by the rules that you set. */
export interface Segment {
  /** The type of object. */
  type?: OpenString<"segment"> | null;
  /** The unique identifier representing the segment. */
  id?: string | null;
  /** The name of the segment. */
  name?: string | null;
  /** The time the segment was created. */
  created_at?: number | null;
  /** The time the segment was updated. */
  updated_at?: number | null;
  /** Type of the contact: contact (lead) or user. */
  person_type?: OpenString<"contact" | "user"> | null;
  /** The number of items in the user segment. It's returned when `include_count=true` is included in the request. */
  count?: number | null;
  [key: string]: unknown;
}

/** The SLA Applied object contains the details for which SLA has been applied to this conversation. Important: if there are any canceled sla_events for the conversation - meaning an SLA has been manually removed from a conversation, the sla_status will always be returned as null. */
export interface SlaApplied {
  /** object type */
  type?: string | null;
  /** The name of the SLA as given by the teammate when it was created. */
  sla_name?: string | null;
  /** SLA statuses: - `hit`: If there’s at least one hit event in the underlying sla_events table, and no “missed” or “canceled” events for the conversation. - `missed`: If there are any missed sla_events for the conversation and no canceled events. If there’s even a single missed sla event, the status will always be missed. A missed status is not applied when the SLA expires, only the next time a teammate replies. - `active`: An SLA has been applied to a conversation, but has not yet been fulfilled. SLA status is active only if there are no “hit, “missed”, or “canceled” events. */
  sla_status?: OpenString<"hit" | "missed" | "cancelled" | "active"> | null;
  [key: string]: unknown;
}

/** A Social Profile allows you to label your contacts, companies, and conversations and list them using that Social Profile. */
export interface SocialProfile {
  /** value is "social_profile" */
  type?: string | null;
  /** The name of the Social media profile */
  name?: string | null;
  /** The name of the Social media profile */
  url?: string | null;
  [key: string]: unknown;
}

/** A subscription type lets customers easily opt out of non-essential communications without missing what's important to them. */
export interface SubscriptionType {
  /** The type of the object - subscription */
  type?: string | null;
  /** The unique identifier representing the subscription type. */
  id?: string | null;
  /** The state of the subscription type. */
  state?: OpenString<"live" | "draft" | "archived"> | null;
  default_translation?: Translation | null;
  /** An array of translations objects with the localised version of the subscription type in each available locale within your translation settings. */
  translations?: Array<Translation> | null;
  /** Describes the type of consent. */
  consent_type?: OpenString<"opt_out" | "opt_in"> | null;
  /** The message types that this subscription supports - can contain `email` or `sms_message`. */
  content_types?: Array<OpenString<"email" | "sms_message">> | null;
  [key: string]: unknown;
}

/** A tag allows you to label your contacts, companies, and conversations and list them using that tag. */
export interface Tag {
  /** value is "tag" */
  type?: string | null;
  /** The id of the tag */
  id?: string | null;
  /** The name of the tag */
  name?: string | null;
  /** The time when the tag was applied to the object. Only present when the tag is returned as part of a tagging operation on a contact, conversation, or ticket. */
  applied_at?: number | null;
  /** The admin who applied the tag. Only present when the tag is returned as part of a tagging operation on a contact, conversation, or ticket. */
  applied_by?: Reference | null;
  [key: string]: unknown;
}

/** A tag allows you to label your contacts, companies, and conversations and list them using that tag. */
export interface TagBasic {
  /** value is "tag" */
  type?: string | null;
  /** The id of the tag */
  id?: string | null;
  /** The name of the tag */
  name?: string | null;
  [key: string]: unknown;
}

/** A list of tags objects associated with a conversation */
export interface Tags {
  /** The type of the object */
  type?: OpenString<"tag.list"> | null;
  /** A list of tags objects associated with the conversation. */
  tags?: Array<Tag> | null;
  [key: string]: unknown;
}

/** Teams are groups of admins in Intercom. */
export interface Team {
  /** Value is always "team" */
  type?: string | null;
  /** The id of the team */
  id?: string | null;
  /** The name of the team */
  name?: string | null;
  /** The list of admin IDs that are a part of the team. */
  admin_ids?: Array<number> | null;
  admin_priority_level?: AdminPriorityLevel | null;
  /** The assignment limit for the team. This field is only present when the team's distribution type is load balanced. */
  assignment_limit?: number | null;
  /** Describes how assignments are distributed among the team members */
  distribution_method?: string | null;
  [key: string]: unknown;
}

/** Admin priority levels for teams */
export interface TeamPriorityLevel {
  /** The primary team ids for the team */
  primary_team_ids?: Array<number> | null;
  /** The secondary team ids for the team */
  secondary_team_ids?: Array<number> | null;
  [key: string]: unknown;
}

/** Tickets are how you track requests from your users. */
export interface Ticket {
  /** Always ticket */
  type?: OpenString<"ticket"> | null;
  /** The unique identifier for the ticket which is given by Intercom. */
  id?: string | null;
  /** The ID of the Ticket used in the Intercom Inbox and Messenger. Do not use ticket_id for API queries. */
  ticket_id?: string | null;
  /** Category of the Ticket. */
  category?: OpenString<"Customer" | "Back-office" | "Tracker"> | null;
  ticket_attributes?: TicketCustomAttributes | null;
  ticket_state?: TicketState | null;
  ticket_type?: TicketType | null;
  contacts?: TicketContacts | null;
  /** The id representing the admin assigned to the ticket. */
  admin_assignee_id?: string | null;
  /** The id representing the team assigned to the ticket. */
  team_assignee_id?: string | null;
  /** The time the ticket was created as a UTC Unix timestamp. */
  created_at?: number | null;
  /** The last time the ticket was updated as a UTC Unix timestamp. */
  updated_at?: number | null;
  /** Whether or not the ticket is open. If false, the ticket is closed. */
  open?: boolean | null;
  /** The time the ticket will be snoozed until as a UTC Unix timestamp. If null, the ticket is not currently snoozed. */
  snoozed_until?: number | null;
  linked_objects?: LinkedObjectList | null;
  ticket_parts?: TicketParts | null;
  /** Whether or not the ticket is shared with the customer. */
  is_shared?: boolean | null;
  [key: string]: unknown;
}

/** The list of contacts affected by a ticket. */
export interface TicketContacts {
  /** always contact.list */
  type?: OpenString<"contact.list"> | null;
  /** The list of contacts affected by this ticket. */
  contacts?: Array<ContactReference> | null;
  [key: string]: unknown;
}

/** An object containing the different attributes associated to the ticket as key-value pairs. For the default title and description attributes, the keys are `_default_title_` and `_default_description_`. */
export interface TicketCustomAttributes {
  [key: string]: unknown;
}

/** A Ticket Part represents a message in the ticket. */
export interface TicketPart {
  /** Always ticket_part */
  type?: string | null;
  /** The id representing the ticket part. */
  id?: string | null;
  /** The type of ticket part. */
  part_type?: string | null;
  /** The message body, which may contain HTML. */
  body?: string | null;
  /** The previous state of the ticket. */
  previous_ticket_state?: OpenString<"submitted" | "in_progress" | "waiting_on_customer" | "resolved"> | null;
  /** The state of the ticket. */
  ticket_state?: OpenString<"submitted" | "in_progress" | "waiting_on_customer" | "resolved"> | null;
  /** The time the ticket part was created. */
  created_at?: number | null;
  /** The last time the ticket part was updated. */
  updated_at?: number | null;
  /** The id of the admin that was assigned the ticket by this ticket_part (null if there has been no change in assignment.) */
  assigned_to?: Reference | null;
  author?: TicketPartAuthor | null;
  /** A list of attachments for the part. */
  attachments?: Array<PartAttachment> | null;
  /** The external id of the ticket part */
  external_id?: string | null;
  /** Whether or not the ticket part has been redacted. */
  redacted?: boolean | null;
  /** The app package code if this part was created via API. Note this field won't show if the part was not created via API. */
  app_package_code?: string | null;
  /** The updated attribute data of the ticket part. Only present for attribute update parts. */
  updated_attribute_data?: {
    /** Information about the attribute that was updated. */
    attribute?: {
      /** The type of the object. Always 'attribute'. */
      type?: OpenString<"attribute"> | null;
      /** The unique identifier of the attribute. */
      id?: string | null;
      /** The human-readable name of the attribute. */
      label?: string | null;
      [key: string]: unknown;
    } | null;
    /** The new value of the attribute. */
    value?: {
      /** The type of the object. Always 'value'. */
      type?: OpenString<"value"> | null;
      id?: string | Array<number> | null;
      label?: string | Array<string> | null;
      [key: string]: unknown;
    } | null;
    [key: string]: unknown;
  } | null;
  [key: string]: unknown;
}

/** The author that wrote or triggered the part. Can be a bot, admin, team or user. */
export interface TicketPartAuthor {
  /** The type of the author */
  type?: OpenString<"admin" | "bot" | "team" | "user"> | null;
  /** The id of the author */
  id?: string | null;
  /** The name of the author */
  name?: string | null;
  /** The email of the author */
  email?: string | null;
  [key: string]: unknown;
}

/** A list of Ticket Part objects for each note and event in the ticket. There is a limit of 500 parts. */
export interface TicketParts {
  type?: OpenString<"ticket_part.list"> | null;
  /** A list of Ticket Part objects for each ticket. There is a limit of 500 parts. */
  ticket_parts?: Array<TicketPart> | null;
  total_count?: number | null;
  [key: string]: unknown;
}

/** A ticket state, used to define the state of a ticket. */
export interface TicketState {
  /** String representing the object's type. Always has the value `ticket_state`. */
  type?: string | null;
  /** The id of the ticket state */
  id?: string | null;
  /** The category of the ticket state */
  category?: OpenString<"submitted" | "in_progress" | "waiting_on_customer" | "resolved"> | null;
  /** The state the ticket is currently in, in a human readable form - visible in Intercom */
  internal_label?: string | null;
  /** The state the ticket is currently in, in a human readable form - visible to customers, in the messenger, email and tickets portal. */
  external_label?: string | null;
  [key: string]: unknown;
}

/** A ticket type, used to define the data fields to be captured in a ticket. */
export interface TicketType {
  /** String representing the object's type. Always has the value `ticket_type`. */
  type?: string | null;
  /** The id representing the ticket type. */
  id?: string | null;
  /** Category of the Ticket Type. */
  category?: OpenString<"Customer" | "Back-office" | "Tracker"> | null;
  /** The name of the ticket type */
  name?: string | null;
  /** The description of the ticket type */
  description?: string | null;
  /** The icon of the ticket type */
  icon?: string | null;
  /** The id of the workspace that the ticket type belongs to. */
  workspace_id?: string | null;
  ticket_type_attributes?: TicketTypeAttributeList | null;
  /** A list of ticket states associated with a given ticket type. */
  ticket_states?: {
    /** String representing the object's type. Always has the value `list`. */
    type?: string | null;
    /** A list of ticket states associated with a given ticket type. */
    data?: Array<TicketState | null> | null;
    [key: string]: unknown;
  } | null;
  /** Whether the ticket type is archived or not. */
  archived?: boolean | null;
  /** The date and time the ticket type was created. */
  created_at?: number | null;
  /** The date and time the ticket type was last updated. */
  updated_at?: number | null;
  [key: string]: unknown;
}

/** Ticket type attribute, used to define each data field to be captured in a ticket. */
export interface TicketTypeAttribute {
  /** String representing the object's type. Always has the value `ticket_type_attribute`. */
  type?: string | null;
  /** The id representing the ticket type attribute. */
  id?: string | null;
  /** The id of the workspace that the ticket type attribute belongs to. */
  workspace_id?: string | null;
  /** The name of the ticket type attribute */
  name?: string | null;
  /** The description of the ticket type attribute */
  description?: string | null;
  /** The type of the data attribute (allowed values: "string list integer decimal boolean datetime files") */
  data_type?: string | null;
  /** Input options for the attribute */
  input_options?: { [key: string]: unknown } | null;
  /** The order of the attribute against other attributes */
  order?: number | null;
  /** Whether the attribute is required or not for teammates. */
  required_to_create?: boolean | null;
  /** Whether the attribute is required or not for contacts. */
  required_to_create_for_contacts?: boolean | null;
  /** Whether the attribute is visible or not to teammates. */
  visible_on_create?: boolean | null;
  /** Whether the attribute is visible or not to contacts. */
  visible_to_contacts?: boolean | null;
  /** Whether the attribute is built in or not. */
  default?: boolean | null;
  /** The id of the ticket type that the attribute belongs to. */
  ticket_type_id?: number | null;
  /** Whether the ticket type attribute is archived or not. */
  archived?: boolean | null;
  /** The date and time the ticket type attribute was created. */
  created_at?: number | null;
  /** The date and time the ticket type attribute was last updated. */
  updated_at?: number | null;
  [key: string]: unknown;
}

/** A list of attributes associated with a given ticket type. */
export interface TicketTypeAttributeList {
  /** String representing the object's type. Always has the value `ticket_type_attributes.list`. */
  type?: string | null;
  /** A list of ticket type attributes associated with a given ticket type. */
  ticket_type_attributes?: Array<TicketTypeAttribute | null> | null;
  [key: string]: unknown;
}

/** A translation object contains the localised details of a subscription type. */
export interface Translation {
  /** The localised name of the subscription type. */
  name?: string | null;
  /** The localised description of the subscription type. */
  description?: string | null;
  /** The two character identifier for the language of the translation object. */
  locale?: string | null;
  [key: string]: unknown;
}

/** Visitors are useful for representing anonymous people that have not yet been identified. They usually represent website visitors. Visitors are not visible in Intercom platform. The Visitors resource provides methods to fetch, update, convert and delete. */
export interface Visitor {
  /** Value is 'visitor' */
  type?: string | null;
  /** The Intercom defined id representing the Visitor. */
  id?: string | null;
  /** Automatically generated identifier for the Visitor. */
  user_id?: string | null;
  /** Identifies if this visitor is anonymous. */
  anonymous?: boolean | null;
  /** The email of the visitor. */
  email?: string | null;
  /** The phone number of the visitor. */
  phone?: string | null;
  /** The name of the visitor. */
  name?: string | null;
  /** The pseudonym of the visitor. */
  pseudonym?: string | null;
  avatar?: {
    type?: string | null;
    /** This object represents the avatar associated with the visitor. */
    image_url?: string | null;
    [key: string]: unknown;
  } | null;
  /** The id of the app the visitor is associated with. */
  app_id?: string | null;
  companies?: {
    /** The type of the object */
    type?: OpenString<"company.list"> | null;
    companies?: Array<Company> | null;
    [key: string]: unknown;
  } | null;
  location_data?: {
    type?: string | null;
    /** The city name of the visitor. */
    city_name?: string | null;
    /** The continent code of the visitor. */
    continent_code?: string | null;
    /** The country code of the visitor. */
    country_code?: string | null;
    /** The country name of the visitor. */
    country_name?: string | null;
    /** The postal code of the visitor. */
    postal_code?: string | null;
    /** The region name of the visitor. */
    region_name?: string | null;
    /** The timezone of the visitor. */
    timezone?: string | null;
    [key: string]: unknown;
  } | null;
  /** The time the Lead last recorded making a request. */
  las_request_at?: number | null;
  /** The time the Visitor was added to Intercom. */
  created_at?: number | null;
  /** The time the Visitor was added to Intercom. */
  remote_created_at?: number | null;
  /** The time the Visitor signed up for your product. */
  signed_up_at?: number | null;
  /** The last time the Visitor was updated. */
  updated_at?: number | null;
  /** The number of sessions the Visitor has had. */
  session_count?: number | null;
  social_profiles?: {
    /** The type of the object */
    type?: OpenString<"social_profile.list"> | null;
    social_profiles?: Array<string> | null;
    [key: string]: unknown;
  } | null;
  /** The id of the admin that owns the Visitor. */
  owner_id?: string | null;
  /** Whether the Visitor is unsubscribed from emails. */
  unsubscribed_from_emails?: boolean | null;
  /** Identifies if this visitor has marked an email as spam. */
  marked_email_as_spam?: boolean | null;
  /** Identifies if this visitor has had a hard bounce. */
  has_hard_bounced?: boolean | null;
  tags?: {
    /** The type of the object */
    type?: OpenString<"tag.list"> | null;
    tags?: Array<{
      /** The type of the object */
      type?: OpenString<"tag"> | null;
      /** The id of the tag. */
      id?: string | null;
      /** The name of the tag. */
      name?: string | null;
      [key: string]: unknown;
    }> | null;
    [key: string]: unknown;
  } | null;
  segments?: {
    /** The type of the object */
    type?: OpenString<"segment.list"> | null;
    segments?: Array<string> | null;
    [key: string]: unknown;
  } | null;
  /** The custom attributes you have set on the Visitor. */
  custom_attributes?: { [key: string]: unknown } | null;
  /** The referer of the visitor. */
  referrer?: string | null;
  /** The utm_campaign of the visitor. */
  utm_campaign?: string | null;
  /** The utm_content of the visitor. */
  utm_content?: string | null;
  /** The utm_medium of the visitor. */
  utm_medium?: string | null;
  /** The utm_source of the visitor. */
  utm_source?: string | null;
  /** The utm_term of the visitor. */
  utm_term?: string | null;
  /** Identifies if this visitor has do not track enabled. */
  do_not_track?: boolean | null;
  [key: string]: unknown;
}
