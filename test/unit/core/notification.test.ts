import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PayloadError, type PayloadErrorReason } from "../../../src/core/errors.js";
import {
  dedupeKeyOf,
  itemIdOf,
  MAX_CREATED_AT,
  MAX_NOTIFICATION_DEPTH,
  parseNotification,
} from "../../../src/core/notification.js";
import { isKnownTopic, type IntercomNotification } from "../../../src/topics/index.js";

const FIXTURE_DIR = new URL("../../fixtures/intercom/", import.meta.url);
const FIXTURES = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith(".json"))
  .sort();
const raw = (name: string): Buffer => readFileSync(new URL(name, FIXTURE_DIR));

function parsed(body: string | Uint8Array): IntercomNotification<string> {
  const result = parseNotification(body);
  if (!result.ok) throw new Error(`expected ok, got ${result.error.reason}`);
  return result.notification;
}

const envelope = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: "notification_event",
  app_id: "app1",
  data: { type: "notification_event_data", item: { type: "contact", id: "c1" } },
  id: "notif_1",
  topic: "contact.user.created",
  created_at: 1700000000,
  delivery_attempts: 1,
  delivery_status: "pending",
  first_sent_at: 1700000000,
  ...over,
});

describe("parseNotification", () => {
  it("has the captured fixtures to test", () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(60);
  });

  it.each(FIXTURES)("parses %s and its topic is catalogued", (name) => {
    const bytes = raw(name);
    const expected = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
    const n = parsed(bytes);
    expect(n.topic).toBe(expected["topic"]);
    expect(isKnownTopic(n.topic)).toBe(true);
    expect(n.app_id).toBe(expected["app_id"]);
    expect(n.data.item).toEqual((expected["data"] as { item: unknown }).item);
    // Unknown extra envelope fields are kept, not stripped.
    expect(Object.keys(n).sort()).toEqual(Object.keys(expected).sort());
  });

  it("gives the same result for a Buffer, a Uint8Array and a string", () => {
    const bytes = raw("ticket_created.json");
    const a = parsed(bytes);
    expect(parsed(new Uint8Array(bytes))).toEqual(a);
    expect(parsed(bytes.toString("utf8"))).toEqual(a);
  });

  it("accepts ping with a null id and null delivery_status", () => {
    const n = parsed(raw("ping.json"));
    expect(n.id).toBeNull();
    expect(n.topic).toBe("ping");
    expect(n.delivery_status).toBeNull();
  });

  it("normalises a missing id to null", () => {
    const { id: _id, ...rest } = envelope();
    expect(parsed(JSON.stringify(rest)).id).toBeNull();
  });

  it("accepts unknown topics and unknown item types", () => {
    const n = parsed(
      JSON.stringify(
        envelope({ topic: "brand_new.topic", data: { type: "notification_event_data", item: { type: "never_seen" } } }),
      ),
    );
    expect(n.topic).toBe("brand_new.topic");
    expect(isKnownTopic(n.topic)).toBe(false);
  });

  it("accepts a notification without app_id or data.type: captures always have them, Intercom's docs do not", () => {
    const n = parsed(JSON.stringify(envelope({ app_id: undefined, data: { item: { type: "contact", id: "c1" } } })));
    expect(n.app_id).toBeUndefined();
    expect(n.data.type).toBeUndefined();
    expect(dedupeKeyOf(n)).toBe("/notif_1");
  });

  it("accepts nesting up to MAX_NOTIFICATION_DEPTH and refuses deeper bodies without overflowing the stack", () => {
    const nest = (levels: number): string => {
      let inner = "1";
      for (let i = 0; i < levels; i++) inner = `{"a":${inner}}`;
      return inner;
    };
    // The envelope and data add two levels above the item.
    const body = (levels: number): string =>
      JSON.stringify(envelope({ data: { type: "notification_event_data", item: "ITEM" } })).replace(
        '"ITEM"',
        nest(levels),
      );
    expect(parseNotification(body(MAX_NOTIFICATION_DEPTH - 2)).ok).toBe(true);
    const tooDeep = parseNotification(body(MAX_NOTIFICATION_DEPTH - 1));
    expect(tooDeep.ok ? null : tooDeep.error.reason).toBe("too_deep");
    const huge = parseNotification(body(50_000));
    expect(huge.ok ? null : huge.error.reason).toBe("too_deep");
  });

  const failures: [string, string, PayloadErrorReason][] = [
    ["invalid JSON", "{not json", "invalid_json"],
    ["an empty body", "", "invalid_json"],
    ["a JSON array", "[1,2]", "not_an_object"],
    ["JSON null", "null", "not_an_object"],
    ["a JSON string", '"notification_event"', "not_an_object"],
    ["a wrong type", JSON.stringify(envelope({ type: "event" })), "not_a_notification"],
    ["no type", JSON.stringify(envelope({ type: undefined })), "not_a_notification"],
    ["a numeric id", JSON.stringify(envelope({ id: 42 })), "not_a_notification"],
    ["no topic", JSON.stringify(envelope({ topic: undefined })), "missing_topic"],
    ["an empty topic", JSON.stringify(envelope({ topic: "" })), "missing_topic"],
    ["a numeric topic", JSON.stringify(envelope({ topic: 7 })), "missing_topic"],
    ["no data", JSON.stringify(envelope({ data: undefined })), "missing_item"],
    ["data without item", JSON.stringify(envelope({ data: { type: "notification_event_data" } })), "missing_item"],
    ["data null", JSON.stringify(envelope({ data: null })), "missing_item"],
    ["data an array", JSON.stringify(envelope({ data: [{ item: {} }] })), "missing_item"],
    [
      "a null item",
      JSON.stringify(envelope({ data: { type: "notification_event_data", item: null } })),
      "missing_item",
    ],
    [
      "a string item",
      JSON.stringify(envelope({ data: { type: "notification_event_data", item: "x" } })),
      "missing_item",
    ],
    [
      "an array item",
      JSON.stringify(envelope({ data: { type: "notification_event_data", item: [] } })),
      "missing_item",
    ],
    ["a numeric data.type", JSON.stringify(envelope({ data: { type: 5, item: {} } })), "not_a_notification"],
    ["an empty app_id", JSON.stringify(envelope({ app_id: "" })), "missing_app_id"],
    ["a numeric app_id", JSON.stringify(envelope({ app_id: 5 })), "missing_app_id"],
    ["no created_at", JSON.stringify(envelope({ created_at: undefined })), "invalid_created_at"],
    ["a string created_at", JSON.stringify(envelope({ created_at: "1700000000" })), "invalid_created_at"],
    ["a null created_at", JSON.stringify(envelope({ created_at: null })), "invalid_created_at"],
    // Numbers JSON allows but no date can hold: accepted, they made `inspect` fail later with "Invalid time value".
    ["a created_at of 1e20", JSON.stringify(envelope({ created_at: 1e20 })), "invalid_created_at"],
    [
      "a 23-digit created_at",
      JSON.stringify(envelope({ created_at: 0 })).replace('"created_at":0', '"created_at":99999999999999999999999'),
      "invalid_created_at",
    ],
    ["a created_at past year 9999", JSON.stringify(envelope({ created_at: MAX_CREATED_AT + 1 })), "invalid_created_at"],
    ["a fractional created_at", JSON.stringify(envelope({ created_at: 1700000000.5 })), "invalid_created_at"],
    ["a negative created_at", JSON.stringify(envelope({ created_at: -1 })), "invalid_created_at"],
  ];
  it.each(failures)("fails with a PayloadError for %s", (_name, body, reason) => {
    const result = parseNotification(body);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(PayloadError);
    expect(result.error.reason).toBe(reason);
    expect(result.error.code).toBe("IB_ERR_PAYLOAD_INVALID");
  });

  it("accepts the last second of year 9999, which every date tool can still show", () => {
    const result = parseNotification(JSON.stringify(envelope({ created_at: MAX_CREATED_AT })));
    expect(result.ok).toBe(true);
    expect(new Date(MAX_CREATED_AT * 1000).toISOString()).toBe("9999-12-31T23:59:59.000Z");
  });

  it("never throws, whatever the bytes", () => {
    for (const body of [
      "\u0000",
      "{",
      "1e999",
      "{}",
      '{"type":"notification_event","topic":"x","data":{"item":1},"created_at":1e999}',
      '{"type":"notification_event","topic":"x","app_id":"a","data":{"type":"notification_event_data","item":{}}}',
    ]) {
      expect(() => parseNotification(body)).not.toThrow();
    }
  });
});

