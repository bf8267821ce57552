/**
 * The two Intercom REST calls gap recovery makes, over global `fetch`: `GET /me` (which workspace the token belongs
 * to) and one page of `POST /{conversations,contacts,tickets}/search`. It returns what Intercom answered, rate-limit
 * headers included, and interprets nothing (pacing and retries live in `reconcile.ts`). The token never appears in a
 * result or an error message.
 */
import { ConfigError } from "../core/errors.js";
import {
  DEFAULT_INTERCOM_VERSION,
  DEFAULT_REQUEST_TIMEOUT_MS,
  resolveBaseUrl,
  type IntercomRegion,
} from "../outbound/intercom-api.js";
import { parseRateLimitHeaders, type RateLimitInfo } from "../outbound/rate-limit.js";
import type { SearchResource } from "./resources.js";

/** Options of {@link createSearchApi}. */
export interface SearchApiOptions {
  /** Access token that may read conversations, contacts and tickets. Never logged. */
  token: string;
  /** Picks the API host. @defaultValue "us" */
  region?: IntercomRegion;
  /** Overrides the regional host (`fake-intercom`, proxies). @defaultValue the region's host */
  baseUrl?: string;
  /** `Intercom-Version` header; search results follow its REST models. @defaultValue "2.14" */
  intercomVersion?: string;
  /** Per-request timeout, ms. @defaultValue 10_000 */
  timeoutMs?: number;
}

/** What one request produced, without interpretation. */
export interface ApiAnswer<T> {
  /** HTTP status, or null when no response arrived (network error, timeout). */
  status: number | null;
  /** The parsed body of a 2xx answer. */
  body?: T;
  rateLimit: RateLimitInfo | null;
  /** `Retry-After` in ms, when sent. */
  retryAfterMs: number | null;
  /** Intercom's first `error.list` code and message, or the transport error's message. */
  errorCode?: string;
  errorMessage?: string;
}

/** One page of a search. */
export interface SearchPage {
  /** The REST objects as Intercom returned them. */
  items: Array<Record<string, unknown>>;
  /** The cursor of the next page, or null on the last one. */
  next: string | null;
  /** `total_count` as Intercom reported it. */
  totalCount: number | null;
}

/** The workspace a token belongs to (`GET /me` → `app`). */
export interface WorkspaceInfo {
  /** `app.id_code`: the `app_id` of every webhook notification from this workspace. */
  appId: string;
  /** `app.timezone`, when Intercom sends it. */
  timezone: string | null;
}

/** The REST calls of gap recovery. */
export interface SearchApi {
  /** `GET /me`. */
  me(signal?: AbortSignal): Promise<ApiAnswer<WorkspaceInfo>>;
  /** One page of `POST /<resource>/search`. */
  search(
    resource: SearchResource,
    query: unknown,
    page: { perPage: number; startingAfter: string | null },
    signal?: AbortSignal,
  ): Promise<ApiAnswer<SearchPage>>;
  /** Where requests go (no credentials). */
  readonly baseUrl: string;
}

const LIST_KEY: Record<SearchResource, string> = {
  conversations: "conversations",
  contacts: "data",
  tickets: "tickets",
};

/** Creates the client. @throws {ConfigError} without a token or with a bad base URL. */
export function createSearchApi(options: SearchApiOptions): SearchApi {
  if (typeof options.token !== "string" || options.token === "")
    throw new ConfigError("An Intercom access token is required (INTERCOM_ACCESS_TOKEN)");
  const baseUrl = resolveBaseUrl(options.region, options.baseUrl);
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headers = {
    authorization: `Bearer ${options.token}`,
    accept: "application/json",
    "content-type": "application/json",
    "intercom-version": options.intercomVersion ?? DEFAULT_INTERCOM_VERSION,
  };

  async function call<T>(
    method: "GET" | "POST",
    path: string,
    body: unknown,
    read: (json: unknown) => T,
    signal: AbortSignal | undefined,
  ): Promise<ApiAnswer<T>> {
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      signal?.throwIfAborted();
      const message = timeout.aborted ? `no answer within ${timeoutMs} ms` : (err as Error).message;
      return { status: null, rateLimit: null, retryAfterMs: null, errorMessage: message };
    }
    const rateLimit = parseRateLimitHeaders((n) => res.headers.get(n));
    const retryAfter = res.headers.get("retry-after");
    const retryAfterMs = retryAfter !== null && Number.isFinite(Number(retryAfter)) ? Number(retryAfter) * 1000 : null;
    const text = await res.text().catch(() => "");
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.status >= 200 && res.status < 300) {
      try {
        return { status: res.status, body: read(json), rateLimit, retryAfterMs };
      } catch (err) {
        return { status: null, rateLimit, retryAfterMs, errorMessage: (err as Error).message };
      }
    }
    const first = (json as { errors?: Array<{ code?: unknown; message?: unknown }> } | undefined)?.errors?.[0];
    const out: ApiAnswer<T> = { status: res.status, rateLimit, retryAfterMs };
    if (typeof first?.code === "string") out.errorCode = first.code;
    if (typeof first?.message === "string") out.errorMessage = first.message;
    else if (json === undefined && text !== "") out.errorMessage = text.slice(0, 200);
    return out;
  }

  return {
    baseUrl,
    me: (signal) =>
      call(
        "GET",
        "/me",
        undefined,
        (json) => {
          const app = (json as { app?: { id_code?: unknown; timezone?: unknown } } | undefined)?.app;
          if (typeof app?.id_code !== "string") throw new Error("GET /me answered without app.id_code");
          return { appId: app.id_code, timezone: typeof app.timezone === "string" ? app.timezone : null };
        },
        signal,
      ),
    search: (resource, query, page, signal) =>
      call(
        "POST",
        `/${resource}/search`,
        {
          query,
          pagination: {
            per_page: page.perPage,
            ...(page.startingAfter !== null ? { starting_after: page.startingAfter } : {}),
          },
        },
        (json) => {
          const b = json as Record<string, unknown> | undefined;
          const items = b?.[LIST_KEY[resource]];
          if (!Array.isArray(items))
            throw new Error(`${resource} search answered without a "${LIST_KEY[resource]}" list`);
          const next = (b?.["pages"] as { next?: { starting_after?: unknown } | null } | null | undefined)?.next;
          return {
            items: items as Array<Record<string, unknown>>,
            next: typeof next?.starting_after === "string" && next.starting_after !== "" ? next.starting_after : null,
            totalCount: typeof b?.["total_count"] === "number" ? b["total_count"] : null,
          };
        },
        signal,
      ),
  };
}
