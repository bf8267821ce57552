/**
 * The workspace half of `fake-intercom`: seeded conversations, contacts and tickets, `GET /me`, and the three search
 * endpoints (`POST /conversations/search`, `/contacts/search`, `/tickets/search`) with Intercom's query semantics
 * (see `fake-search-query.ts`) and cursor pagination (`pagination.per_page`, `pagination.starting_after`), so gap
 * recovery can be developed, tested and shown without Intercom. Items are seeded and updated through
 * {@link FakeWorkspace.upsert}, `POST /_fake/items/<resource>` or a JSON seed file. Imports nothing from the store or
 * the receiver.
 */
import { randomUUID } from "node:crypto";
import { compileSearchQuery, SearchQueryError } from "./fake-search-query.js";
import { SEARCH_RESOURCES, type SearchResource } from "./resources.js";

/** Options of {@link createFakeWorkspace}. */
export interface FakeWorkspaceOptions {
  /** `app.id_code` answered by `GET /me`, and `workspace_id` of seeded items. @defaultValue "fakeapp1" */
  appId?: string;
  /** IANA timezone of the workspace (where contacts search's calendar days begin). @defaultValue "UTC" */
  timezone?: string;
}

/** Fault injection for the search endpoints. */
export interface FakeSearchFaults {
  /** The next N searches answer `failStatus` (after `skip` more succeed). @defaultValue 0 */
  failNext?: number;
  /** Status of injected failures; 429 carries `X-RateLimit-*` like a real one. @defaultValue 429 */
  failStatus?: number;
  /** Searches to answer normally before the injected failures start. @defaultValue 0 */
  skip?: number;
}

/** Counters of the workspace endpoints. */
export interface FakeWorkspaceStats {
  /** Search requests per resource, whatever the answer. */
  searches: Record<SearchResource, number>;
  /** `GET /me` requests. */
  me: number;
  /** Injected search failures answered. */
  injectedFailures: number;
}

/** A seeded item: the REST object as search returns it. */
export type FakeItem = Record<string, unknown> & { id: string; updated_at: number; created_at: number };

/** The seeded workspace behind `GET /me` and the search endpoints. */
export interface FakeWorkspace {
  readonly appId: string;
  readonly timezone: string;
  /**
   * Creates or updates items. A partial object with a known `id` is merged into the stored one; `updated_at`
   * defaults to now (unix seconds) on every upsert, like an edit in Intercom. Missing fields get realistic defaults.
   * @returns the stored items
   */
  upsert(resource: SearchResource, items: ReadonlyArray<Partial<FakeItem>>): FakeItem[];
  /** Removes items (a merged contact disappears from search like this). */
  remove(resource: SearchResource, ids: readonly string[]): void;
  /** Every stored item of a resource. */
  items(resource: SearchResource): FakeItem[];
  /** Changes search fault injection; omitted fields keep their value. */
  setSearchFaults(faults: FakeSearchFaults): void;
  stats(): FakeWorkspaceStats;
  /** Drops every item, counter and fault. */
  clear(): void;
  /**
   * Answers `GET /me` or a search (see {@link isWorkspacePath}) for a request that passed the bearer-token check and
   * the rate limit; the caller adds its `X-RateLimit-*` headers.
   */
  answer(pathname: string, rawBody: string): FakeWorkspaceAnswer;
  /**
   * Serves the control routes `POST|GET|DELETE /_fake/items/<resource>` (seed or update items; list; clear),
   * `POST /_fake/search-control` (a {@link FakeSearchFaults} body) and `GET /_fake/workspace`. Null when the path is
   * not one of them.
   */
  control(method: string | undefined, pathname: string, rawBody: string): FakeWorkspaceAnswer | null;
}

const DEFAULT_PER_PAGE: Record<SearchResource, number> = { conversations: 20, contacts: 50, tickets: 20 };
const MAX_PER_PAGE = 150;
const LIST_TYPE: Record<SearchResource, string> = {
  conversations: "conversation.list",
  contacts: "list",
  tickets: "ticket.list",
};
const LIST_KEY: Record<SearchResource, string> = {
  conversations: "conversations",
  contacts: "data",
  tickets: "tickets",
};

