// intercom-bridge dashboard: the Outbound events view — Data Events sent to Intercom with Intercom's error and a
// retry button for retrying and failed ones, under cards for sending (off, sending, paused) and the rate budget.
// Plain ES module, no build step.
import { api, fmtNumber, fmtTime, gauge, h, stateChip } from "../lib.js";
import { outboundCard } from "./overview.js";
import { card, replayDelivery } from "./shell.js";
import { filterForm, filtersOf, pagedTable } from "./tables.js";

// Outbound events use the names the CLI and GET /api/events use; each maps to the colour of its queue state.
const EVENT_STATES = ["pending", "sending", "retrying", "sent", "failed"];
const EVENT_STATE_CLASS = { pending: "pending", sending: "running", retrying: "failed", sent: "done", failed: "dead" };

/** Fills `root` with the sending cards, the filter form and the paged table of events. */
export async function outbound(root, params) {
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
  // Off: this service sends nothing, so a rate budget would mean nothing; the card says how to turn it on.
  status.replaceChildren(
    ...(out.state === "off"
      ? [outboundCard("Sending", out)]
      : [
          card("Sent", fmtNumber(out.sent)),
          card("Retrying / failed", `${fmtNumber(out.failed)} / ${fmtNumber(out.dead)}`, out.dead > 0 ? "bad" : ""),
          outboundCard("Sending", out),
          card("Rate budget", "", "", gauge(out.budget.used, out.budget.maxPerWindow)),
        ]),
  );
}
