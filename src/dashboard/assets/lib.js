// intercom-bridge dashboard: helpers shared by the views (DOM building, API client, live stream, charts, formatting).
// Plain ES module, no build step. Every text goes into the DOM as a text node (never innerHTML), so payloads
// cannot inject markup.

const TOKEN_KEY = "intercom-bridge.adminToken";
const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Builds an element. `attrs`: `class`, `on<event>` listeners, booleans (`disabled`), `dataset`-style `data-*`, or any
 * attribute. Children: nodes, strings, numbers, arrays of them, or null/false (skipped).
 * @example h("button", { class: "primary", onclick: go }, "Replay")
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Like {@link h} for SVG elements. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// ---- session -------------------------------------------------------------------------------------------------------

/** The admin token of this tab (sessionStorage: gone when the tab closes, never sent to other origins). */
export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** An API error with the server's `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Resolves an API path (`/api/…`) against the folder the page was served from: the page is `<prefix>/dashboard/`
 * and the API `<prefix>/api/…`, so the dashboard also works when mounted under a prefix (fastify's
 * `register(dashboardPlugin, { prefix })`) or behind a proxy that adds one.
 * @example apiUrl("/api/overview") // "https://ops.example.com/bridge/api/overview" on …/bridge/dashboard/
 */
export function apiUrl(path) {
  return new URL(`..${path}`, location.href).href;
}

/**
 * Calls the dashboard API with the session's token. Throws {@link ApiError}; a 401 also fires `ib:unauthorized`.
 * @example await api("/api/notifications", { query: { topic: "contact.*" } })
 */
export async function api(path, { method = "GET", query, body, token = session.token } = {}) {
  const qs = query
    ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ""))
    : null;
  const url = qs && [...qs].length > 0 ? `${path}?${qs}` : path;
  const headers = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(apiUrl(url), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new ApiError(
      res.status,
      data?.error?.code ?? `HTTP_${res.status}`,
      data?.error?.message ?? res.statusText,
    );
    if (res.status === 401) window.dispatchEvent(new CustomEvent("ib:unauthorized", { detail: err }));
    throw err;
  }
  return data;
}

// ---- live stream ---------------------------------------------------------------------------------------------------

/**
 * Reads `GET /api/stream` (Server-Sent Events) with fetch, so the token travels in the Authorization header rather
 * than in the URL (EventSource cannot set headers). Reconnects with backoff. Returns a function that stops it.
 * `onEvent(name, data)`; `onStatus("live" | "reconnecting" | "unauthorized")`.
 */
export function openStream(onEvent, onStatus) {
  let stopped = false;
  let controller;
  let delayMs = 1000;
  const dispatch = (block) => {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length > 0) onEvent(event, JSON.parse(data.join("\n")));
  };
  const connect = async () => {
    controller = new AbortController();
    try {
      const res = await fetch(apiUrl("/api/stream"), {
        headers: { authorization: `Bearer ${session.token}`, accept: "text/event-stream" },
        signal: controller.signal,
        cache: "no-store",
      });
      if (res.status === 401) return onStatus("unauthorized");
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      onStatus("live");
      delayMs = 1000;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // network error or abort: fall through to reconnect unless stopped
    }
    if (stopped) return;
    onStatus("reconnecting");
    setTimeout(() => void connect(), delayMs);
    delayMs = Math.min(delayMs * 2, 30_000);
  };
  void connect();
  return () => {
    stopped = true;
    controller?.abort();
  };
}

// ---- formatting ----------------------------------------------------------------------------------------------------