describe("dedupeKeyOf", () => {
  it("is app_id/id when the notification has an id", () => {
    expect(dedupeKeyOf(parsed(JSON.stringify(envelope())))).toBe("app1/notif_1");
  });

  it("is scoped by app_id: the same id from two workspaces gives two keys", () => {
    const a = dedupeKeyOf(parsed(JSON.stringify(envelope({ app_id: "a" }))));
    const b = dedupeKeyOf(parsed(JSON.stringify(envelope({ app_id: "b" }))));
    expect(a).not.toBe(b);
  });

  describe("fallback key (null id, as on ping)", () => {
    const ping = JSON.parse(raw("ping.json").toString("utf8")) as Record<string, unknown>;
    const keyOf = (over: Record<string, unknown>): string => dedupeKeyOf(parsed(JSON.stringify({ ...ping, ...over })));
    const base = keyOf({});

    it("uses the fallback form for the captured ping", () => {
      expect(base).toMatch(new RegExp(`^${String(ping["app_id"])}/~[0-9a-f]{32}$`));
      expect(dedupeKeyOf(parsed(raw("ping.json")))).toBe(base);
    });

    it("ignores Intercom's retry bookkeeping", () => {
      expect(keyOf({ delivery_attempts: 2 })).toBe(base);
      expect(keyOf({ delivery_status: "retry" })).toBe(base);
      expect(keyOf({ first_sent_at: 1 })).toBe(base);
      expect(keyOf({ delivered_at: 12345 })).toBe(base);
    });

    it("does not depend on the key order of data", () => {
      const data = ping["data"] as { type: string; item: Record<string, unknown> };
      const reordered = { item: { message: data.item["message"], type: data.item["type"] }, type: data.type };
      expect(keyOf({ data: reordered })).toBe(base);
    });

    it("changes when data, topic, created_at or app_id change", () => {
      expect(keyOf({ data: { type: "notification_event_data", item: { type: "ping", message: "other" } } })).not.toBe(
        base,
      );
      expect(keyOf({ topic: "ping2" })).not.toBe(base);
      expect(keyOf({ created_at: 1 })).not.toBe(base);
      expect(keyOf({ app_id: "other" })).not.toBe(base);
    });

    it("uses the fallback for an empty-string id too", () => {
      expect(keyOf({ id: "" })).toBe(base);
    });
  });
});

