import { describe, expect, it, vi } from "vitest";
import { ConfigError } from "../../../src/core/errors.js";
import { createRouter, type Router } from "../../../src/core/router.js";
import type { IntercomNotification } from "../../../src/topics/index.js";

const noop = (): void => {};
const names = (router: Router, topic: string): string[] => router.targetsFor(topic).map((r) => r.name);

describe("createRouter", () => {
  describe("matching", () => {
    it("matches an exact topic only", () => {
      const r = createRouter();
      r.on("conversation.user.replied", noop);
      expect(names(r, "conversation.user.replied")).toEqual(["conversation.user.replied"]);
      expect(names(r, "conversation.user.created")).toEqual([]);
    });

    it("matches group.* within the group and not a group with the same prefix", () => {
      const r = createRouter();
      r.on("conversation.*", noop);
      expect(names(r, "conversation.admin.replied")).toEqual(["conversation.*"]);
      expect(names(r, "conversation.admin.replied.translated")).toEqual(["conversation.*"]);
      expect(names(r, "conversation_part.tag.created")).toEqual([]);
      expect(names(r, "conversation")).toEqual([]);
      expect(names(r, "ticket.created")).toEqual([]);
    });

    it("matches * for every catalogued topic; onAny and register() also for unknown ones", () => {
      const r = createRouter();
      r.on("*", noop);
      r.onAny(noop, { name: "any" });
      r.register("forward", ["*"], noop);
      r.register("typed-module", ["*"], noop, { knownTopicsOnly: true });
      expect(names(r, "ping")).toEqual(["*", "any", "forward", "typed-module"]);
      expect(names(r, "not.a.real.topic")).toEqual(["any", "forward"]);
    });

    it("matches a list of patterns once per registration, in registration order", () => {
      const r = createRouter();
      r.on(["ticket.created", "ticket.*"], noop);
      r.onAny(noop);
      r.on("contact.user.created", noop);
      expect(names(r, "ticket.created")).toEqual(["ticket.created,ticket.*", "*"]);
      expect(names(r, "ticket.closed")).toEqual(["ticket.created,ticket.*", "*"]);
      expect(names(r, "contact.user.created")).toEqual(["*", "contact.user.created"]);
      expect(r.get("ticket.created,ticket.*")?.patterns).toEqual(["ticket.created", "ticket.*"]);
    });

    it("routes unknown topics to onAny only: a typed group.* handler never sees a topic its type lacks", () => {
      const r = createRouter();
      r.on("conversation.*", noop);
      r.onAny(noop, { name: "archive" });
      r.register("forward", ["conversation.*"], noop);
      expect(names(r, "conversation.admin.replied")).toEqual(["conversation.*", "archive", "forward"]);
      expect(names(r, "conversation.brand_new")).toEqual(["archive", "forward"]);
      expect(names(r, "brand_new.topic")).toEqual(["archive"]);
    });
  });

  describe("names", () => {
    it("derives the name from the pattern, then #2, #3 for repeats", () => {
      const r = createRouter();
      r.on("ticket.created", noop);
      r.on("ticket.created", noop);
      r.on("ticket.created", noop);
      expect(r.list().map((x) => x.name)).toEqual(["ticket.created", "ticket.created#2", "ticket.created#3"]);
    });

    it("names onAny \"*\" by default, sharing the numbering with on('*')", () => {
      const r = createRouter();
      r.onAny(noop);
      r.on("*", noop);
      expect(r.list().map((x) => x.name)).toEqual(["*", "*#2"]);
    });

    it("uses an explicit name", () => {
      const r = createRouter();
      r.on("conversation.*", noop, { name: "notify-slack", timeoutMs: 500, retry: { maxAttempts: 3 } });
      const reg = r.get("notify-slack");
      expect(reg?.patterns).toEqual(["conversation.*"]);
      expect(reg?.timeoutMs).toBe(500);
      expect(reg?.retry).toEqual({ maxAttempts: 3 });
      expect(r.get("conversation.*")).toBeUndefined();
    });

    it("throws ConfigError for a duplicate explicit name", () => {
      const r = createRouter();
      r.on("ticket.created", noop, { name: "crm" });
      expect(() => r.on("ticket.closed", noop, { name: "crm" })).toThrow(ConfigError);
      expect(() => r.onAny(noop, { name: "crm" })).toThrow(/already registered/);
      expect(() => r.register("crm", ["*"], noop)).toThrow(ConfigError);
      expect(r.list()).toHaveLength(1);
    });

    it("gives a default name a free suffix when an explicit name took the base", () => {
      const r = createRouter();
      r.on("ticket.closed", noop, { name: "ticket.created" });
      r.on("ticket.created", noop);
      expect(r.list().map((x) => x.name)).toEqual(["ticket.created", "ticket.created#2"]);
    });

    it.each([[""], ["has space"], ["x".repeat(301)]])("rejects the name %j", (name) => {
      expect(() => createRouter().on("ping", noop, { name })).toThrow(ConfigError);
    });
  });

  describe("invalid registrations", () => {
    it.each([["conv*"], ["*.created"], ["conversation.*.replied"], ["a.*.*"], [""], ["**"], [".*"]])(
      "rejects the pattern %j",
      (pattern) => {
        const r = createRouter();
        expect(() => r.register("x", [pattern], noop)).toThrow(ConfigError);
        expect(r.list()).toEqual([]);
      },
    );

    it("rejects an empty list and a non-function handler", () => {
      const r = createRouter();
      expect(() => r.on([], noop)).toThrow(ConfigError);
      expect(() => r.on("ping", "nope" as unknown as () => void)).toThrow(/must be a function/);
    });
  });

  describe("unsubscribe", () => {
    it("removes the registration and frees its name", () => {
      const r = createRouter();
      const off = r.on("ping", noop);
      expect(names(r, "ping")).toEqual(["ping"]);
      off();
      expect(names(r, "ping")).toEqual([]);
      r.on("ping", noop);
      expect(r.list().map((x) => x.name)).toEqual(["ping"]);
    });

    it("does not remove a later registration that reused the name", () => {
      const r = createRouter();
      const off = r.on("ping", noop);
      off();
      const second = vi.fn();
      r.on("ping", second);
      off();
      expect(r.get("ping")?.handler).toBe(second);
    });

    it("works for onAny", () => {
      const r = createRouter();
      const off = r.onAny(noop);
      off();
      expect(r.list()).toEqual([]);
    });
  });

  describe("unknown topics", () => {
    it("warns once per unknown topic through the logger", () => {
      const warn = vi.fn();
      const r = createRouter({ log: { warn } });
      r.targetsFor("brand_new.topic");
      r.targetsFor("brand_new.topic");
      r.targetsFor("another.one");
      r.targetsFor("conversation.user.replied");
      expect(warn).toHaveBeenCalledTimes(2);
      expect(warn.mock.calls.map((c) => (c[0] as { topic: string }).topic)).toEqual(["brand_new.topic", "another.one"]);
      expect(warn.mock.calls[0]?.[1]).toMatch(/Unknown Intercom topic/);
    });

    it("keeps at most 1,000 distinct unknown topics in memory for its once-only warnings", () => {
      const warn = vi.fn();
      const r = createRouter({ log: { warn } });
      for (let i = 0; i < 1_500; i++) r.targetsFor(`made.up.${i}`);
      r.targetsFor("made.up.0");
      expect(warn).toHaveBeenCalledTimes(1_000);
    });

    it("stays quiet with onUnknownTopic: ignore", () => {
      const warn = vi.fn();
      createRouter({ onUnknownTopic: "ignore", log: { warn } }).targetsFor("brand_new.topic");
      expect(warn).not.toHaveBeenCalled();
    });

    it("does not warn for catalogued topics, including contact.unarchived", () => {
      const warn = vi.fn();
      const r = createRouter({ log: { warn } });
      for (const t of ["ping", "contact.unarchived", "contact.unarchive", "user.created"]) r.targetsFor(t);
      expect(warn).not.toHaveBeenCalled();
    });
  });

  describe("onError", () => {
    const notification = {
      type: "notification_event",
      id: "n",
      topic: "ping",
      app_id: "a",
      created_at: 1,
      data: { type: "notification_event_data", item: {} },
    } as unknown as IntercomNotification<string>;
    const info = { name: "h", notification, attempt: 2, willRetry: true };

    it("calls every listener with the error and info", () => {
      const r = createRouter();
      const a = vi.fn();
      const b = vi.fn();
      r.onError(a);
      r.onError(b);
      const err = new Error("boom");
      r.emitError(err, info);
      expect(a).toHaveBeenCalledWith(err, info);
      expect(b).toHaveBeenCalledWith(err, info);
    });

    it("logs a throwing listener and still calls the others", () => {
      const error = vi.fn();
      const r = createRouter({ log: { error } });
      const after = vi.fn();
      r.onError(() => {
        throw new Error("listener broke");
      });
      r.onError(after);
      expect(() => r.emitError(new Error("boom"), info)).not.toThrow();
      expect(after).toHaveBeenCalledOnce();
      expect(error).toHaveBeenCalledWith(expect.objectContaining({ err: expect.any(Error) }), "onError listener threw");
    });

    it("stops calling an unsubscribed listener", () => {
      const r = createRouter();
      const a = vi.fn();
      const off = r.onError(a);
      off();
      r.emitError(new Error("x"), info);
      expect(a).not.toHaveBeenCalled();
    });
  });

  it("keeps registrations immutable", () => {
    const r = createRouter();
    r.on("ping", noop);
    const reg = r.get("ping")!;
    expect(Object.isFrozen(reg)).toBe(true);
    expect(Object.isFrozen(reg.patterns)).toBe(true);
  });
});
