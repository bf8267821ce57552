// intercom-bridge dashboard: the Overview view — dead letters, oldest pending ages, what was received in the last
// hour (and how much of it matched no handler), outbound sending, retention, and the charts. Refreshes every 5 s and
// shortly after each live notification. Plain ES module, no build step.
import { api, barList, fmtDuration, fmtNumber, fmtTime, gauge, h, stackedColumns } from "../lib.js";
import { STATES, card, onLeave, onReceived } from "./shell.js";

/** Fills `root` with the overview and keeps it fresh until the view is left. */
export async function overview(root) {
  const load = async () => {
    const o = await api("/api/overview");
    const inbound = o.counts.inbound;
    const receivedTotal = o.received.topics.reduce((a, t) => a + t.total, 0);
    const out = o.outbound;
    const isOutboundOff = out.state === "off";
    const hasOutboundEvents = out.sent + out.pending + out.failed + out.dead > 0;
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
        isOutboundOff && o.oldestPendingAgeMs.outbox === null
          ? null
          : card(
              "Oldest pending (outbound)",
              fmtDuration(o.oldestPendingAgeMs.outbox),
              (o.oldestPendingAgeMs.outbox ?? 0) > 60_000 ? "warn" : "",
            ),
        card("Received, last hour", fmtNumber(receivedTotal)),
        o.received.unmatched ? unmatchedCard(o.received.unmatched, receivedTotal) : null,
        outboundCard("Outbound", out),
        o.retention ? retentionCard(o.retention) : null,
        o.reconcile ? reconcileCard(o.reconcile) : null,
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
      // With outbound off, its card says so; the panel stays only for events another process queued or sent.
      ...(isOutboundOff && !hasOutboundEvents ? [] : [outboundPanel(out, isOutboundOff)]),
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

/** Outbound events by state, and the rate budget of this window while sending is on. */
function outboundPanel(out, isOutboundOff) {
  return h(
    "section",
    { class: "panel", "data-panel": "outbound" },
    h("h2", {}, "Outbound events"),
    barList([
      { label: "sent", value: out.sent, cls: "s-done" },
      { label: "pending", value: out.pending, cls: "s-pending" },
      { label: "retrying", value: out.failed, cls: "s-failed" },
      { label: "failed", value: out.dead, cls: "s-dead" },
    ]),
    isOutboundOff ? null : [h("h3", {}, "Rate budget this window"), gauge(out.budget.used, out.budget.maxPerWindow)],
  );
}

/**
 * Notifications of the last hour that no handler or forward matched (stored, never delivered), with the topics
 * that went nowhere, most first.
 */
function unmatchedCard(unmatched, receivedTotal) {
  const shown = unmatched.topics.slice(0, 3);
  const more = unmatched.topics.length - shown.length;
  const el = card(
    "Matched no handler, last hour",
    fmtNumber(unmatched.total),
    unmatched.total > 0 ? "warn" : "",
    unmatched.total > 0 ? `${fmtNumber(unmatched.total)} of ${fmtNumber(receivedTotal)} received` : null,
    h(
      "ul",
      { class: "unmatched-topics" },
      shown.map((t) =>
        h(
          "li",
          { "data-topic": t.topic },
          h("a", { href: `#/notifications?topic=${encodeURIComponent(t.topic)}` }, t.topic),
          ` ${fmtNumber(t.total)}`,
        ),
      ),
      more > 0 ? h("li", { class: "muted" }, `and ${more} more ${more === 1 ? "topic" : "topics"}`) : null,
    ),
  );
  el.dataset.card = "unmatched";
  return el;
}

/** Outbound sending: off (no access token), sending, or paused with its reason and how to resume. */
export function outboundCard(title, out) {
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

/**
 * Gap recovery after downtime: what this start found (how long no instance was alive) and what reconciling the gap
 * synthesized. Shown only when there was a gap or a run.
 */
function reconcileCard(r) {
  if (r.state === "off" || r.state === "first-start" || r.state === "no-gap") return null;
  const counts = r.report ? Object.values(r.report.counts) : [];
  const synthesized = counts.reduce((n, c) => n + c.synthesized, 0);
  const scanned = counts.reduce((n, c) => n + c.scanned, 0);
  const gap = r.gapMs === null ? "" : `down ${fmtDuration(r.gapMs)}`;
  const [value, kind, extra] =
    r.state === "running"
      ? ["recovering…", "warn", gap]
      : r.state === "done"
        ? [`${fmtNumber(synthesized)} recovered`, "", `${gap}; ${fmtNumber(scanned)} changes checked`]
        : r.state === "failed"
          ? ["failed", "bad", r.error ?? ""]
          : r.state === "no-token"
            ? ["not recovered", "warn", `${gap}; set INTERCOM_ACCESS_TOKEN or run intercom-bridge reconcile`]
            : ["by another instance", "", gap];
  const el = card("Gap recovery", value, kind, extra);
  el.dataset.card = "reconcile";
  return el;
}
