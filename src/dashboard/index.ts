/**
 * The operator dashboard: a fastify plugin serving the static single-page app under `/dashboard` and its JSON API
 * under `/api/` (docs/dashboard-api.md).
 */
export { dashboardPlugin, registerDashboard } from "./api.js";
export type { DashboardOptions, OutboundStatus, TopicRoutes } from "./options.js";
export type { ReceivedEventSource, ReceivedNotice } from "./live-feed.js";
export type { DeliveryDetailView, DeliveryView, NotificationView, OutboundView, RecordDetailView } from "./present.js";
