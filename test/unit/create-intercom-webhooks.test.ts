import { describe, expect, it, vi } from "vitest";
import {
  ConfigError,
  createIntercomWebhooks,
  createMemoryStore,
  MemoryStore,
  MEMORY_STORE_WARNING,
  sign,
  type IntercomWebhooksOptions,
} from "../../src/index.js";

const now = Math.floor(Date.now() / 1000);
const body = JSON.stringify({
  type: "notification_event",
  id: "notif_1",
  topic: "ticket.created",
  app_id: "app",
  created_at: now,
  data: { type: "notification_event_data", item: { type: "ticket", id: "7" } },
});

describe("createIntercomWebhooks", () => {
  describe("secrets", () => {
    it.each([
      ["neither secret nor secrets", {}, /needs `secret`/],
      [
        "both secret and secrets",
        { secret: "a", secrets: ["b"] },
        /either `secret` or `secrets` to createIntercomWebhooks, not both/,
      ],
      ["an empty secret", { secret: "" }, /non-empty string/],
      ["a non-string secret", { secret: 42 }, /non-empty string/],
      ["an empty secrets list", { secrets: [] }, /at least one/],
      ["an empty string in secrets", { secrets: ["ok", ""] }, /secrets\[1\]/],
      ["secrets of the wrong type", { secrets: { a: 1 } }, /string or an array/],
    ])("throws a ConfigError for %s", (_name, options, message) => {
      const create = (): unknown => createIntercomWebhooks(options as unknown as IntercomWebhooksOptions);
      expect(create).toThrow(ConfigError);
      expect(create).toThrow(message);
    });

    it("throws a ConfigError without an options object", () => {
      expect(() => createIntercomWebhooks(undefined as unknown as IntercomWebhooksOptions)).toThrow(ConfigError);
    });

    it("verifies with a single secret", async () => {
      const webhooks = createIntercomWebhooks({ secret: "s1" });
      await expect(webhooks.receive({ body, headers: { "x-hub-signature": sign(body, "s1") } })).resolves.toMatchObject(
        {
          status: "accepted",
          topic: "ticket.created",
        },
      );
      await expect(
        webhooks.receive({ body, headers: { "x-hub-signature": sign(body, "other") } }),
      ).rejects.toMatchObject({
        code: "IB_ERR_SIGNATURE_INVALID",
      });
      await webhooks.close();
    });

    it("verifies with any secret of a rotation list", async () => {
      const webhooks = createIntercomWebhooks({ secrets: ["old", "new"] });
      await expect(
        webhooks.receive({ body, headers: { "x-hub-signature": sign(body, "new") } }),
      ).resolves.toMatchObject({
        status: "accepted",
      });
      await expect(
        webhooks.receive({ body, headers: { "x-hub-signature": sign(body, "old") } }),
      ).resolves.toMatchObject({
        status: "duplicate",
      });
      await webhooks.close();
    });
  });

  describe("store", () => {
    it("defaults to a memory store and warns through the given logger that it is not durable", () => {
      const warn = vi.fn();
      const webhooks = createIntercomWebhooks({ secret: "s", log: { warn } });
      expect(webhooks.store).toBeInstanceOf(MemoryStore);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![1]).toMatch(/in-memory store: notifications are lost when the process exits/);
    });

    it("without a logger, emits the not-durable warning as a process warning, once per process", async () => {
      vi.resetModules(); // a fresh module: earlier tests in this file have emitted it already
      const fresh = await import("../../src/create-intercom-webhooks.js");
      const emit = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
      try {
        fresh.createIntercomWebhooks({ secret: "s" });
        fresh.createIntercomWebhooks({ secret: "s" });
        expect(emit.mock.calls).toEqual([[MEMORY_STORE_WARNING, { code: "IB_MEMORY_STORE" }]]);
      } finally {
        emit.mockRestore();
      }
    });

    it("uses the given store and does not warn", async () => {
      const warn = vi.fn();
      const store = createMemoryStore();
      const webhooks = createIntercomWebhooks({ secret: "s", store, log: { warn } });
      expect(webhooks.store).toBe(store);
      expect(warn).not.toHaveBeenCalled();
      await webhooks.receive({ body, headers: { "x-hub-signature": sign(body, "s") } });
      const page = await store.listRecords({ queue: "inbound" });
      expect(page.items.map((r) => r.record.notificationId)).toEqual(["notif_1"]);
    });
  });

  it("passes receiver options through", async () => {
    const webhooks = createIntercomWebhooks({ secret: "s", maxBodyBytes: 10 });
    expect(webhooks.settings.maxBodyBytes).toBe(10);
    await expect(webhooks.receive({ body, headers: { "x-hub-signature": sign(body, "s") } })).rejects.toMatchObject({
      code: "IB_ERR_BODY_TOO_LARGE",
    });
    expect(() => createIntercomWebhooks({ secret: "s", maxBodyBytes: 0 })).toThrow(ConfigError);
  });

  it("routes to typed handlers and runs them after start()", async () => {
    const webhooks = createIntercomWebhooks({ secret: "s" });
    const seen: string[] = [];
    webhooks.on("ticket.created", (n) => {
      seen.push(`${n.topic}:${String(n.data.item.id)}`);
    });
    webhooks.start();
    await webhooks.receive({ body, headers: { "x-hub-signature": sign(body, "s") } });
    await vi.waitFor(() => expect(seen).toEqual(["ticket.created:7"]), { timeout: 5_000 });
    await webhooks.close();
  });

  it("accepts an unknown topic, warns once per topic, and hands it to onAny only", async () => {
    const warn = vi.fn();
    const webhooks = createIntercomWebhooks({ secret: "s", log: { warn } });
    const any: string[] = [];
    const typed: string[] = [];
    webhooks.onAny((n) => {
      any.push(`${n.topic}:${String(n.id)}`);
    });
    webhooks.on("*", (n) => {
      typed.push(n.topic);
    });
    webhooks.on("conversation.*", (n) => {
      typed.push(n.topic);
    });
    webhooks.start();
    for (const id of ["notif_u1", "notif_u2"]) {
      const unknown = body.replace('"ticket.created"', '"conversation.brand_new"').replace('"notif_1"', `"${id}"`);
      await expect(
        webhooks.receive({ body: unknown, headers: { "x-hub-signature": sign(unknown, "s") } }),
      ).resolves.toMatchObject({ status: "accepted", topic: "conversation.brand_new" });
    }
    await vi.waitFor(
      () => expect(any).toEqual(["conversation.brand_new:notif_u1", "conversation.brand_new:notif_u2"]),
      {
        timeout: 5_000,
      },
    );
    expect(typed).toEqual([]);
    const unknownWarnings = warn.mock.calls.filter(
      (c) => (c[0] as { topic?: string }).topic === "conversation.brand_new",
    );
    expect(unknownWarnings).toHaveLength(1);
    await webhooks.close();
  });
});
