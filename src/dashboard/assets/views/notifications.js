// intercom-bridge dashboard: the Notifications view — received notifications, newest first, filtered and searched
// by notification or item id; new ones join the first page live. Plain ES module, no build step.
import { api, fmtTime, h, stateChip, topicMatches } from "../lib.js";
import { STATES, errorText, onLeave, onReceived, syntheticBadge } from "./shell.js";
import { filterForm, filtersOf, pagedTable } from "./tables.js";

function notificationRow(n, isNew = false) {
  return h(
    "tr",
    { "data-id": n.id, "data-topic": n.topic, class: isNew ? "new" : "" },
    h("td", {}, fmtTime(n.receivedAt)),
    h(
      "td",
      {},
      h("a", { href: `#/notifications/${encodeURIComponent(n.id)}` }, n.topic),
      n.synthetic ? syntheticBadge() : null,
    ),
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

/** Fills `root` with the filter form and the paged table of notifications. */
export async function notifications(root, params) {
  const filters = filterForm("notifications", params, [
    ["state", "State", "select", STATES],
    ["topic", "Topic", "text", "conversation.* or exact"],
    ["origin", "Origin", "select", ["synthetic"]],
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
  if (p.origin === "synthetic" && !n.synthetic) return false;
  if (p.state && !n.deliveries.some((d) => d.state === p.state)) return false;
  if (p.q && n.notificationId !== p.q && n.itemId !== p.q) return false;
  if (p.since && n.receivedAt < Number(p.since)) return false;
  if (p.until && n.receivedAt >= Number(p.until)) return false;
  return true;
}
