/**
 * The Intercom Events API client the outbox sends with: one `POST /events` through the official `intercom-client` SDK
 * (its own retries off) on the workspace's regional host, with a pinned `Intercom-Version` and a timeout, read back
 * into a `SendResult` (status, rate-limit headers, Intercom's error). No store and no retry rules: `classify.ts` and
 * the outbox decide what a result means.
 */
import type * as IntercomSdk from "intercom-client";
import type { Intercom, IntercomClient } from "intercom-client";
import { ConfigError } from "../core/errors.js";
import { parseRateLimitHeaders, type RateLimitInfo } from "./rate-limit.js";
import type { DataEvent } from "./validate-event.js";

/** Intercom's data-hosting regions (facts §2.1). */
export type IntercomRegion = "us" | "eu" | "au";

/** REST API host per region (facts §2.1). */
export const REGION_BASE_URLS: Readonly<Record<IntercomRegion, string>> = Object.freeze({
  us: "https://api.intercom.io",
  eu: "https://api.eu.intercom.io",
  au: "https://api.au.intercom.io",
});

/** The `Intercom-Version` sent when none is configured. Pinned so payload shapes never change under us (facts §2.2). */
export const DEFAULT_INTERCOM_VERSION = "2.14";
/** Per-request timeout when none is configured, ms (STYLE §8). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Options of {@link createIntercomEventSender}. */
export interface IntercomApiOptions {
  /** Access token with write permission. Required unless `client` is given. Never logged. */
  token?: string;
  /** Picks the API host. @defaultValue "us" */
  region?: IntercomRegion;
  /** Overrides the regional host (tests, `fake-intercom`, proxies). @defaultValue the region's host */
  baseUrl?: string;
  /** `Intercom-Version` header. @defaultValue "2.14" */
  intercomVersion?: string;
  /** Per-request timeout, ms. @defaultValue 10_000 */
  timeoutMs?: number;
  /**
   * A configured SDK client to use instead of building one. Its own retries are switched off per request
   * (`maxRetries: 0`) because the outbox owns retries.
   */
  client?: IntercomClient;
}

/** What one `POST /events` produced, without interpretation (see `classify.ts`). */
export interface SendResult {
  /** HTTP status, or null when no response arrived (network error, timeout, abort). */
  status: number | null;
  /** `X-RateLimit-*` of the response, when present. */
  rateLimit: RateLimitInfo | null;
  /** `Retry-After` of the response in ms, when present. */
  retryAfterMs: number | null;
  /** Intercom's first `error.list` code, e.g. `not_found`. */
  errorCode?: string;
  /** Intercom's first `error.list` message, or the transport error's message. */
  errorMessage?: string;
  /** Intercom's `request_id`. */
  requestId?: string;
  /** Set when no response arrived. */
  transportError?: "timeout" | "network" | "aborted";
}

/** Sends one Data Event. Never throws for HTTP or transport failures; returns a {@link SendResult}. */
export interface IntercomEventSender {
  send(event: DataEvent, signal?: AbortSignal): Promise<SendResult>;
  /** The base URL requests go to (no credentials). */
  readonly baseUrl: string;
}

/** Resolves the base URL from `baseUrl` or `region`. */
export function resolveBaseUrl(region: IntercomRegion | undefined, baseUrl: string | undefined): string {
  if (baseUrl !== undefined && baseUrl !== "") {
    try {
      new URL(baseUrl);
    } catch {
      throw new ConfigError(`baseUrl must be an absolute URL; got "${baseUrl}"`);
    }
    return baseUrl.replace(/\/+$/, "");
  }
  const r = region ?? "us";
  const url = REGION_BASE_URLS[r];
  if (url === undefined) throw new ConfigError(`region must be one of us, eu, au; got "${String(region)}"`);
  return url;
}

function headerGetter(raw: unknown): (name: string) => string | null {
  const headers = (raw as { headers?: unknown } | undefined)?.headers;
  if (headers && typeof (headers as Headers).get === "function") return (n) => (headers as Headers).get(n);
  return () => null;
}

function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null || value.trim() === "") return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

