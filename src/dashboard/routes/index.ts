/**
 * Registers the dashboard's JSON API on one fastify instance: the access rules first (token, errors, session, unknown
 * paths), then one route module per view — overview, notifications, deliveries and dead letters, replay, outbound,
 * the live stream. Re-exports nothing; the plugin in ../api.ts calls {@link registerApiRoutes}.
 */
import type { FastifyInstance } from "fastify";
import { registerAccessRoutes } from "./access.js";
import type { ApiContext } from "./context.js";
import { registerDeliveryRoutes } from "./deliveries.js";
import { registerNotificationRoutes } from "./notifications.js";
import { registerOutboundRoute } from "./outbound.js";
import { registerOverviewRoute } from "./overview.js";
import { registerReplayRoutes } from "./replay.js";
import { registerStreamRoute } from "./stream.js";

/** Registers every `/api/` route of the dashboard on `api` (an encapsulated instance: the token hook stays in it). */
export function registerApiRoutes(api: FastifyInstance, ctx: ApiContext): void {
  registerAccessRoutes(api, ctx);
  registerOverviewRoute(api, ctx);
  registerNotificationRoutes(api, ctx);
  registerDeliveryRoutes(api, ctx);
  registerReplayRoutes(api, ctx);
  registerOutboundRoute(api, ctx);
  registerStreamRoute(api, ctx);
}
