import type { ServiceContext } from "./create-service.js";

/**
 * The optional parts of `serve` (outbound events API, dashboard), composed from the environment.
 * Each is a function of the service context, registered before the server listens.
 */
export function servicePlugins(_env: NodeJS.ProcessEnv): Array<(ctx: ServiceContext) => Promise<void> | void> {
  return [];
}
