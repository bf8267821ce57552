// intercom-bridge dashboard: hash router and the five views. Each view is a function (root, params) that fills
// `root` and registers its timers with onLeave(); navigating away runs them. See lib.js for the helpers.
import {
  ApiError,
  api,
  barList,
  fmtDuration,
  fmtNumber,
  fmtTime,
  fromLocalInput,
  gauge,
  h,
  openStream,
  prettyJson,
  session,
  stackedColumns,
  stateChip,
  toLocalInput,
  topicMatches,
} from "./lib.js";

const STATES = ["pending", "running", "failed", "done", "dead"];
// Outbound events use the names the CLI and GET /api/events use; each maps to the colour of its queue state.
const EVENT_STATES = ["pending", "sending", "retrying", "sent", "failed"];
const EVENT_STATE_CLASS = { pending: "pending", sending: "running", retrying: "failed", sent: "done", failed: "dead" };
// The server's topic rule (parse-filter.ts): an exact name, "group.*" or "*".
const TOPIC_RE = /^(?:\*|[^\s*\p{Cc}]+(?:\.\*)?)$/u;
const REPLAYABLE = ["dead", "failed", "done"];
const main = document.getElementById("app");
const live = new EventTarget();
let leaving = [];
let renderSeq = 0;
let stopStream = null;

const onLeave = (fn) => leaving.push(fn);

/** Runs `fn` on each live "received" event until the view is left. */
function onReceived(fn) {
  const listener = (e) => fn(e.detail);
  live.addEventListener("received", listener);
  onLeave(() => live.removeEventListener("received", listener));
}

/** Shows a short message in the toast area. */
function toast(message, kind = "ok") {
  const el = document.getElementById("toast");
  el.replaceChildren(h("span", { class: `toast ${kind}` }, message));
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.replaceChildren(), 6000);
}

const errorBox = (err) =>
  h(
    "p",
    { class: "error", role: "alert" },
    err instanceof ApiError ? `${err.message} (${err.code})` : String(err?.message ?? err),
  );

// ---- routing -------------------------------------------------------------------------------------------------------

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params: Object.fromEntries(new URLSearchParams(query)) };
}

/** Navigates to `path` with `params` (empty values dropped). */
function go(path, params = {}) {
  const qs = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const hash = `#/${path}${[...qs].length ? `?${qs}` : ""}`;
  if (location.hash === hash) void render();
  else location.hash = hash;
}

async function render() {
  for (const fn of leaving.splice(0)) fn();
  const seq = ++renderSeq;
  if (!session.token) return showSignIn();
  document.getElementById("top").hidden = false;
  ensureStream();
  const { parts, params } = parseHash();
  const [section = "overview", id] = parts;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.route === section);
  const views = { overview, notifications: id ? notificationDetail : notifications, dead: deadLetters, outbound };
  const view = views[section] ?? overview;
  const root = h("div", { class: "view", "data-view": view === notificationDetail ? "detail" : section });
  main.replaceChildren(root);
  try {
    await view(root, params, id);
  } catch (err) {
    if (seq !== renderSeq || (err instanceof ApiError && err.status === 401)) return;
    // Keep the filter form so a bad filter can be fixed where it was typed.
    const form = root.querySelector("form.filters");
    if (form) form.after(errorBox(err));
    else root.replaceChildren(errorBox(err));
  }
}

function ensureStream() {
  if (stopStream) return;
  const badge = document.getElementById("live");
  stopStream = openStream(
    (event, data) => {
      if (event === "received") live.dispatchEvent(new CustomEvent("received", { detail: data }));
    },
    (status) => {
      badge.dataset.status = status;
      badge.textContent = status === "live" ? "live" : status === "unauthorized" ? "refused" : "reconnecting…";
    },
  );
}

function signOut(message) {
  session.token = null;
  stopStream?.();
  stopStream = null;
  showSignIn(message);
}