/** `2024-05-01 12:34:56 UTC+2` in local time, with the zone, so times can be compared with logs kept in UTC. */
export function fmtTime(ms) {
  if (ms === null || ms === undefined) return "—";
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${zoneOf(d)}`;
}

/** `UTC`, `UTC+2`, `UTC-3:30`: the browser's offset at that moment. */
function zoneOf(d) {
  const offset = -d.getTimezoneOffset();
  if (offset === 0) return "UTC";
  const abs = Math.abs(offset);
  const minutes = abs % 60;
  return `UTC${offset > 0 ? "+" : "-"}${Math.floor(abs / 60)}${minutes ? `:${String(minutes).padStart(2, "0")}` : ""}`;
}

/** `45 s`, `12 min`, `3 h`, `2 d`. */
export function fmtDuration(ms) {
  if (ms === null || ms === undefined) return "—";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

/** `1,234`. */
export const fmtNumber = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US"));

/**
 * A state chip: `<span class="state s-dead" data-state="dead">dead</span>`. `colour` is the queue state whose colour
 * it takes (outbound `sent` looks like `done`).
 */
export const stateChip = (state, colour = state) =>
  h("span", { class: `state s-${colour}`, "data-state": state }, state);

/** `datetime-local` value ↔ epoch ms (local time). */
export const toLocalInput = (ms) =>
  ms ? new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : "";
export const fromLocalInput = (value) => (value ? String(new Date(value).getTime()) : "");

/** True when `pattern` (exact, `group.*` or `*`) matches `topic`, as the server's topicMatches does. */
export function topicMatches(pattern, topic) {
  if (!pattern || pattern === "*") return true;
  if (pattern.endsWith(".*")) return topic.startsWith(pattern.slice(0, -1));
  return pattern === topic;
}

/** Pretty JSON with spans for keys, strings, numbers and literals (all text nodes). */
export function prettyJson(value) {
  const text = JSON.stringify(value, null, 2) ?? "null";
  const pre = h("pre", { class: "json" });
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) pre.append(text.slice(last, m.index));
    if (m[1]) {
      pre.append(h("span", { class: m[2] ? "j-key" : "j-str" }, m[1]));
      if (m[2]) pre.append(m[2]);
    } else if (m[3]) pre.append(h("span", { class: "j-lit" }, m[3]));
    else pre.append(h("span", { class: "j-num" }, m[4]));
    last = m.index + m[0].length;
  }
  pre.append(text.slice(last));
  return pre;
}

// ---- charts --------------------------------------------------------------------------------------------------------

/**
 * Horizontal bars, one per `{ label, value, cls }`, scaled to the largest value.
 * @example barList([{ label: "dead", value: 3, cls: "s-dead" }])
 */
export function barList(rows) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return h(
    "div",
    { class: "bars" },
    rows.map((r) =>
      h(
        "div",
        { class: "bar-row", "data-label": r.label },
        h("span", { class: "bar-label" }, r.label),
        s(
          "svg",
          { class: "bar", viewBox: "0 0 100 10", preserveAspectRatio: "none", "aria-hidden": "true" },
          s("rect", {
            class: `bar-fill ${r.cls ?? ""}`,
            x: 0,
            y: 0,
            height: 10,
            width: Math.max(r.value > 0 ? 1 : 0, (r.value / max) * 100),
          }),
        ),
        h("span", { class: "bar-value" }, fmtNumber(r.value)),
      ),
    ),
  );
}

/**
 * Stacked columns per time bucket: `buckets` of `{ bucketStart, topic, count }`, `series` the topics to colour (others
 * are summed as "other"). Returns the chart and its legend.
 */
export function stackedColumns({ buckets, since, until, bucketMs, series }) {
  const n = Math.max(1, Math.ceil((until - since) / bucketMs));
  const hasOther = buckets.some((b) => !series.includes(b.topic));
  const keys = hasOther ? [...series, "other"] : [...series];
  const grid = Array.from({ length: n }, () => new Map());
  for (const b of buckets) {
    const i = Math.floor((b.bucketStart - since) / bucketMs);
    if (i < 0 || i >= n) continue;
    const key = series.includes(b.topic) ? b.topic : "other";
    grid[i].set(key, (grid[i].get(key) ?? 0) + b.count);
  }
  const totals = grid.map((m) => [...m.values()].reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const W = 600;
  const H = 120;
  const colW = W / n;
  // Stretched to the panel's width; labels live in HTML below so they are not stretched with it.
  const svg = s("svg", {
    class: "columns",
    viewBox: `0 0 ${W} ${H}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": `Received per minute, peak ${max}`,
  });
  grid.forEach((m, i) => {
    let y = H;
    keys.forEach((key, k) => {
      const v = m.get(key) ?? 0;
      if (v === 0) return;
      const hgt = (v / max) * H;
      y -= hgt;
      svg.append(
        s(
          "rect",
          {
            class: `series c${key === "other" ? "x" : k}`,
            x: i * colW + 0.5,
            y,
            width: Math.max(1, colW - 1),
            height: hgt,
          },
          s("title", {}, `${fmtTime(since + i * bucketMs)}  ${key}: ${v}`),
        ),
      );
    });
  });
  const axis = h(
    "div",
    { class: "axis" },
    h("span", {}, fmtTime(since).slice(11, 16)),
    h("span", {}, `peak ${fmtNumber(max)}/min`),
    h("span", {}, "now"),
  );
  const legend = h(
    "ul",
    { class: "legend" },
    keys.map((key, k) => h("li", {}, h("span", { class: `swatch c${key === "other" ? "x" : k}` }), key)),
  );
  return h("div", { class: "chart" }, svg, axis, legend);
}

/** A used/max gauge as one bar; `max` null shows only the number. */
export function gauge(used, max) {
  const pct = max ? Math.min(100, (used / max) * 100) : 0;
  return h(
    "div",
    { class: "gauge" },
    s(
      "svg",
      { class: "bar", viewBox: "0 0 100 10", preserveAspectRatio: "none", "aria-hidden": "true" },
      s("rect", { class: "bar-track", x: 0, y: 0, width: 100, height: 10 }),
      s("rect", { class: `bar-fill ${pct > 85 ? "s-dead" : "s-done"}`, x: 0, y: 0, width: pct, height: 10 }),
    ),
    h("span", { class: "bar-value" }, max ? `${fmtNumber(used)} / ${fmtNumber(max)}` : `${fmtNumber(used)} used`),
  );
}
