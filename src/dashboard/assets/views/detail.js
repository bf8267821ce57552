// intercom-bridge dashboard: the notification detail view (#/notifications/<record id>) — the record's facts, every
// delivery with its attempts, last error and where it was thrown (the stored stack, truncated), replay buttons, the
// kept headers and the payload. Follows deliveries that are still moving. Plain ES module, no build step.
import { api, fmtTime, h, prettyJson, stateChip } from "../lib.js";
import {
  REPLAYABLE,
  confirmDialog,
  errorText,
  navigation,
  onLeave,
  replayDelivery,
  syntheticBadge,
  toast,
} from "./shell.js";

/** Fills `root` with the notification `id` and refreshes it while a delivery is pending, running or retrying. */
export async function notificationDetail(root, _params, id) {
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
      h("h1", {}, r.topic, r.synthetic ? syntheticBadge() : null),
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
    if (!navigation.hasAppHistory) return;
    e.preventDefault();
    history.back();
  });
  return link;
}

const fact = (k, v) => [h("dt", {}, k), h("dd", { class: "mono" }, v)];

/** Where the last error was thrown: the frames the store kept (at most 10, truncated), open under the error. */
function stackOf(error) {
  if (!error?.stack) return null;
  return h(
    "details",
    { class: "stack", open: true },
    h("summary", {}, "Stack (truncated)"),
    h("pre", { class: "stack mono" }, error.stack),
  );
}

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
      stackOf(d.lastError),
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
                  h("td", { class: "mono", title: a.error?.stack ?? "" }, errorText(a.error)),
                ),
              ),
            ),
          )
        : h("p", { class: "muted" }, "Not attempted yet."),
    );
  };
}