// Whether the page before this one was a view of the dashboard, so "back" links can use the browser's history (and
// land on the same filters and page) instead of a fixed route.
let hasAppHistory = false;
window.addEventListener("hashchange", () => {
  hasAppHistory = true;
  void render();
});
window.addEventListener("ib:unauthorized", () => {
  if (session.token) signOut("The token was refused. Sign in again.");
});
document.getElementById("signout").addEventListener("click", () => signOut("Signed out."));

// ---- sign-in -------------------------------------------------------------------------------------------------------

function showSignIn(message) {
  document.getElementById("top").hidden = true;
  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "current-password",
    required: true,
    autofocus: true,
  });
  const status = h("p", { class: message?.includes("refused") ? "error" : "muted", role: "alert" }, message ?? "");
  const form = h(
    "form",
    { class: "signin", "data-view": "signin" },
    h("h1", {}, "intercom-bridge"),
    h("label", { for: "token" }, "Admin token"),
    input,
    h(
      "p",
      { class: "hint" },
      h("code", {}, "INTERCOM_BRIDGE_ADMIN_TOKEN"),
      ", or the token ",
      h("code", {}, "serve"),
      " printed at first start. Kept in this tab only.",
    ),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    status,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    try {
      await api("/api/session", { token });
      session.token = token;
      if (!location.hash || location.hash === "#/") location.hash = "#/overview";
      void render();
    } catch (err) {
      status.className = "error";
      status.textContent =
        err instanceof ApiError && err.status === 401 ? "That token was refused." : `Could not sign in: ${err.message}`;
    }
  });
  main.replaceChildren(form);
  input.focus();
}

// ---- shared pieces -------------------------------------------------------------------------------------------------

/** A filter form whose submit navigates to `path` with the form's values. `fields`: [name, label, type, options]. */
function filterForm(path, params, fields) {
  const controls = fields.map(([name, label, type, options]) => {
    const value = type === "datetime-local" ? toLocalInput(Number(params[name]) || 0) : (params[name] ?? "");
    const control =
      type === "select"
        ? h(
            "select",
            { name },
            h("option", { value: "" }, "any"),
            options.map((o) => h("option", { value: o, selected: o === value }, o)),
          )
        : h("input", { name, type, value, placeholder: options ?? "" });
    return h("label", {}, h("span", {}, label), control);
  });
  const form = h(
    "form",
    { class: "filters" },
    controls,
    h("button", { type: "submit", class: "primary" }, "Apply"),
    h("button", { type: "reset" }, "Clear"),
  );
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  form.append(problem);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const values = {};
    for (const [name, , type] of fields) {
      const v = form.elements[name].value.trim();
      values[name] = type === "datetime-local" ? fromLocalInput(v) : v;
    }
    // The server refuses these too; saying so here keeps the table and the typed values.
    const message =
      values.topic && !TOPIC_RE.test(values.topic)
        ? `${fields.find(([n]) => n === "topic")[1]}: an exact name, a "group.*" pattern or "*"`
        : values.since && values.until && Number(values.since) >= Number(values.until)
          ? '"From" must be before "To"'
          : "";
    problem.textContent = message;
    problem.hidden = message === "";
    if (!message) go(path, values);
  });
  form.addEventListener("reset", (e) => {
    e.preventDefault();
    go(path);
  });
  return form;
}

/**
 * A table paged with the API's opaque cursors: a stack of cursors gives "Newer" without offsets, so every page is
 * one indexed store query however many records exist.
 */
