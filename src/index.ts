/**
 * intercom-bridge: the root entry.
 *
 * Exports are listed by name (no `export *`, STYLE §6) so a diff shows every public API change. This entry loads no
 * optional dependency: no database driver (`better-sqlite3`, `bullmq`, `ioredis`) and no web framework. Those live
 * behind subpaths: `intercom-bridge/sqlite`, `/redis`, `/node`, `/express`, `/fastify`, `/web`, `/hono`
 * (checked by `test/integration/package-entry.test.ts`).
 *
 * @example
 * ```ts
 * import { createIntercomWebhooks } from "intercom-bridge";
 * import { createNodeMiddleware } from "intercom-bridge/node";
 * import { createServer } from "node:http";
 *
 * const webhooks = createIntercomWebhooks({ secret: process.env.INTERCOM_CLIENT_SECRET! });
 * webhooks.on("conversation.user.created", async (n) => console.log(n.data.item.id));
 * webhooks.start();
 * const intercom = createNodeMiddleware(webhooks, { path: "/webhooks/intercom" });
 * createServer((req, res) => void intercom(req, res)).listen(3000);
 * ```
 * @packageDocumentation
 */

// Entry points
export { createIntercomWebhooks, MEMORY_STORE_WARNING } from "./create-intercom-webhooks.js";
export type {
  IntercomWebhooks,
  IntercomWebhooksOptions,
  IntercomWebhooksBaseOptions,
} from "./create-intercom-webhooks.js";
export { createReceiver } from "./core/receiver.js";
export type { Receiver, ReceiverOptions, ReceiveInput, ReceiveResult } from "./core/receiver.js";
export { createRouter } from "./core/router.js";
export type {
  Router,
  RouterOptions,
  Handler,
  HandlerContext,
  HandlerOptions,
  ErrorHandler,
  Registration,
  RegisterOptions,
} from "./core/router.js";
export { defineHandlers } from "./core/define-handlers.js";
export type { HandlerMap, UnknownTopicNotification } from "./core/define-handlers.js";

// Signatures and envelopes
export { sign, verifySignature, signBody, verifyBodySignature } from "./core/signature.js";
export type { RawBody } from "./core/signature.js";
export { parseNotification, dedupeKeyOf, itemIdOf } from "./core/notification.js";
export type { ParseResult } from "./core/notification.js";

// Errors
export {
  IntercomBridgeError,
  SignatureVerificationError,
  ConfigError,
  StoreError,
  PayloadError,
  UnrecoverableError,
  RetryLaterError,
  RateLimitedError,
  HandlerMissingError,
  HandlerTimeoutError,
  EventValidationError,
  IntercomApiError,
  ERROR_CODES,
} from "./core/errors.js";
export type { ErrorCode, PayloadErrorReason, EventValidationIssue } from "./core/errors.js";

// Topics
export { topicNames, topicCatalogue, isKnownTopic, topicMatches } from "./topics/index.js";
export type {
  IntercomTopic,
  TopicPattern,
  ExpandPattern,
  IntercomNotification,
  NotificationFor,
  TopicItemMap,
  TopicItemShapes,
  TopicCatalogueEntry,
  TopicSource,
} from "./topics/index.js";
// Item types: what `data.item` holds for each topic (loose on purpose: fields optional, extras allowed).
export type {
  WebhookAdmin,
  WebhookArticle,
  WebhookCall,
  WebhookCompany,
  WebhookContact,
  WebhookConversation,
  WebhookConversationPart,
  WebhookConversationStatistics,
  WebhookEvent,
  WebhookTag,
  WebhookTicket,
  WebhookTicketPart,
  WebhookTimestamp,
  WebhookVisitor,
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
  UnknownItem,
} from "./topics/index.js";

// The REST models of the synthetic reconcile.* topics (what the search API returns).
export type {
  Contact as RestContact,
  ConversationListItem as RestConversation,
  Ticket as RestTicket,
} from "./topics/generated/items.js";

// Gap recovery: rebuild changes no webhook delivered from Intercom's search API
export { reconcile, hasSeen, synthesize, syntheticId, windowQuery } from "./reconcile/reconcile.js";
export type { ReconcileOptions, ReconcileReport, ReconcileCounts } from "./reconcile/reconcile.js";
export { createSearchApi } from "./reconcile/search-api.js";
export type { SearchApi, SearchApiOptions, SearchPage, WorkspaceInfo, ApiAnswer } from "./reconcile/search-api.js";
export { RECONCILE_TOPICS, SEARCH_RESOURCES, isSyntheticTopic } from "./reconcile/resources.js";
export type { SearchResource, ReconcileTopic } from "./reconcile/resources.js";

// Logging and time
export type { Logger } from "./core/logger.js";
export type { Clock } from "./core/clock.js";

// Queue vocabulary and stores
export { computeBackoff } from "./delivery/backoff.js";
export type {
  QueueName,
  Job,
  JobId,
  JobState,
  JobError,
  JobRunner,
  JobSummary,
  JobDetail,
  JobFilter,
  AttemptRecord,
  RetryPolicy,
  BackoffSpec,
  StoredRecord,
  RecordWithId,
  RecordSummary,
  RecordDetail,
  Page,
  QueueStats,
  StateCounts,
} from "./delivery/types.js";
export type {
  Store,
  DeliveryStore,
  StoreReader,
  StoreAdmin,
  StoreCoordination,
  EnqueueInput,
  EnqueueResult,
  DeliveryInput,
  Processor,
  ProcessOptions,
  ProcessorEvents,
  SharedLimiter,
  RequeueResult,
} from "./store/store.js";
export { createMemoryStore, MemoryStore } from "./store/memory/memory-store.js";
export type { MemoryStoreOptions } from "./store/memory/memory-store.js";
export { startRetention } from "./store/retention.js";
export type { Retention, RetentionOptions, RetentionStatus } from "./store/retention.js";

// The framework-free request handler and the status table (adapters are subpath exports)
export { handleWebhook, errorResponse } from "./http/handle-webhook.js";
export type { WebhookRequest, WebhookResponse } from "./http/handle-webhook.js";
export { STATUS_BY_CODE, toErrorResponse } from "./http/status.js";
export type { ErrorBody } from "./http/status.js";

// Outbound Data Events
export { createEventTracker, eventDedupeKey } from "./outbound/outbox.js";
export type {
  EventTracker,
  EventTrackerOptions,
  OutboxStatus,
  TrackOptions,
  TrackResult,
  EventWaitOptions,
} from "./outbound/outbox.js";
export type { IntercomRegion } from "./outbound/intercom-api.js";
export { checkEvent, validateEvent, MAX_METADATA_KEYS, MAX_METADATA_STRING_CHARS } from "./outbound/validate-event.js";
export type {
  DataEvent,
  DataEventInput,
  MetadataValue,
  RichLinkValue,
  MonetaryValue,
  ValidateEventOptions,
  EventCheck,
} from "./outbound/validate-event.js";
