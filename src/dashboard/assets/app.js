// intercom-bridge dashboard: the entry module — the hash router, the live stream badge and sign-in/out. Each view
// lives in views/<name>.js as a function (root, params, id) that fills `root` and registers its timers with
// onLeave() (views/shell.js); navigating away runs them. Unknown routes get the not-found view. lib.js holds the
// DOM, API and chart helpers. Plain ES modules loaded by the browser, no build step.
import { ApiError, openStream, session } from "./lib.js";
import { deadLetters } from "./views/dead-letters.js";
import { notificationDetail } from "./views/detail.js";
import { notFound } from "./views/not-found.js";
import { notifications } from "./views/notifications.js";
import { outbound } from "./views/outbound.js";
import { overview } from "./views/overview.js";
import { errorBox, leaveView, live, navigation } from "./views/shell.js";
import { showSignIn } from "./views/signin.js";

const main = document.getElementById("app");
let renderSeq = 0;
let stopStream = null;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params: Object.fromEntries(new URLSearchParams(query)) };
}

/** The view of a route and the name `data-view` carries (the tests and the CSS select views by it). */
function viewFor(section, id) {
  switch (section) {
    case "overview":
      return [overview, "overview"];
    case "notifications":
      return id ? [notificationDetail, "detail"] : [notifications, "notifications"];
    case "dead":
      return [deadLetters, "dead"];
    case "outbound":
      return [outbound, "outbound"];
    default:
      return [(root) => notFound(root, section), "not-found"];
  }
}

async function render() {
  leaveView();
  const seq = ++renderSeq;
  if (!session.token) return showSignIn(main, undefined, () => void render());
  document.getElementById("top").hidden = false;
  ensureStream();
  const { parts, params } = parseHash();
  const [section = "overview", id] = parts;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.route === section);
  const [view, name] = viewFor(section, id);
  const root = document.createElement("div");
  root.className = "view";
  root.dataset.view = name;
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
  leaveView();
  showSignIn(main, message, () => void render());
}

window.addEventListener("hashchange", () => {
  navigation.hasAppHistory = true;
  void render();
});
// go() to the hash already shown (the same filters submitted again) asks for a fresh render.
window.addEventListener("ib:render", () => void render());
window.addEventListener("ib:unauthorized", () => {
  if (session.token) signOut("The token was refused. Sign in again.");
});
document.getElementById("signout").addEventListener("click", () => signOut("Signed out."));

void render();
