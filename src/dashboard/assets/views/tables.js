// intercom-bridge dashboard: the filter form and the cursor-paged table the list views (notifications, dead letters,
// outbound events) are made of. Plain ES module, no build step; imports lib.js and shell.js.
import { fromLocalInput, h, toLocalInput } from "../lib.js";
import { go, toast } from "./shell.js";

// The server's topic rule (parse-filter.ts): an exact name, "group.*" or "*".
const TOPIC_RE = /^(?:\*|[^\s*\p{Cc}]+(?:\.\*)?)$/u;

/** A filter form whose submit navigates to `path` with the form's values. `fields`: [name, label, type, options]. */
export function filterForm(path, params, fields) {
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
export function pagedTable({ head, fetchPage, row, empty, pages }) {
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
export const tableWrap = (...args) => h("div", { class: "table-wrap" }, h(...args));

/** The view's filters without the page stack, for the API. */
export const filtersOf = (params) => {
  const { pages: _pages, ...rest } = params;
  return rest;
};
