// intercom-bridge dashboard: the view of a route that does not exist (#/dead-letters, a mistyped link): says so,
// suggests the view that was probably meant and lists every view. Plain ES module, no build step.
import { h } from "../lib.js";

/** The dashboard's views: route, title and other words that lead to it. */
const VIEWS = [
  ["overview", "Overview", ["home", "stats", "status"]],
  ["notifications", "Notifications", ["notification", "inbound", "webhooks", "received", "deliveries"]],
  ["dead", "Dead letters", ["dead-letters", "deadletters", "dead-letter", "dlq", "failed"]],
  ["outbound", "Outbound events", ["events", "outbox", "data-events"]],
];

/** Fills `root` with "no such page" for `section`. */
export function notFound(root, section) {
  const key = section.toLowerCase();
  const guess = VIEWS.find(
    ([route, , words]) => words.includes(key) || key.startsWith(route) || route.startsWith(key.slice(0, 4)),
  );
  root.replaceChildren(
    h("h1", {}, "Page not found"),
    h(
      "section",
      { class: "panel wide not-found" },
      h("p", {}, "The dashboard has no page ", h("code", {}, `#/${section}`), "."),
      guess ? h("p", { class: "suggestion" }, "Did you mean ", h("a", { href: `#/${guess[0]}` }, guess[1]), "?") : null,
      h("p", { class: "muted" }, "Its pages:"),
      h(
        "ul",
        {},
        VIEWS.map(([route, title]) => h("li", {}, h("a", { href: `#/${route}` }, title))),
      ),
    ),
  );
}
