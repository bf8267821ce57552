// intercom-bridge dashboard: what the router (app.js) and every view share — the view's lifecycle (timers and
// listeners dropped on leaving it), live "received" notices, navigation, the toast, the confirm dialog, cards and the
// replay of one delivery. Plain ES module, no build step; imports only lib.js.
import { ApiError, api, h } from "../lib.js";

/** Delivery states in lifecycle order. */
export const STATES = ["pending", "running", "failed", "done", "dead"];
/** States a delivery can be replayed from. */
export const REPLAYABLE = ["dead", "failed", "done"];

let leaving = [];

/** Runs `fn` when the current view is left (clear its timers, drop its listeners). */
export const onLeave = (fn) => leaving.push(fn);

/** Leaves the current view: runs everything registered with {@link onLeave}. */
export function leaveView() {
  for (const fn of leaving.splice(0)) fn();
}

/** Where app.js dispatches each live `received` notification (a notification row). */
export const live = new EventTarget();

/** Runs `fn` on each live "received" event until the view is left. */
export function onReceived(fn) {
  const listener = (e) => fn(e.detail);
  live.addEventListener("received", listener);
  onLeave(() => live.removeEventListener("received", listener));
}

/**
 * Whether the page before this one was a view of the dashboard, so "back" links can use the browser's history (and
 * land on the same filters and page) instead of a fixed route. app.js sets it.
 */
export const navigation = { hasAppHistory: false };

/** Navigates to `path` with `params` (empty values dropped); the same hash again re-renders the view. */
export function go(path, params = {}) {
  const qs = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const hash = `#/${path}${[...qs].length ? `?${qs}` : ""}`;
  if (location.hash === hash) window.dispatchEvent(new Event("ib:render"));
  else location.hash = hash;
}

/** Shows a short message in the toast area. */
export function toast(message, kind = "ok") {
  const el = document.getElementById("toast");
  el.replaceChildren(h("span", { class: `toast ${kind}` }, message));
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.replaceChildren(), 6000);
}

/** An API or other error as a paragraph (role alert), with the API's error code. */
export const errorBox = (err) =>
  h(
    "p",
    { class: "error", role: "alert" },
    err instanceof ApiError ? `${err.message} (${err.code})` : String(err?.message ?? err),
  );

/** `CODE: message` of a recorded delivery error, or "". */
export const errorText = (e) => (e ? `${e.code ? `${e.code}: ` : ""}${e.message}` : "");

/** Asks in a modal; resolves true when confirmed. */
export function confirmDialog(question, note, okLabel) {
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

/** Requeues one delivery; toasts the outcome and resolves true when it was requeued. */
export async function replayDelivery(id) {
  try {
    await api(`/api/deliveries/${encodeURIComponent(id)}/replay`, { method: "POST" });
    toast("Delivery requeued.");
    return true;
  } catch (err) {
    toast(err.message, "bad");
    return false;
  }
}

/** A card of the overview: title, big value, optional kind (`bad`, `warn`) and extra lines. */
export function card(title, value, kind = "", ...extra) {
  return h(
    "div",
    { class: `card ${kind}` },
    h("div", { class: "card-title" }, title),
    h("div", { class: "card-value" }, value),
    h("div", { class: "card-extra" }, extra),
  );
}

/** The badge of a synthetic `reconcile.*` notification: stored by gap recovery, not delivered by a webhook. */
export const syntheticBadge = () =>
  h(
    "span",
    {
      class: "badge synthetic",
      title: "Synthetic: stored by reconcile from Intercom's REST API for a change no webhook delivered",
    },
    "synthetic",
  );