/** Creates an empty workspace. */
export function createFakeWorkspace(options: FakeWorkspaceOptions = {}): FakeWorkspace {
  const appId = options.appId ?? "fakeapp1";
  const timezone = options.timezone ?? "UTC";
  new Intl.DateTimeFormat("en-US", { timeZone: timezone }); // throws RangeError on an unknown zone
  let store = emptyStore();
  let faults: Required<FakeSearchFaults> = { failNext: 0, failStatus: 429, skip: 0 };
  let stats = emptyStats();
  return {
    appId,
    timezone,
    upsert(resource, items) {
      const now = Math.floor(Date.now() / 1000);
      return items.map((partial) => {
        const id = partial.id !== undefined ? String(partial.id) : undefined;
        const existing = id !== undefined ? store[resource].get(id) : undefined;
        const merged = existing
          ? ({ ...existing, ...partial, updated_at: partial.updated_at ?? now } as FakeItem)
          : fakeItem(resource, { ...partial, ...(id !== undefined ? { id } : {}) }, appId, now);
        store[resource].set(merged.id, merged);
        return structuredClone(merged);
      });
    },
    remove(resource, ids) {
      for (const id of ids) store[resource].delete(id);
    },
    items: (resource) => [...store[resource].values()].map((i) => structuredClone(i)),
    setSearchFaults(f) {
      faults = {
        failNext: f.failNext ?? faults.failNext,
        failStatus: f.failStatus ?? faults.failStatus,
        skip: f.skip ?? faults.skip,
      };
    },
    stats: () => structuredClone(stats),
    clear() {
      store = emptyStore();
      faults = { failNext: 0, failStatus: 429, skip: 0 };
      stats = emptyStats();
    },
    answer(pathname, rawBody) {
      if (pathname === "/me") {
        stats.me++;
        return { status: 200, body: JSON.stringify(meBody(appId, timezone)) };
      }
      const resource = pathname.split("/")[1] as SearchResource;
      stats.searches[resource]++;
      const injected = takeFault();
      if (injected !== null) {
        const code = injected === 429 ? "rate_limit_exceeded" : injected === 401 ? "unauthorized" : "server_error";
        const message = injected === 401 ? "Access Token Invalid" : `Injected ${injected}`;
        return { status: injected, body: errorList(code, message) };
      }
      const body = parseJson(rawBody);
      if (body === undefined)
        return { status: 400, body: errorList("parameter_invalid", "Request body is not valid JSON") };
      try {
        return { status: 200, body: JSON.stringify(search(resource, body)) };
      } catch (err) {
        if (err instanceof SearchQueryError) return { status: 400, body: errorList(err.code, err.message) };
        throw err;
      }
    },
    control(method, pathname, rawBody) {
      return answerControl(this, method, pathname, rawBody);
    },
  };

  function takeFault(): number | null {
    if (faults.failNext <= 0) return null;
    if (faults.skip > 0) {
      faults.skip--;
      return null;
    }
    faults.failNext--;
    stats.injectedFailures++;
    return faults.failStatus;
  }

  function search(resource: SearchResource, body: unknown): Record<string, unknown> {
    if (typeof body !== "object" || body === null || !("query" in body))
      throw new SearchQueryError("parameter_not_found", "query parameter is required");
    const request = body as { query: unknown; pagination?: { per_page?: unknown; starting_after?: unknown } | null };
    const matches = compileSearchQuery(resource, request.query, { timezone });
    const perPageRaw = request.pagination?.per_page ?? DEFAULT_PER_PAGE[resource];
    const perPage = Number(perPageRaw);
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE)
      throw new SearchQueryError("parameter_invalid", `per_page must be an integer between 1 and ${MAX_PER_PAGE}`);
    // Oldest change first, then id: a keyset cursor, so an item updated during a scan moves to the end (it is seen
    // again later) instead of shifting the pages and making the scan skip another item.
    const all = [...store[resource].values()].filter((i) => matches(i)).sort(byUpdatedThenId);
    const after = request.pagination?.starting_after;
    let start = 0;
    if (after !== undefined && after !== null) {
      const key = decodeCursor(after);
      start = all.findIndex((i) => byUpdatedThenId(i, { updated_at: key[0], id: key[1] } as FakeItem) > 0);
      if (start === -1) start = all.length;
    }
    const page = all.slice(start, start + perPage);
    const hasMore = start + perPage < all.length;
    const last = page[page.length - 1];
    const pages: Record<string, unknown> = {
      type: "pages",
      page: Math.floor(start / perPage) + 1,
      per_page: perPage,
      total_pages: Math.ceil(all.length / perPage),
    };
    if (hasMore && last) pages["next"] = { per_page: perPage, starting_after: encodeCursor(last) };
    return { type: LIST_TYPE[resource], [LIST_KEY[resource]]: page, total_count: all.length, pages };
  }
}