function pagedTable({ head, fetchPage, row, empty, pages }) {
  // The cursors of the pages before this one live in the hash (`pages`), so "back" from a detail returns to this page.
  let stack = [];
  try {
    const parsed = JSON.parse(pages ?? "[]");
    if (Array.isArray(parsed) && parsed.every((c) => typeof c === "string")) stack = parsed;
  } catch {
    // a hand-edited hash: start at the first page
  }
  const remember = () => {
    const [path, query = ""] = location.hash.split("?");
    const qs = new URLSearchParams(query);
    if (stack.length > 0) qs.set("pages", JSON.stringify(stack));
    else qs.delete("pages");
    history.replaceState(history.state, "", `${path}${[...qs].length ? `?${qs}` : ""}`);
  };
  const tbody = h("tbody");
  const info = h("span", { class: "muted" });
  const newer = h("button", { type: "button", disabled: true }, "← Newer");
  const older = h("button", { type: "button", disabled: true }, "Older →");
  let next = null;
  const load = async () => {
    const page = await fetchPage(stack.at(-1));
    next = page.nextCursor;
    tbody.replaceChildren(...page.items.map(row));
    if (page.items.length === 0) tbody.append(h("tr", {}, h("td", { colspan: head.length, class: "muted" }, empty)));
    newer.disabled = stack.length === 0;
    older.disabled = next === null;
    info.textContent = `Page ${stack.length + 1}`;
    return page;
  };
  newer.addEventListener("click", () => {
    stack.pop();
    remember();
    void load().catch((err) => toast(err.message, "bad"));
  });
  older.addEventListener("click", () => {
    if (next === null) return;
    stack.push(next);
    remember();
    void load().catch((err) => toast(err.message, "bad"));
  });
  const node = h(
    "div",
    { class: "paged" },
    tableWrap(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          head.map((c) => h("th", {}, c)),
        ),
      ),
      tbody,
    ),
    h("div", { class: "pager" }, newer, info, older),
  );
  return { node, tbody, load, isFirstPage: () => stack.length === 0 };
}

/** A table in a wrapper that scrolls sideways on narrow screens instead of widening the page. */
const tableWrap = (...args) => h("div", { class: "table-wrap" }, h(...args));

/** The view's filters without the page stack, for the API. */
const filtersOf = (params) => {
  const { pages: _pages, ...rest } = params;
  return rest;
};

