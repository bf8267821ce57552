import { describe, expect, it } from "vitest";
import { EventValidationError } from "../../../src/core/errors.js";
import { checkEvent, validateEvent, canonicalEventName } from "../../../src/outbound/validate-event.js";

const NOW_MS = 1_700_000_000_123;
const base = { event_name: "invited-friend", user_id: "42", created_at: 1_700_000_000 };

describe("validateEvent", () => {
  describe("accepts", () => {
    const valid: [string, Record<string, unknown>][] = [
      ["user_id only", { event_name: "invited-friend", user_id: "u1", created_at: 1 }],
      ["id only (Leads)", { event_name: "invited-friend", id: "5f1a", created_at: 1 }],
      ["email only", { event_name: "invited-friend", email: "a@b.co", created_at: 1 }],
      ["all identifiers", { ...base, id: "x", email: "a@b.co" }],
      ["string metadata of 255 chars", { ...base, metadata: { note: "x".repeat(255) } }],
      ["255 astral characters", { ...base, metadata: { note: "😀".repeat(255) } }],
      ["number metadata", { ...base, metadata: { load: 3.67, count: -2 } }],
      ["a *_date key with unix seconds", { ...base, metadata: { contact_date: 1_392_036_272 } }],
      ["a link", { ...base, metadata: { article: "https://example.org/ab1de.html" } }],
      ["a rich link", { ...base, metadata: { article: { url: "https://example.org/a", value: "the dude abides" } } }],
      ["a monetary amount", { ...base, metadata: { price: { amount: 34_999, currency: "eur" } } }],
      [
        "exactly 10 metadata keys",
        { ...base, metadata: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i])) },
      ],
      ["empty metadata", { ...base, metadata: {} }],
    ];
    it.each(valid)("%s", (_name, input) => {
      const r = checkEvent(input, { nowMs: NOW_MS });
      expect(r).toMatchObject({ ok: true });
      if (r.ok) expect(r.event).toMatchObject(input);
    });

    it("stamps created_at with the current time in seconds when absent", () => {
      const { event } = validateEvent({ event_name: "invited-friend", user_id: "1" }, { nowMs: NOW_MS });
      expect(event.created_at).toBe(1_700_000_000);
    });

    it("drops metadata keys whose value is undefined", () => {
      const { event } = validateEvent({ ...base, metadata: { a: "x", b: undefined } }, { nowMs: NOW_MS });
      expect(event.metadata).toEqual({ a: "x" });
    });
  });

  describe("rejects, naming the field", () => {
    const invalid: [string, unknown, string, RegExp][] = [
      ["a non-object", "hello", "(event)", /JSON object/],
      ["an array", [base], "(event)", /JSON object/],
      [
        "camelCase eventName",
        { eventName: "invited-friend", user_id: "1", created_at: 1 },
        "event_name",
        /snake_case "event_name"/,
      ],
      ["camelCase createdAt", { ...base, createdAt: 1 }, "created_at", /snake_case "created_at"/],
      [
        "camelCase userId",
        { event_name: "invited-friend", userId: "1", created_at: 1 },
        "user_id",
        /snake_case "user_id"/,
      ],
      ["camelCase intercomUserId", { ...base, intercomUserId: "1" }, "id", /snake_case "id"/],
      ["an unknown field", { ...base, name: "x" }, "name", /unknown field/],
      ["a missing event_name", { user_id: "1", created_at: 1 }, "event_name", /required/],
      ["an empty event_name", { ...base, event_name: "  " }, "event_name", /non-empty/],
      ["a non-string event_name", { ...base, event_name: 5 }, "event_name", /non-empty string/],
      [
        "created_at in milliseconds",
        { ...base, created_at: 1_700_000_000_000 },
        "created_at",
        /milliseconds.*1700000000/,
      ],
      ["a fractional created_at", { ...base, created_at: 1.5 }, "created_at", /integer/],
      ["a string created_at", { ...base, created_at: "1700000000" }, "created_at", /not a string/],
      ["a negative created_at", { ...base, created_at: -1 }, "created_at", />= 0/],
      ["no identifier", { event_name: "invited-friend", created_at: 1 }, "user_id", /one of user_id, id or email/],
      ["a numeric user_id", { ...base, user_id: 42 }, "user_id", /send it as a string/],
      ["an empty id", { event_name: "invited-friend", id: "", created_at: 1 }, "id", /non-empty/],
      ["an email without @", { event_name: "invited-friend", email: "nobody", created_at: 1 }, "email", /not an email/],
      ["metadata that is an array", { ...base, metadata: ["a"] }, "metadata", /flat JSON object/],
      ["metadata that is null", { ...base, metadata: null }, "metadata", /flat JSON object/],
      [
        "11 metadata keys",
        { ...base, metadata: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i])) },
        "metadata",
        /11 keys.*drops k10/,
      ],
      ["a key with a dot", { ...base, metadata: { "a.b": "x" } }, "metadata.a.b", /forbids/],
      ["a key with $", { ...base, metadata: { $a: "x" } }, "metadata.$a", /forbids/],
      ["a key with a quote", { ...base, metadata: { 'a"b': "x" } }, 'metadata.a"b', /forbids/],
      ["a key with NUL", { ...base, metadata: { "a\u0000": "x" } }, "metadata.a\u0000", /forbids/],
      ["an empty key", { ...base, metadata: { "": "x" } }, "metadata", /empty key/],
      [
        "a 256-character string",
        { ...base, metadata: { note: "x".repeat(256) } },
        "metadata.note",
        /256 characters.*255/,
      ],
      ["a nested object", { ...base, metadata: { user: { plan: "pro" } } }, "metadata.user", /nested objects/],
      ["an array value", { ...base, metadata: { tags: ["a"] } }, "metadata.tags", /arrays/],
      ["a boolean value", { ...base, metadata: { paid: true } }, "metadata.paid", /booleans.*"true"/],
      ["a null value", { ...base, metadata: { plan: null } }, "metadata.plan", /null/],
      ["a non-finite number", { ...base, metadata: { load: Number.NaN } }, "metadata.load", /finite/],
      ["a *_date string", { ...base, metadata: { signup_date: "2024-01-01" } }, "metadata.signup_date", /unix seconds/],
      [
        "a *_date in milliseconds",
        { ...base, metadata: { signup_date: 1_700_000_000_000 } },
        "metadata.signup_date",
        /milliseconds/,
      ],
      [
        "a rich link without http",
        { ...base, metadata: { a: { url: "ftp://x", value: "v" } } },
        "metadata.a.url",
        /http/,
      ],
      [
        "a rich link with a number value",
        { ...base, metadata: { a: { url: "https://x.y", value: 1 } } },
        "metadata.a.value",
        /string/,
      ],
      [
        "a fractional amount",
        { ...base, metadata: { price: { amount: 349.99, currency: "eur" } } },
        "metadata.price.amount",
        /cents/,
      ],
      [
        "a zero amount",
        { ...base, metadata: { price: { amount: 0, currency: "eur" } } },
        "metadata.price.amount",
        /positive/,
      ],
      [
        "a bad currency",
        { ...base, metadata: { price: { amount: 1, currency: "euro" } } },
        "metadata.price.currency",
        /3-letter/,
      ],
    ];
    it.each(invalid)("%s", (_name, input, field, message) => {
      const r = checkEvent(input, { nowMs: NOW_MS });
      expect(r.ok).toBe(false);
      if (!r.ok) {
        const issue = r.issues.find((i) => i.field === field);
        expect(issue, JSON.stringify(r.issues)).toBeDefined();
        expect(issue?.message).toMatch(message);
      }
    });
  });

  it("reports every problem of one event together", () => {
    const input = { eventName: "x", created_at: 1_700_000_000_000, metadata: { a: true, b: null, "c.d": [1] } };
    try {
      validateEvent(input, { nowMs: NOW_MS });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EventValidationError);
      const fields = (e as EventValidationError).issues.map((i) => i.field).sort();
      expect(fields).toEqual(
        ["created_at", "event_name", "metadata.a", "metadata.b", "metadata.c.d", "metadata.c.d", "user_id"].sort(),
      );
      expect((e as EventValidationError).code).toBe("IB_ERR_EVENT_INVALID");
    }
  });

  it("does not demand an identifier when a camelCase one was given (one issue, not two)", () => {
    const r = checkEvent({ event_name: "invited-friend", userId: "1", created_at: 1 });
    expect(r.ok ? [] : r.issues.map((i) => i.field)).toEqual(["user_id"]);
  });

  describe("metadataOverflow: truncate", () => {
    it("keeps the first 10 keys in send order and warns naming the dropped ones", () => {
      const metadata = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i]));
      const { event, warnings } = validateEvent({ ...base, metadata }, { metadataOverflow: "truncate" });
      expect(Object.keys(event.metadata ?? {})).toEqual(["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"]);
      expect(warnings).toEqual([
        expect.objectContaining({ field: "metadata", message: expect.stringMatching(/dropped k10, k11/) }),
      ]);
    });
  });

  describe("warnings on event_name", () => {
    it.each([
      ["Invited-Friend", /lowercase/],
      ["invited.friend", /"\."/],
      ["invited$friend", /rewrites/],
      ["signup", /verb-noun/],
    ])("warns for %s without failing", (name, message) => {
      const { warnings } = validateEvent({ ...base, event_name: name });
      expect(warnings.map((w) => w.message).join(" | ")).toMatch(message);
      expect(warnings.every((w) => w.field === "event_name")).toBe(true);
    });

    it("gives no warning for a lowercase verb-noun name", () => {
      expect(validateEvent(base).warnings).toEqual([]);
      expect(validateEvent({ ...base, event_name: "completed_order" }).warnings).toEqual([]);
    });
  });

  describe("metadata keys that differ only in case", () => {
    const metadata = { plan: "pro", Plan: "basic", seats: 3, PLAN: "x" };
    it("are accepted with one warning per later key by default", () => {
      const { event, warnings } = validateEvent({ ...base, metadata });
      expect(event.metadata).toEqual(metadata);
      expect(warnings).toEqual([
        { field: "metadata.Plan", message: expect.stringMatching(/differs from "plan" only in case; Intercom/) },
        { field: "metadata.PLAN", message: expect.stringMatching(/differs from "plan" only in case/) },
      ]);
    });
    it('are refused with metadataKeyCase: "error", naming each key', () => {
      const err = (() => {
        try {
          validateEvent({ ...base, metadata }, { metadataKeyCase: "error" });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(EventValidationError);
      expect((err as EventValidationError).issues.map((i) => i.field)).toEqual(["metadata.Plan", "metadata.PLAN"]);
    });
    it("distinct keys give no warning", () => {
      expect(
        validateEvent({ ...base, metadata: { plan: "pro", plans: 2 } }, { metadataKeyCase: "error" }).warnings,
      ).toEqual([]);
    });
  });

  it("canonicalEventName lowercases and rewrites . and $ like Intercom", () => {
    expect(canonicalEventName("Placed.Order$Now")).toBe("placed-order-now");
  });
});
