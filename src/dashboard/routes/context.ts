/**
 * What every dashboard API route module shares: the context it is registered with (store, options, logger, clock),
 * the id pattern of path parameters and the one way to answer an error (`{ error: { code, message } }` with the
 * status of `http/status.ts`). Imports no store implementation and no other route module.
 */
import type { FastifyReply } from "fastify";
import type { ErrorCode } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { STATUS_BY_CODE, type ErrorBody } from "../../http/status.js";
import type { StoreAdmin, StoreCoordination, StoreReader } from "../../store/store.js";
import type { DashboardOptions } from "../options.js";
import type { FilterParam } from "../parse-filter.js";

/** What a route module is registered with. */
export interface ApiContext {
  store: StoreReader & StoreAdmin & Pick<StoreCoordination, "limiter">;
  options: DashboardOptions;
  log: Logger;
  /** Epoch ms (`options.now`, else `Date.now`). */
  now: () => number;
}

/** Record and delivery ids as the stores make them (URL-safe); anything else is "not found" without a store read. */
export const ID_RE = /^[A-Za-z0-9_.~-]{1,200}$/;

/** The filter fields of the dead-letter list, its count and its bulk replay. */
export const DEAD_FILTER_PARAMS: readonly FilterParam[] = [
  "queue",
  "topic",
  "target",
  "since",
  "until",
  "appId",
  "notificationId",
  "itemId",
];
/** The error body every API answer uses. */
export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

/** Answers `code`'s status with the error body. */
export function sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  return reply.code(STATUS_BY_CODE[code]).send(errorBody(code, message));
}