/** Asks in a modal; resolves true when confirmed. */
function confirmDialog(question, note, okLabel) {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm" },
      h(
        "form",
        { method: "dialog" },
        h("p", {}, question),
        h("p", { class: "muted" }, note),
        h(
          "menu",
          {},
          h("button", { value: "cancel" }, "Cancel"),
          h("button", { value: "ok", class: "danger" }, okLabel),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "ok");
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

async function replayDelivery(id) {
  try {
    await api(`/api/deliveries/${encodeURIComponent(id)}/replay`, { method: "POST" });
    toast("Delivery requeued.");
    return true;
  } catch (err) {
    toast(err.message, "bad");
    return false;
  }
}

const errorText = (e) => (e ? `${e.code ? `${e.code}: ` : ""}${e.message}` : "");

// ---- Overview ------------------------------------------------------------------------------------------------------

async function overview(root) {
  const load = async () => {
    const o = await api("/api/overview");
    const inbound = o.counts.inbound;
    const receivedTotal = o.received.topics.reduce((a, t) => a + t.total, 0);
    const out = o.outbound;
    root.replaceChildren(
      h(
        "div",
        { class: "cards" },
        card(
          "Dead letters",
          fmtNumber(o.dead.total),
          o.dead.total > 0 ? "bad" : "",
          h("a", { href: "#/dead" }, "review"),
        ),
        card(
          "Oldest pending (inbound)",
          fmtDuration(o.oldestPendingAgeMs.inbound),
          (o.oldestPendingAgeMs.inbound ?? 0) > 60_000 ? "warn" : "",
        ),
        card(
          "Oldest pending (outbound)",
          fmtDuration(o.oldestPendingAgeMs.outbox),
          (o.oldestPendingAgeMs.outbox ?? 0) > 60_000 ? "warn" : "",
        ),
        card("Received, last hour", fmtNumber(receivedTotal)),
        outboundCard("Outbound", out),
        o.retention ? retentionCard(o.retention) : null,
      ),
      h(
        "section",
        { class: "panel wide" },
        h("h2", {}, "Received per minute by topic"),
        stackedColumns({ ...o.received, series: o.received.topics.slice(0, 5).map((t) => t.topic) }),
      ),
      h(
        "section",
        { class: "panel", "data-panel": "inbound-states" },
        h("h2", {}, "Inbound deliveries by state"),
        barList(STATES.map((s) => ({ label: s, value: inbound[s], cls: `s-${s}` }))),
      ),
      h(
        "section",
        { class: "panel", "data-panel": "outbound" },
        h("h2", {}, "Outbound events"),
        barList([
          { label: "sent", value: out.sent, cls: "s-done" },
          { label: "pending", value: out.pending, cls: "s-pending" },
          { label: "retrying", value: out.failed, cls: "s-failed" },
          { label: "failed", value: out.dead, cls: "s-dead" },
        ]),
        h("h3", {}, "Rate budget this window"),
        gauge(out.budget.used, out.budget.maxPerWindow),
      ),
    );
  };
  await load();
  const timer = setInterval(() => void load().catch(() => {}), 5000);
  onLeave(() => clearInterval(timer));
  let pending = null;
  onReceived(() => {
    pending ??= setTimeout(() => {
      pending = null;
      void load().catch(() => {});
    }, 500);
  });
  onLeave(() => clearTimeout(pending));
}

/** Outbound sending: off (no access token), sending, or paused with its reason and how to resume. */
function outboundCard(title, out) {
  let el;
  if (out.state === "off") {
    el = card(
      title,
      "off",
      "",
      h("span", {}, "set ", h("code", {}, "INTERCOM_ACCESS_TOKEN"), " to send events to Intercom"),
    );
  } else if (out.paused) {
    const reason =
      out.state === "paused-unauthorized" || out.pauseReason === "unauthorized"
        ? "Intercom refused the access token (401/403): fix INTERCOM_ACCESS_TOKEN"
        : out.state === "paused-rate-limited" || out.pauseReason === "rate-limited"
          ? "Intercom's rate limit (429): resumes by itself"
          : (out.pauseReason ?? "paused");
    el = card(
      title,
      "paused",
      "warn",
      h("span", {}, `${reason}; until ${fmtTime(out.pausedUntil)}`),
      h("span", {}, "Resume now: ", h("code", {}, "intercom-bridge events resume")),
    );
  } else {
    el = card(title, "sending");
  }
  el.dataset.card = "outbound";
  return el;
}

/** How long notifications are kept (`serve --retention`) and how many retention deleted since the service started. */
function retentionCard(r) {
  const el = card(
    "History kept",
    r.retentionMs === null ? "forever" : fmtDuration(r.retentionMs),
    "",
    `${fmtNumber(r.purgedSinceStart)} purged since start`,
  );
  el.dataset.card = "retention";
  return el;
}

function card(title, value, kind = "", ...extra) {
  return h(
    "div",
    { class: `card ${kind}` },
    h("div", { class: "card-title" }, title),
    h("div", { class: "card-value" }, value),
    h("div", { class: "card-extra" }, extra),
  );
}

// ---- Notifications -------------------------------------------------------------------------------------------------

function notificationRow(n, isNew = false) {
  return h(
    "tr",
    { "data-id": n.id, "data-topic": n.topic, class: isNew ? "new" : "" },
    h("td", {}, fmtTime(n.receivedAt)),
    h("td", {}, h("a", { href: `#/notifications/${encodeURIComponent(n.id)}` }, n.topic)),
    h("td", { class: "mono" }, n.notificationId ?? "—"),
    h("td", { class: "mono" }, n.itemId ?? "—"),
    h(
      "td",
      {},
      n.deliveries.length === 0
        ? h("span", { class: "muted" }, "no handler")
        : n.deliveries.map((d) =>
            h(
              "span",
              { class: "delivery", title: errorText(d.lastError) },
              `${d.target} `,
              stateChip(d.state),
              ` ${d.attempts}/${d.maxAttempts}`,
            ),
          ),
    ),
  );
}

async function notifications(root, params) {
  const filters = filterForm("notifications", params, [
    ["state", "State", "select", STATES],
    ["topic", "Topic", "text", "conversation.* or exact"],
    ["q", "Search", "search", "notification or item id"],
    ["since", "From", "datetime-local"],
    ["until", "To", "datetime-local"],
  ]);
  const note = h("p", { class: "muted" });
  const table = pagedTable({
    head: ["Received", "Topic", "Notification id", "Item id", "Deliveries (state, attempts)"],
    empty: "No notifications match.",
    fetchPage: (cursor) => api("/api/notifications", { query: { ...filtersOf(params), cursor } }),
    row: (n) => notificationRow(n),
    pages: params.pages,
  });
  root.replaceChildren(h("h1", {}, "Notifications"), filters, note, table.node);
  const page = await table.load();
  note.textContent =
    page.match === "itemId"
      ? `Matched by item id "${params.q}".`
      : page.match === "notificationId"
        ? "Matched by notification id."
        : params.q
          ? `No notification id or item id is "${params.q}".`
          : "";
  // New notifications join the first page at once; a quiet reload shortly after shows how their deliveries went.
  let settle = null;
  onLeave(() => clearTimeout(settle));
  onReceived((n) => {
    if (
      !table.isFirstPage() ||
      !matchesFilters(n, params) ||
      table.tbody.querySelector(`tr[data-id="${CSS.escape(n.id)}"]`)
    )
      return;
    table.tbody.querySelector("td[colspan]")?.parentElement.remove();
    table.tbody.prepend(notificationRow(n, true));
    clearTimeout(settle);
    settle = setTimeout(() => {
      if (table.isFirstPage()) void table.load().catch(() => {});
    }, 2500);
  });
}

function matchesFilters(n, p) {
  if (p.topic && !topicMatches(p.topic, n.topic)) return false;
  if (p.state && !n.deliveries.some((d) => d.state === p.state)) return false;
  if (p.q && n.notificationId !== p.q && n.itemId !== p.q) return false;
  if (p.since && n.receivedAt < Number(p.since)) return false;
  if (p.until && n.receivedAt >= Number(p.until)) return false;
  return true;
}

// ---- Detail --------------------------------------------------------------------------------------------------------

async function notificationDetail(root, _params, id) {
  let timer = null;
  onLeave(() => clearTimeout(timer));
  const load = async () => {
    const d = await api(`/api/notifications/${encodeURIComponent(id)}`);
    const r = d.record;
    const replayable = d.deliveries.filter((x) => REPLAYABLE.includes(x.state)).length;
    const replayAll = h(
      "button",
      { type: "button", class: "primary", disabled: replayable === 0 },
      `Replay all deliveries (${replayable})`,
    );
    const done = d.deliveries.filter((x) => x.state === "done").length;
    replayAll.addEventListener("click", async () => {
      const ok = await confirmDialog(
        `Replay ${replayable} ${replayable === 1 ? "delivery" : "deliveries"} of this notification?`,
        done > 0
          ? `${done} of them already succeeded (done): their handlers run again. Attempts are reset.`
          : "Each is requeued with its attempts reset; handlers run again.",
        `Replay ${replayable}`,
      );
      if (!ok) return;
      try {
        const res = await api(`/api/notifications/${encodeURIComponent(id)}/replay`, { method: "POST" });
        toast(`Requeued ${res.requeued} deliveries.`);
      } catch (err) {
        toast(err.message, "bad");
      }
      void load();
    });
    root.replaceChildren(
      h("p", {}, backLink()),
      h("h1", {}, r.topic),
      h(
        "dl",
        { class: "facts" },
        fact("Record id", r.id),
        fact("Notification id", r.notificationId ?? "—"),
        fact("Item id", r.itemId ?? "—"),
        fact("App id", r.appId ?? "—"),
        fact("Created (Intercom)", fmtTime(r.createdAt * 1000)),
        fact("Received", fmtTime(r.receivedAt)),
      ),
      h(
        "section",
        { class: "panel wide" },
        h("div", { class: "panel-head" }, h("h2", {}, "Deliveries"), replayAll),
        d.deliveries.length
          ? d.deliveries.map(deliveryBlock(load))
          : h("p", { class: "muted" }, "No handler matched this topic."),
      ),
      h(
        "section",
        { class: "panel" },
        h("h2", {}, "Headers"),
        Object.keys(d.headers).length
          ? h(
              "table",
              { class: "kv" },
              h(
                "tbody",
                {},
                Object.entries(d.headers).map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", { class: "mono" }, v))),
              ),
            )
          : h("p", { class: "muted" }, "No headers kept."),
      ),
      h(
        "section",
        { class: "panel wide" },
        h("h2", {}, "Payload"),
        d.rawBody === null ? prettyJson(d.payload) : h("pre", { class: "json" }, d.rawBody),
      ),
    );
    // Follow deliveries that are still moving (a replay, a retry) until they settle.
    if (d.deliveries.some((x) => x.state === "pending" || x.state === "running" || x.state === "failed")) {
      clearTimeout(timer);
      timer = setTimeout(() => void load().catch(() => {}), 1000);
    }
  };
  await load();
}

/** "← Notifications": back to the list as it was (filters, page) when we came from it, else to the plain list. */
function backLink() {
  const link = h("a", { href: "#/notifications" }, "← Notifications");
  link.addEventListener("click", (e) => {
    if (!hasAppHistory) return;
    e.preventDefault();
    history.back();
  });
  return link;
}

const fact = (k, v) => [h("dt", {}, k), h("dd", { class: "mono" }, v)];

function deliveryBlock(reload) {
  return (d) => {
    const replay = h("button", { type: "button", disabled: !REPLAYABLE.includes(d.state) }, "Replay");
    replay.addEventListener("click", async () => {
      if (await replayDelivery(d.id)) void reload();
    });
    return h(
      "div",
      { class: "delivery-block", "data-delivery-id": d.id, "data-state": d.state },
      h(
        "div",
        { class: "delivery-head" },
        h("strong", {}, d.target),
        stateChip(d.state),
        h("span", { class: "muted" }, `attempts ${d.attempts}/${d.maxAttempts}`),
        d.runAt ? h("span", { class: "muted" }, `next run ${fmtTime(d.runAt)}`) : null,
        replay,
      ),
      d.lastError ? h("p", { class: "error" }, errorText(d.lastError)) : null,
      d.history.length
        ? h(
            "table",
            { class: "attempts" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["#", "Outcome", "Started", "Took", "Error"].map((c) => h("th", {}, c)),
              ),
            ),
            h(
              "tbody",
              {},
              d.history.map((a) =>
                h(
                  "tr",
                  {},
                  h("td", {}, a.attempt),
                  h("td", {}, a.outcome),
                  h("td", {}, fmtTime(a.startedAt)),
                  h("td", {}, `${a.finishedAt - a.startedAt} ms`),
                  h("td", { class: "mono" }, errorText(a.error)),
                ),
              ),
            ),
          )
        : h("p", { class: "muted" }, "Not attempted yet."),
    );
  };
}

// ---- Dead letters --------------------------------------------------------------------------------------------------

async function deadLetters(root, params) {
  const filter = {};
  for (const k of ["queue", "topic", "target", "since", "until"]) if (params[k]) filter[k] = params[k];
  const filters = filterForm("dead", params, [
    ["queue", "Queue", "select", ["inbound", "outbox"]],
    ["topic", "Topic / event", "text", "contact.* or exact"],
    ["target", "Handler", "text", "handler name"],
    ["since", "From", "datetime-local"],
    ["until", "To", "datetime-local"],
  ]);
  const summary = h("p", { class: "summary" });
  const replayAll = h("button", { type: "button", class: "danger", disabled: true }, "Replay…");
  const table = pagedTable({
    head: ["Received", "Queue", "Topic", "Handler", "Notification / item", "Attempts", "Last error", ""],
    empty: "No dead deliveries match.",
    pages: params.pages,
    fetchPage: (cursor) => api("/api/dead-letters", { query: { ...filter, cursor } }),
    row: (d) => {
      const replay = h("button", { type: "button" }, "Replay");
      replay.addEventListener("click", async () => {
        if (await replayDelivery(d.id)) void refresh();
      });
      const href =
        d.queue === "inbound"
          ? `#/notifications/${encodeURIComponent(d.recordId)}`
          : `#/outbound?q=${encodeURIComponent(d.itemId ?? "")}`;
      return h(
        "tr",
        { "data-id": d.id },
        h("td", {}, fmtTime(d.receivedAt)),
        h("td", {}, d.queue),
        h("td", {}, h("a", { href }, d.topic)),
        h("td", {}, d.target),
        h("td", { class: "mono" }, d.notificationId ?? d.itemId ?? "—"),
        h("td", {}, `${d.attempts}/${d.maxAttempts}`),
        h("td", { class: "mono" }, errorText(d.lastError)),
        h("td", {}, replay),
      );
    },
  });
  let count = 0;
  const refresh = async () => {
    count = (await api("/api/dead-letters/count", { query: filter })).count;
    summary.textContent = `${fmtNumber(count)} dead ${count === 1 ? "delivery matches" : "deliveries match"} this filter.`;
    replayAll.textContent = `Replay ${fmtNumber(count)}…`;
    replayAll.disabled = count === 0;
    await table.load();
  };
  replayAll.addEventListener("click", () => confirmReplay(count, filter, refresh));
  root.replaceChildren(
    h("h1", {}, "Dead letters"),
    filters,
    h("div", { class: "panel-head" }, summary, replayAll),
    table.node,
  );
  await refresh();
}

/** Asks "Replay N deliveries?" in a modal; the server refuses (409) if the filter no longer selects N. */
async function confirmReplay(count, filter, refresh) {
  const ok = await confirmDialog(
    `Replay ${fmtNumber(count)} ${count === 1 ? "delivery" : "deliveries"}?`,
    "Each is requeued with its attempts reset; handlers run again.",
    `Replay ${fmtNumber(count)}`,
  );
  if (!ok) return;
  try {
    const res = await api("/api/dead-letters/replay", { method: "POST", body: { filter, expectedCount: count } });
    toast(`Requeued ${fmtNumber(res.requeued)} deliveries.`);
  } catch (err) {
    toast(err.message, "bad");
  }
  await refresh().catch((err) => toast(err.message, "bad"));
}

// ---- Outbound ------------------------------------------------------------------------------------------------------

async function outbound(root, params) {
  const filters = filterForm("outbound", params, [
    ["state", "State", "select", EVENT_STATES],
    ["topic", "Event name", "text", "exact name"],
    ["q", "Contact", "search", "contact identifier"],
    ["since", "From", "datetime-local"],
    ["until", "To", "datetime-local"],
  ]);
  const status = h("div", { class: "cards" });
  const table = pagedTable({
    head: ["Created", "Event", "Contact", "State", "Attempts", "Intercom error", "Message", ""],
    empty: "No outbound events match.",
    fetchPage: (cursor) => api("/api/outbound", { query: { ...filtersOf(params), cursor } }),
    pages: params.pages,
    row: (e) => {
      // Retrying a sent event would send it twice; only given-up and retrying ones get the button.
      const retry = e.state === "failed" || e.state === "retrying" ? h("button", { type: "button" }, "Retry") : null;
      retry?.addEventListener("click", async () => {
        if (await replayDelivery(e.id)) void table.load();
      });
      return h(
        "tr",
        { "data-id": e.id },
        h("td", {}, fmtTime(e.createdAt * 1000)),
        h("td", {}, e.eventName),
        h("td", { class: "mono" }, e.itemId ?? "—"),
        h("td", {}, stateChip(e.state, EVENT_STATE_CLASS[e.state])),
        h("td", {}, `${e.attempts}/${e.maxAttempts}`),
        h("td", { class: "mono" }, e.error?.reason ?? ""),
        h(
          "td",
          {},
          e.error?.message ?? "",
          e.waiting ? h("div", { class: "muted" }, "Waiting: sending is paused.") : null,
        ),
        h("td", {}, retry),
      );
    },
  });
  root.replaceChildren(h("h1", {}, "Outbound events"), status, filters, table.node);
  const [o] = await Promise.all([api("/api/overview", { query: { windowMinutes: 1 } }), table.load()]);
  const out = o.outbound;
  status.replaceChildren(
    card("Sent", fmtNumber(out.sent)),
    card("Retrying / failed", `${fmtNumber(out.failed)} / ${fmtNumber(out.dead)}`, out.dead > 0 ? "bad" : ""),
    outboundCard("Sending", out),
    card("Rate budget", "", "", gauge(out.budget.used, out.budget.maxPerWindow)),
  );
}

void render();
