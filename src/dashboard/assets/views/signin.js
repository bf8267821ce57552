// intercom-bridge dashboard: the sign-in form. The admin token is checked with GET /api/session and kept in this
// tab's sessionStorage only. Plain ES module, no build step.
import { ApiError, api, h, session } from "../lib.js";

/** Replaces `main` with the sign-in form; `onSignedIn()` runs once a token is accepted. */
export function showSignIn(main, message, onSignedIn) {
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
      onSignedIn();
    } catch (err) {
      status.className = "error";
      status.textContent =
        err instanceof ApiError && err.status === 401 ? "That token was refused." : `Could not sign in: ${err.message}`;
    }
  });
  main.replaceChildren(form);
  input.focus();
}
