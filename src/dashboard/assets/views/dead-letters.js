// intercom-bridge dashboard: the Dead letters view — dead deliveries of both queues by filter, each with a replay
// button, and "Replay N…" for everything the filter selects after a confirmation naming N. Plain ES module.
import { api, fmtNumber, fmtTime, h } from "../lib.js";
import { confirmDialog, errorText, replayDelivery, toast } from "./shell.js";
import { filterForm, pagedTable } from "./tables.js";

/** Fills `root` with the filter form, the count, the bulk replay button and the paged table. */
export async function deadLetters(root, params) {
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