/** What the workspace routes answer; the caller writes it with its own rate-limit headers. */
export interface FakeWorkspaceAnswer {
  status: number;
  body: string;
}

/** True for the paths {@link FakeWorkspace.answer} serves (they need the bearer token and count against the limit). */
export function isWorkspacePath(method: string | undefined, pathname: string): boolean {
  if (pathname === "/me") return method === "GET";
  return method === "POST" && /^\/(conversations|contacts|tickets)\/search$/.test(pathname);
}

function answerControl(
  ws: FakeWorkspace,
  method: string | undefined,
  pathname: string,
  rawBody: string,
): FakeWorkspaceAnswer | null {
  const m = /^\/_fake\/items\/(conversations|contacts|tickets)$/.exec(pathname);
  if (m) {
    const resource = m[1] as SearchResource;
    if (method === "GET") return { status: 200, body: JSON.stringify(ws.items(resource)) };
    if (method === "DELETE") {
      ws.remove(
        resource,
        ws.items(resource).map((i) => i.id),
      );
      return { status: 204, body: "" };
    }
    if (method === "POST") {
      const parsed = parseJson(rawBody);
      const list = Array.isArray(parsed) ? parsed : parsed !== undefined ? [parsed] : undefined;
      if (!list || !list.every((i) => typeof i === "object" && i !== null && !Array.isArray(i)))
        return { status: 400, body: errorList("parameter_invalid", "body must be an item object or an array of them") };
      return { status: 200, body: JSON.stringify(ws.upsert(resource, list as Partial<FakeItem>[])) };
    }
  }
  if (pathname === "/_fake/search-control" && method === "POST") {
    const parsed = parseJson(rawBody);
    if (typeof parsed !== "object" || parsed === null)
      return { status: 400, body: errorList("parameter_invalid", "control body must be a JSON object") };
    ws.setSearchFaults(parsed);
    return { status: 200, body: JSON.stringify(ws.stats()) };
  }
  if (pathname === "/_fake/workspace" && method === "GET")
    return { status: 200, body: JSON.stringify({ ...meBody(ws.appId, ws.timezone).app, stats: ws.stats() }) };
  return null;
}

/** Seeds a workspace from a JSON document `{ conversations?: [...], contacts?: [...], tickets?: [...] }`. */
export function seedWorkspace(ws: FakeWorkspace, document: unknown): Record<SearchResource, number> {
  if (typeof document !== "object" || document === null || Array.isArray(document))
    throw new TypeError("the seed must be a JSON object with conversations, contacts and/or tickets arrays");
  const counts = { conversations: 0, contacts: 0, tickets: 0 };
  for (const resource of SEARCH_RESOURCES) {
    const list = (document as Record<string, unknown>)[resource];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new TypeError(`seed: "${resource}" must be an array`);
    counts[resource] = ws.upsert(resource, list as Partial<FakeItem>[]).length;
  }
  return counts;
}

/**
 * A realistic REST object of `resource` (the shapes of the OpenAPI examples and captured payloads), with `partial`'s
 * fields on top. Ids are numeric strings for conversations and tickets, 24 hex digits for contacts, as Intercom's.
 */