function errorListOf(body: unknown): { code?: string; message?: string; requestId?: string } {
  if (typeof body === "string") {
    try {
      return errorListOf(JSON.parse(body));
    } catch {
      return body.trim() === "" ? {} : { message: body.slice(0, 200) };
    }
  }
  if (typeof body !== "object" || body === null) return {};
  const b = body as { request_id?: unknown; errors?: unknown };
  const first = Array.isArray(b.errors)
    ? (b.errors[0] as { code?: unknown; message?: unknown } | undefined)
    : undefined;
  const out: { code?: string; message?: string; requestId?: string } = {};
  if (typeof first?.code === "string") out.code = first.code;
  if (typeof first?.message === "string") out.message = first.message;
  if (typeof b.request_id === "string") out.requestId = b.request_id;
  return out;
}

/**
 * Creates a sender of `POST /events` over the official `intercom-client` v7 SDK, with the SDK's retries off,
 * `Accept: application/json` and a pinned `Intercom-Version` (facts §3).
 * @example
 * const sender = createIntercomEventSender({ token: process.env.INTERCOM_ACCESS_TOKEN!, region: "eu" });
 * const result = await sender.send({ event_name: "invited-friend", user_id: "42", created_at: 1700000000 });
 */
export function createIntercomEventSender(options: IntercomApiOptions): IntercomEventSender {
  const baseUrl = resolveBaseUrl(options.region, options.baseUrl);
  if (options.client === undefined && (options.token === undefined || options.token === "")) {
    throw new ConfigError("token is required (INTERCOM_ACCESS_TOKEN) unless a configured client is passed");
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new ConfigError("timeoutMs must be a number > 0");
  const version = options.intercomVersion ?? DEFAULT_INTERCOM_VERSION;
  // The SDK is loaded on the first send, so importing intercom-bridge's root entry loads no npm package.
  let sdk: Promise<typeof IntercomSdk> | undefined;
  let client: IntercomClient | undefined = options.client;

  return {
    baseUrl: options.client === undefined ? baseUrl : "(user client)",
    async send(event, signal) {
      const { IntercomClient, IntercomError, IntercomTimeoutError } = await (sdk ??= import("intercom-client"));
      client ??= new IntercomClient({
        token: options.token as string,
        baseUrl,
        maxRetries: 0,
        timeoutInSeconds: timeoutMs / 1000,
      });
      // The SDK types metadata as strings only; numbers, rich links and money are valid API input (facts §3.2).
      const request = event as unknown as Intercom.CreateDataEventRequest;
      const requestOptions = {
        maxRetries: 0,
        timeoutInSeconds: timeoutMs / 1000,
        // The SDK's `version` type stops at 2.14; a header set here wins over it (facts §3.1).
        headers: { "Intercom-Version": version, Accept: "application/json" },
        ...(signal ? { abortSignal: signal } : {}),
      };
      try {
        const { rawResponse } = await client.events.create(request, requestOptions).withRawResponse();
        const get = headerGetter(rawResponse);
        return {
          status: rawResponse.status,
          rateLimit: parseRateLimitHeaders(get),
          retryAfterMs: parseRetryAfter(get("retry-after"), Date.now()),
        };
      } catch (error) {
        if (error instanceof IntercomTimeoutError) {
          return {
            status: null,
            rateLimit: null,
            retryAfterMs: null,
            transportError: "timeout",
            errorMessage: `no answer within ${timeoutMs} ms`,
          };
        }
        if (error instanceof IntercomError) {
          const get = headerGetter(error.rawResponse);
          const base = {
            rateLimit: parseRateLimitHeaders(get),
            retryAfterMs: parseRetryAfter(get("retry-after"), Date.now()),
          };
          if (error.statusCode === undefined) {
            const aborted = signal?.aborted === true;
            // Only the transport's message; the SDK's message never includes the token.
            const msg = (error.message || "network error").replace(/Bearer\s+\S+/gi, "Bearer ***");
            return { status: null, ...base, transportError: aborted ? "aborted" : "network", errorMessage: msg };
          }
          const list = errorListOf(error.body);
          const out: SendResult = { status: error.statusCode, ...base };
          if (list.code !== undefined) out.errorCode = list.code;
          if (list.message !== undefined) out.errorMessage = list.message;
          if (list.requestId !== undefined) out.requestId = list.requestId;
          return out;
        }
        const msg = error instanceof Error ? error.message : String(error);
        return {
          status: null,
          rateLimit: null,
          retryAfterMs: null,
          transportError: signal?.aborted ? "aborted" : "network",
          errorMessage: msg,
        };
      }
    },
  };
}
