/**
 * The dashboard in real headless Chromium (Debian's `chromium` package, driven by playwright-core), against the real
 * service (`createService`, the composition root `serve` uses) with the dashboard plugin and a memory store, fed by the
 * real `simulate` command. Screenshots of each view go to test-output/screenshots/.
 *
 * Skipped when /usr/bin/chromium is missing, unless REQUIRE_BROWSER=1 (CI), where a missing browser fails the run.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createProgram } from "../../src/cli/main.js";
import { IntercomApiError, UnrecoverableError } from "../../src/core/errors.js";
import { dashboardPlugin, registerDashboard } from "../../src/dashboard/api.js";
import { createService, type Service } from "../../src/service/create-service.js";
import { createMemoryStore } from "../../src/store/memory/memory-store.js";
import type { Processor } from "../../src/store/store.js";

const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);
const REQUIRED = process.env["REQUIRE_BROWSER"] === "1";
const TOKEN = "browser-test-admin-token";
const SECRET = "browser-test-client-secret";
const SCREENSHOTS = join(process.cwd(), "test-output", "screenshots");
const TITLE =
  HAS_CHROMIUM || REQUIRED
    ? "dashboard in headless Chromium"
    : `dashboard in headless Chromium (SKIPPED: ${CHROMIUM} is missing; install it with \`apt-get install -y chromium\`, or set REQUIRE_BROWSER=1 to fail instead)`;

describe.skipIf(!HAS_CHROMIUM && !REQUIRED)(TITLE, () => {
  let browser: Browser;
  let page: Page;
  let service: Service;
  let baseUrl: string;
  let dataDir: string;
  let outboxWorker: Processor | undefined;
  /** The `crm-sync` handler dead-letters everything while this is true. */
  let isCrmDown = true;
  /** Uncaught errors and console errors in the page (a refused sign-in logs its 401 too, so those are filtered). */
  const pageErrors: string[] = [];

  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };

  /** `intercom-bridge simulate`, in process, against the running service. */
  const simulate = async (topic: string, count = 1): Promise<void> => {
    const program = createProgram();
    program.exitOverride();
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
    try {
      await program.parseAsync(
        [
          "simulate",
          "--url",
          `${baseUrl}/webhooks/intercom`,
          "--secret",
          SECRET,
          "--topic",
          topic,
          "--count",
          String(count),
          "--json",
        ],
        { from: "user" },
      );
    } finally {
      spy.mockRestore();
    }
    expect(JSON.parse(out.join(""))).toMatchObject({ sent: count, statuses: { "200": count } });
  };

  beforeAll(async () => {
    if (!HAS_CHROMIUM)
      throw new Error(`REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: install it with \`apt-get install -y chromium\``);
    mkdirSync(SCREENSHOTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), "ib-dashboard-"));
    const store = createMemoryStore();
    service = await createService({
      secrets: [SECRET],
      store,
      dataDir,
      port: 0,
      adminToken: TOKEN,
      logLevel: "error", // handler failures are the point here; keep them out of the test output
      maxAttempts: 1,
      plugins: [
        async (ctx) => {
          // Contacts and conversations go to the CRM; other topics (company.*) match no handler.
          ctx.receiver.router.register("crm-sync", ["contact.*", "conversation.*"], function syncToCrm() {
            if (isCrmDown) throw new UnrecoverableError("CRM answered 503");
          });
          await registerDashboard(ctx.app, {
            store: ctx.store,
            adminToken: ctx.adminToken,
            events: ctx.receiver,
            routes: ctx.receiver.router,
            retention: () => ctx.retention(),
          });
        },
      ],
    });
    baseUrl = (await service.listen()).replace(/\/$/, "");
    // One outbound event that Intercom refused, for the outbound view.
    await store.enqueue({
      dedupeKey: "outbound-1",
      dedupeTtlMs: 60_000,
      record: {
        queue: "outbox",
        topic: "order-placed",
        body: '{"event_name":"order-placed","user_id":"user_42","created_at":1700000000}',
        appId: null,
        notificationId: null,
        itemId: "user_42",
        createdAt: 1_700_000_000,
      },
      deliveries: [
        {
          target: "intercom-events",
          retry: { maxAttempts: 1, backoff: { type: "fixed", delayMs: 10 } },
          orderingKey: null,
        },
      ],
    });
    outboxWorker = store.process(
      "outbox",
      // What the outbox throws for a 404 (outbound/outbox.ts): Intercom's answer in the message, the API error as cause.
      () =>
        Promise.reject(
          new UnrecoverableError("Intercom 404 not_found: User Not Found (request req_1)", {
            cause: new IntercomApiError(404, "User Not Found", { intercomCode: "not_found" }),
          }),
        ),
      { concurrency: 1, leaseMs: 5_000, pollMs: 20 },
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") pageErrors.push(msg.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await outboxWorker?.close();
    await service?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses a wrong token", async () => {
    await page.goto(`${baseUrl}/dashboard`);
    await page.fill("#token", "not-the-token");
    await page.click("button[type=submit]");
    await page.getByText("That token was refused.").waitFor();
    expect(await page.isVisible("#nav")).toBe(false);
    const api = await page.evaluate(
      async () => (await fetch("/api/overview", { headers: { authorization: "Bearer nope" } })).status,
    );
    expect(api).toBe(401);
    await shot("01-sign-in-refused");
  });

  it("signs in and shows the overview", async () => {
    await page.fill("#token", TOKEN);
    await page.click("button[type=submit]");
    await page.locator('[data-view="overview"] .card').first().waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("intercom-bridge.adminToken"))).toBe(TOKEN);
    await page.locator("#live[data-status=live]").waitFor();
    // This service has no retention: the overview says history is kept forever.
    expect(await page.locator('[data-card="retention"] .card-value').textContent()).toBe("forever");
    await shot("02-overview-empty");
  });

  it("shows a notification sent with simulate live, without a reload", async () => {
    await page.click('#nav a[data-route="notifications"]');
    await page.getByText("No notifications match.").waitFor();
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    await simulate("contact.user.created");
    const row = page.locator('tr[data-topic="contact.user.created"]');
    await row.waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await row.locator("td").nth(2).textContent()).toMatch(/^notif_/);
    await simulate("conversation.admin.closed", 2);
    await page.locator('tr[data-topic="conversation.admin.closed"]').nth(1).waitFor({ timeout: 10_000 });
    await shot("03-notifications-live");
  });

  it("filters by topic", async () => {
    await page.fill('form.filters input[name="topic"]', "contact.*");
    await page.click('form.filters button[type="submit"]');
    await page.waitForFunction(() => location.hash.includes("topic=contact.*"));
    await page.locator('tr[data-topic="contact.user.created"]').waitFor();
    const topics = await page
      .locator("tbody tr[data-topic]")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-topic")));
    expect(topics).toEqual(["contact.user.created"]);
    // A live notification outside the filter does not join the table; one inside does.
    await simulate("conversation.admin.closed");
    await simulate("contact.lead.created");
    await page.locator('tr[data-topic="contact.lead.created"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('tr[data-topic="conversation.admin.closed"]').count()).toBe(0);
    await shot("04-notifications-filtered");
  });

  it("refuses a bad filter under the form, keeping the form and what was typed", async () => {
    await page.fill('form.filters input[name="topic"]', "con*tact");
    await page.click('form.filters button[type="submit"]');
    const problem = page.locator("form.filters .error");
    await problem.waitFor();
    expect(await problem.textContent()).toContain('"group.*" pattern');
    expect(await page.inputValue('form.filters input[name="topic"]')).toBe("con*tact");
    expect(await page.locator('tr[data-topic="contact.user.created"]').count()).toBe(1);
    // A filter only the server can refuse shows its message under the form too, not instead of the view.
    await page.goto(`${baseUrl}/dashboard/#/notifications?limit=9999`);
    await page.locator("form.filters + p.error").waitFor();
    expect(await page.locator("form.filters + p.error").textContent()).toContain("IB_ERR_QUERY_INVALID");
    // The browser logs the refused request; that one is expected.
    const logged = pageErrors.findIndex((e) => e.includes("status of 400"));
    expect(logged).toBeGreaterThanOrEqual(0);
    pageErrors.splice(logged, 1);
  });

  it("pages with the pager and comes back to the same page from a detail", async () => {
    // 5 notifications so far; the hash passes limit through to the API, so 2 per page gives three pages.
    await page.goto(`${baseUrl}/dashboard/#/notifications?limit=2`);
    await page.locator("tbody tr[data-id]").nth(1).waitFor();
    const ids = () => page.locator("tbody tr[data-id]").evaluateAll((rows) => rows.map((r) => r.dataset["id"]));
    const first = await ids();
    expect(first).toHaveLength(2);
    await page.getByRole("button", { name: "Older →" }).click();
    await page.getByText("Page 2").waitFor();
    const second = await ids();
    expect(second).toHaveLength(2);
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    expect(await page.evaluate(() => location.hash)).toContain("pages=");
    await page.locator("tbody tr[data-id] a").first().click();
    await page.locator(".delivery-block").first().waitFor();
    await page.getByRole("link", { name: "← Notifications" }).click();
    await page.getByText("Page 2").waitFor();
    expect(await ids()).toEqual(second);
    await page.getByRole("button", { name: "Older →" }).click();
    await page.getByText("Page 3").waitFor();
    expect(await ids()).toHaveLength(1);
    expect(await page.getByRole("button", { name: "Older →" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "← Newer" }).click();
    await page.getByText("Page 2").waitFor();
    expect(await ids()).toEqual(second);
  });

  it("opens a dead delivery, replays it and sees it become done", async () => {
    await page.click('#nav a[data-route="dead"]');
    // 5 crm-sync deliveries of the simulated notifications and the refused outbound event.
    await page.getByText("6 dead deliveries match this filter.").waitFor({ timeout: 10_000 });
    await shot("05-dead-letters");
    await page.getByRole("link", { name: "contact.user.created", exact: true }).first().click();
    const delivery = page.locator(".delivery-block").filter({ hasText: "crm-sync" });
    await delivery.locator('[data-state="dead"]').first().waitFor();
    expect(await delivery.locator(".error").textContent()).toContain("CRM answered 503");
    // Where it was thrown: the stored stack (frames only, truncated) names the handler and this file.
    const stack = delivery.locator("details.stack pre");
    expect(await stack.isVisible()).toBe(true);
    expect(await stack.textContent()).toMatch(/^\s+at \S*syncToCrm.*dashboard\.test\.ts/);
    expect((await stack.textContent())!.split("\n").length).toBeLessThanOrEqual(11);
    expect(await page.locator("pre.json").textContent()).toContain('"topic": "contact.user.created"');
    await shot("06-detail-dead");
    isCrmDown = false;
    await delivery.getByRole("button", { name: "Replay" }).click();
    await page.locator('.delivery-block[data-state="done"]').waitFor({ timeout: 10_000 });
    expect(await page.locator(".delivery-block .attempts tbody tr").count()).toBe(2);
    await shot("07-detail-replayed-done");
  });

  it("bulk-replays dead letters by filter after a confirmation that states how many", async () => {
    await page.click('#nav a[data-route="dead"]');
    await page.fill('form.filters input[name="topic"]', "conversation.*");
    await page.click('form.filters button[type="submit"]');
    await page.getByText("3 dead deliveries match this filter.").waitFor();
    await page.getByRole("button", { name: "Replay 3…" }).click();
    const dialog = page.locator("dialog.confirm");
    await dialog.getByText("Replay 3 deliveries?").waitFor();
    await shot("08-dead-letters-confirm");
    await dialog.getByRole("button", { name: "Replay 3" }).click();
    await page.getByText("Requeued 3 deliveries.").waitFor();
    await page.getByText("0 dead deliveries match this filter.").waitFor({ timeout: 10_000 });
  });

  it("shows on the overview how many notifications matched no handler, and their topics", async () => {
    await simulate("company.created", 2);
    await simulate("company.updated");
    await page.click('#nav a[data-route="overview"]');
    const card = page.locator('[data-card="unmatched"]');
    // Overview answers are shared for 5 s and the page refreshes every 5 s: the new count shows within one refresh.
    await card.locator(".card-value", { hasText: /^3$/ }).waitFor({ timeout: 12_000 });
    expect(await card.textContent()).toContain("3 of 8 received");
    const topics = await card.locator("li[data-topic]").evaluateAll((items) => items.map((i) => i.textContent));
    expect(topics).toEqual(["company.created 2", "company.updated 1"]);
    await shot("08b-overview-unmatched");
    // Each topic links to its notifications, which show they went to no handler.
    await card.getByRole("link", { name: "company.created" }).click();
    await page.locator('tr[data-topic="company.created"]').nth(1).waitFor();
    expect(await page.locator('tr[data-topic="company.created"]').first().textContent()).toContain("no handler");
  });

  it("shows a not-found view for an unknown route, pointing at the view meant", async () => {
    await page.goto(`${baseUrl}/dashboard/#/dead-letters`);
    const view = page.locator('[data-view="not-found"]');
    await view.waitFor();
    expect(await view.locator("h1").textContent()).toBe("Page not found");
    expect(await view.textContent()).toContain("#/dead-letters");
    expect(await page.locator("#nav a.active").count()).toBe(0);
    await shot("08c-not-found");
    await view.getByRole("link", { name: "Dead letters" }).first().click();
    await page.locator('[data-view="dead"] form.filters').waitFor();
  });

  it("shows outbound events with Intercom's error and a retry button", async () => {
    await page.click('#nav a[data-route="outbound"]');
    const row = page.locator("tbody tr[data-id]").first();
    await row.waitFor();
    expect(await row.textContent()).toContain("order-placed");
    expect(await row.textContent()).toContain("404 not_found");
    expect(await row.textContent()).toContain("User Not Found");
    expect(await row.locator("[data-state]").getAttribute("data-state")).toBe("failed");
    await shot("09-outbound");
    const id = (await row.getAttribute("data-id"))!;
    expect((await service.store.getJob(id))?.history).toHaveLength(1);
    await row.getByRole("button", { name: "Retry" }).click();
    await page.getByText("Delivery requeued.").waitFor();
    // The stub Intercom refuses it again: a second attempt is recorded, and the row is failed again.
    await expect.poll(async () => (await service.store.getJob(id))?.history.length, { timeout: 10_000 }).toBe(2);
  });

  it("says outbound is off when no access token is set, and fits a 420 px screen", async () => {
    await page.click('#nav a[data-route="overview"]');
    const card = page.locator('[data-card="outbound"]');
    await card.waitFor();
    expect(await card.locator(".card-value").textContent()).toBe("off");
    expect(await card.textContent()).toContain("INTERCOM_ACCESS_TOKEN");
    // Off means no rate budget: neither the overview nor the outbound view shows one, only "off" and its hint.
    await page.locator('[data-panel="outbound"]').waitFor();
    expect(await page.locator('[data-view="overview"] .gauge').count()).toBe(0);
    expect(await page.getByText("Rate budget").count()).toBe(0);
    await page.click('#nav a[data-route="outbound"]');
    await page.locator('[data-view="outbound"] [data-card="outbound"]').waitFor();
    const cards = page.locator('[data-view="outbound"] .cards .card');
    expect(await cards.count()).toBe(1);
    expect(await cards.textContent()).toMatch(/^Sendingoffset INTERCOM_ACCESS_TOKEN to send events to Intercom$/);
    expect(await page.locator('[data-view="outbound"] .gauge').count()).toBe(0);
    await page.click('#nav a[data-route="overview"]');
    await page.setViewportSize({ width: 420, height: 900 });
    try {
      for (const route of ["overview", "notifications", "dead", "outbound"]) {
        await page.click(`#nav a[data-route="${route}"]`);
        await page.locator(`[data-view="${route}"] .card, [data-view="${route}"] form.filters`).first().waitFor();
        const widths = await page.evaluate(() => ({
          page: document.documentElement.scrollWidth,
          header: document.getElementById("top")!.scrollWidth,
        }));
        const wide = await page.evaluate(() =>
          Array.from(document.querySelectorAll("*"))
            .filter((e) => e.getBoundingClientRect().right > 421)
            .map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)
            .slice(0, 8),
        );
        expect(widths, `${route} ${wide.join(", ")}`).toEqual({ page: 420, header: 420 });
      }
      await shot("09b-narrow");
    } finally {
      await page.setViewportSize({ width: 1360, height: 900 });
    }
  });

  it("shows the overview with data, then signs out", async () => {
    await page.click('#nav a[data-route="overview"]');
    await page.locator('[data-panel="inbound-states"] .bar-row[data-label="done"]').waitFor();
    // Overview answers are shared for 5 s, and the page refreshes every 5 s: the chart fills within one refresh.
    await page.locator("svg.columns rect.series").first().waitFor({ timeout: 12_000 });
    await shot("10-overview");
    await page.click("#signout");
    await page.locator("#token").waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("intercom-bridge.adminToken"))).toBeNull();
    expect(pageErrors.filter((e) => !e.includes("401"))).toEqual([]);
  });

  it("works mounted under a path prefix: sign-in, overview and live feed", async () => {
    const app = Fastify({ logger: false });
    await app.register(dashboardPlugin, {
      store: service.store,
      adminToken: TOKEN,
      events: service.receiver,
      prefix: "/ops",
    });
    const base = (await app.listen({ port: 0, host: "127.0.0.1" })).replace(/\/$/, "");
    try {
      await page.goto(`${base}/ops/dashboard`);
      expect(new URL(page.url()).pathname).toBe("/ops/dashboard/");
      await page.fill("#token", TOKEN);
      await page.click("button[type=submit]");
      await page.locator('[data-panel="inbound-states"] .bar-row[data-label="done"]').waitFor();
      await page.locator("#live[data-status=live]").waitFor();
      await shot("11-overview-under-prefix");
      await page.click("#signout");
      await page.locator("#token").waitFor();
    } finally {
      await app.close();
    }
    expect(pageErrors.filter((e) => !e.includes("401"))).toEqual([]);
  });
});
