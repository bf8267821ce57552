/**
 * The operator dashboard as a fastify plugin: the static single-page app under `/dashboard` (routes/pages.ts) and its
 * JSON API under `/api/` (routes/, one module per view; documented in docs/dashboard-api.md). Reads and replays go
 * through the Store contract only; this folder imports no store implementation.
 */
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import { ConfigError } from "../core/errors.js";
import { createLogger } from "../core/logger.js";
import type { DashboardOptions } from "./options.js";
import { registerApiRoutes } from "./routes/index.js";
import { registerPages } from "./routes/pages.js";
import { DEFAULT_ASSETS_DIR, loadStaticAssets } from "./static-assets.js";

export type { DashboardOptions, OutboundStatus, TopicRoutes } from "./options.js";

/**
 * The operator dashboard as a fastify plugin: the static single-page app under `/dashboard` and its JSON API under
 * `/api/` (documented in docs/dashboard-api.md). Every `/api/` route requires `Authorization: Bearer <adminToken>`;
 * the pages themselves hold no data and are public. Reads go through the Store contract only, with the
 * store's cursor pagination (no offsets, no count per page), so the tables stay fast with millions of records.
 *
 * @example
 * const app = fastify();
 * await registerDashboard(app, { store: createMemoryStore(), adminToken: process.env.INTERCOM_BRIDGE_ADMIN_TOKEN! });
 * await app.listen({ port: 8080 }); // open http://localhost:8080/dashboard
 */
export async function registerDashboard(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  await app.register(dashboardPlugin, options);
}

/** The plugin {@link registerDashboard} registers; use it with `app.register(dashboardPlugin, options)`. */
export const dashboardPlugin: FastifyPluginAsync<DashboardOptions> = async (app, options) => {
  if (typeof options.adminToken !== "string" || options.adminToken.length === 0) {
    throw new ConfigError("dashboard adminToken must be a non-empty string");
  }
  const log = createLogger(options.log);
  const assets = await loadStaticAssets(options.assetsDir ?? DEFAULT_ASSETS_DIR);
  if (!assets.has("index.html")) {
    log.warn(
      { assetsDir: String(options.assetsDir ?? DEFAULT_ASSETS_DIR) },
      "dashboard assets not found; GET /dashboard will answer 500",
    );
  }
  registerPages(app, assets);
  await app.register((api, _opts, done) => {
    registerApiRoutes(api, { store: options.store, options, log, now: options.now ?? Date.now });
    done();
  });
};