describe("itemIdOf", () => {
  const item = (value: unknown): string | null =>
    value !== null && typeof value === "object"
      ? itemIdOf(parsed(JSON.stringify(envelope({ data: { type: "notification_event_data", item: value } }))))
      : // parseNotification refuses these; itemIdOf must still not throw on a hand-built notification.
        itemIdOf({ ...parsed(JSON.stringify(envelope())), data: { type: "notification_event_data", item: value } });

  it.each([
    ["data.item.id (string)", { id: "c1" }, "c1"],
    ["data.item.id (number, admins)", { id: 42 }, "42"],
    ["conversation_id (conversation.deleted)", { type: "conversation", conversation_id: "99" }, "99"],
    ["a nested ticket (ticket_ticket_part)", { ticket: { id: "t1" }, ticket_part: { id: "p1" } }, "t1"],
    ["a nested conversation", { conversation: { id: 7 }, contact: { id: "c" } }, "7"],
    ["a nested contact", { contact: { id: "c2" } }, "c2"],
    ["a nested legacy user (user_tag)", { type: "user_tag", user: { id: "u1" }, tag: { id: "t" } }, "u1"],
    ["a nested company ({company, contact}: company first)", { company: { id: "co" } }, "co"],
    ["no id at all", { type: "ping", message: "hi" }, null],
    ["a null item", null, null],
    ["a non-object item", "text", null],
  ])("reads %s", (_name, value, expected) => {
    expect(item(value)).toBe(expected);
  });

  it("prefers ticket over contact for the ticket.contact.attached capture", () => {
    const n = parsed(raw("ticket_contact_attached.json"));
    const ticket = (n.data.item as { ticket: { id: number } }).ticket;
    expect(itemIdOf(n)).toBe(String(ticket.id));
  });

  it("reads the id of every fixture that has one somewhere", () => {
    for (const name of FIXTURES.filter((f) => f !== "ping.json"))
      expect(itemIdOf(parsed(raw(name))), name).not.toBeNull();
  });
});