export function fakeItem(
  resource: SearchResource,
  partial: Partial<FakeItem>,
  appId: string,
  nowSec = Math.floor(Date.now() / 1000),
): FakeItem {
  const created = typeof partial.created_at === "number" ? partial.created_at : nowSec;
  const updated = typeof partial.updated_at === "number" ? partial.updated_at : Math.max(created, nowSec);
  const uuidHex = randomUUID().replace(/-/g, "");
  if (resource === "contacts") {
    const id = partial.id ?? uuidHex.slice(0, 24);
    return {
      type: "contact",
      id,
      workspace_id: appId,
      external_id: null,
      role: "user",
      email: `${id}@example.com`,
      phone: null,
      name: `Contact ${id.slice(0, 6)}`,
      avatar: null,
      owner_id: null,
      social_profiles: { type: "list", data: [] },
      has_hard_bounced: false,
      marked_email_as_spam: false,
      unsubscribed_from_emails: false,
      created_at: created,
      updated_at: updated,
      signed_up_at: created,
      last_seen_at: null,
      last_replied_at: null,
      last_contacted_at: null,
      last_email_opened_at: null,
      last_email_clicked_at: null,
      language_override: null,
      browser: null,
      browser_version: null,
      browser_language: null,
      os: null,
      location: { type: "location", country: null, region: null, city: null, country_code: null, continent_code: null },
      custom_attributes: {},
      tags: { type: "list", data: [], url: `/contacts/${id}/tags`, total_count: 0, has_more: false },
      notes: { type: "list", data: [], url: `/contacts/${id}/notes`, total_count: 0, has_more: false },
      companies: { type: "list", data: [], url: `/contacts/${id}/companies`, total_count: 0, has_more: false },
      ...partial,
    };
  }
  const numericId = partial.id ?? String(parseInt(uuidHex.slice(0, 12), 16));
  if (resource === "conversations") {
    return {
      type: "conversation",
      id: numericId,
      title: null,
      created_at: created,
      updated_at: updated,
      waiting_since: null,
      snoozed_until: null,
      source: {
        type: "conversation",
        id: String(parseInt(uuidHex.slice(12, 20), 16)),
        delivered_as: "customer_initiated",
        subject: "",
        body: "<p>Hello</p>",
        author: { type: "user", id: uuidHex.slice(8, 32), name: "A user", email: "user@example.com" },
        attachments: [],
        url: null,
        redacted: false,
      },
      contacts: { type: "contact.list", contacts: [{ type: "contact", id: uuidHex.slice(8, 32), external_id: null }] },
      first_contact_reply: null,
      admin_assignee_id: null,
      team_assignee_id: null,
      open: true,
      state: "open",
      read: false,
      tags: { type: "tag.list", tags: [] },
      priority: "not_priority",
      sla_applied: null,
      statistics: null,
      conversation_rating: null,
      teammates: null,
      custom_attributes: {},
      topics: {},
      ticket: null,
      linked_objects: { type: "list", data: [], total_count: 0, has_more: false },
      ai_agent: null,
      ai_agent_participated: false,
      ...partial,
    };
  }
  return {
    type: "ticket",
    id: numericId,
    ticket_id: String(parseInt(uuidHex.slice(12, 18), 16)),
    ticket_attributes: { _default_title_: "A ticket", _default_description_: null },
    ticket_state: {
      type: "ticket_state",
      id: "8577",
      category: "submitted",
      internal_label: "Submitted",
      external_label: "Submitted",
    },
    ticket_type: { type: "ticket_type", id: "100", name: "Tickets", workspace_id: appId, archived: false },
    contacts: { type: "contact.list", contacts: [{ type: "contact", id: uuidHex.slice(8, 32), external_id: null }] },
    admin_assignee_id: "0",
    team_assignee_id: "0",
    created_at: created,
    updated_at: updated,
    open: true,
    snoozed_until: null,
    linked_objects: { type: "list", data: [], total_count: 0, has_more: false },
    category: "Customer",
    is_shared: true,
    ...partial,
  };
}

function meBody(
  appId: string,
  timezone: string,
): { type: string; id: string; email: string; name: string; app: Record<string, unknown> } {
  return {
    type: "admin",
    id: "991267459",
    email: "admin@example.com",
    name: "Fake Admin",
    app: {
      type: "app",
      id_code: appId,
      name: "fake-intercom",
      created_at: 1734537243,
      secure: false,
      identity_verification: false,
      timezone,
      region: "US",
    },
  };
}

function byUpdatedThenId(a: FakeItem, b: FakeItem): number {
  return a.updated_at - b.updated_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function encodeCursor(item: FakeItem): string {
  return Buffer.from(JSON.stringify([item.updated_at, item.id])).toString("base64url");
}

function decodeCursor(cursor: unknown): [number, string] {
  try {
    const v = JSON.parse(Buffer.from(String(cursor), "base64url").toString("utf8")) as unknown;
    if (Array.isArray(v) && typeof v[0] === "number" && typeof v[1] === "string") return [v[0], v[1]];
  } catch {
    /* below */
  }
  throw new SearchQueryError("parameter_invalid", "starting_after is not a cursor this search returned");
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

function errorList(code: string, message: string): string {
  return JSON.stringify({ type: "error.list", request_id: randomUUID(), errors: [{ code, message }] });
}

function emptyStore(): Record<SearchResource, Map<string, FakeItem>> {
  return { conversations: new Map(), contacts: new Map(), tickets: new Map() };
}

function emptyStats(): FakeWorkspaceStats {
  return { searches: { conversations: 0, contacts: 0, tickets: 0 }, me: 0, injectedFailures: 0 };
}
