import { describe, expect, it } from "vitest";
import { ConfigError, RateLimitedError } from "../../../src/core/errors.js";
import type { Clock } from "../../../src/core/clock.js";
import { classifySendResult, DEFAULT_RATE_LIMIT_PAUSE_MS } from "../../../src/outbound/classify.js";
import { resolveBaseUrl, type SendResult } from "../../../src/outbound/intercom-api.js";
import { budgetPerWindow, createRateGate, parseRateLimitHeaders } from "../../../src/outbound/rate-limit.js";
import { failureReason, parseCsv, parseNdjson, planImport } from "../../../src/outbound/bulk-import.js";
import { createMemoryStore } from "../../../src/store/memory/memory-store.js";
import type { JobSummary } from "../../../src/delivery/types.js";

const NOW = 1_700_000_000_000;
const r = (status: number | null, extra: Partial<SendResult> = {}): SendResult => ({
  status,
  rateLimit: null,
  retryAfterMs: null,
  ...extra,
});

describe("classifySendResult", () => {
  it.each([
    [202, "sent"],
    [200, "sent"],
    [429, "rate-limited"],
    [401, "unauthorized"],
    [403, "unauthorized"],
    [408, "retry"],
    [409, "retry"],
    [500, "retry"],
    [502, "retry"],
    [503, "retry"],
    [400, "failed"],
    [404, "failed"],
    [406, "failed"],
    [422, "failed"],
  ] as const)("%i → %s", (status, kind) => {
    expect(classifySendResult(r(status), NOW).kind).toBe(kind);
  });

  it("retries a transport error", () => {
    expect(
      classifySendResult(r(null, { transportError: "timeout", errorMessage: "no answer within 10 ms" }), NOW),
    ).toEqual({
      kind: "retry",
      status: null,
      reason: "timeout error: no answer within 10 ms",
    });
  });

  it("keeps Intercom's code and message on a permanent failure", () => {
    expect(
      classifySendResult(r(404, { errorCode: "not_found", errorMessage: "User Not Found", requestId: "abc" }), NOW),
    ).toEqual({
      kind: "failed",
      status: 404,
      code: "not_found",
      reason: "Intercom 404 not_found: User Not Found (request abc)",
    });
  });

  it("pauses a 429 until X-RateLimit-Reset, or Retry-After when later, or a default", () => {
    const reset = { limit: 10, remaining: 0, resetAtMs: NOW + 4_000 };
    expect(classifySendResult(r(429, { rateLimit: reset }), NOW)).toMatchObject({ resumeAtMs: NOW + 4_000 });
    expect(classifySendResult(r(429, { rateLimit: reset, retryAfterMs: 9_000 }), NOW)).toMatchObject({
      resumeAtMs: NOW + 9_000,
    });
    expect(classifySendResult(r(429), NOW)).toMatchObject({ resumeAtMs: NOW + DEFAULT_RATE_LIMIT_PAUSE_MS });
  });
});

describe("parseRateLimitHeaders", () => {
  const h = (o: Record<string, string>) => (n: string) => o[n] ?? null;
  it("reads limit, remaining and reset (unix seconds → ms)", () => {
    expect(
      parseRateLimitHeaders(
        h({ "x-ratelimit-limit": "167", "x-ratelimit-remaining": "3", "x-ratelimit-reset": "1700000010" }),
      ),
    ).toEqual({
      limit: 167,
      remaining: 3,
      resetAtMs: 1_700_000_010_000,
    });
  });
  it("returns null without headers and tolerates garbage", () => {
    expect(parseRateLimitHeaders(h({}))).toBeNull();
    expect(parseRateLimitHeaders(h({ "x-ratelimit-limit": "abc", "x-ratelimit-remaining": "1" }))).toEqual({
      limit: null,
      remaining: 1,
      resetAtMs: null,
    });
  });
});

describe("budgetPerWindow", () => {
  it("spreads a per-minute limit over 10-second windows", () => {
    expect(budgetPerWindow(10_000, 10_000)).toBe(1_666);
    expect(budgetPerWindow(1_000, 10_000)).toBe(166);
    expect(budgetPerWindow(1, 10_000)).toBe(1);
  });
});

describe("resolveBaseUrl", () => {
  it("maps regions to hosts and lets baseUrl win", () => {
    expect(resolveBaseUrl(undefined, undefined)).toBe("https://api.intercom.io");
    expect(resolveBaseUrl("eu", undefined)).toBe("https://api.eu.intercom.io");
    expect(resolveBaseUrl("au", undefined)).toBe("https://api.au.intercom.io");
    expect(resolveBaseUrl("eu", "http://127.0.0.1:4010/")).toBe("http://127.0.0.1:4010");
  });
  it("throws ConfigError for an unknown region or a relative URL", () => {
    expect(() => resolveBaseUrl("mars" as "us", undefined)).toThrow(ConfigError);
    expect(() => resolveBaseUrl("us", "/events")).toThrow(ConfigError);
  });
});

describe("createRateGate", () => {
  const fakeClock = (start: number): Clock & { t: number } => {
    const c = {
      t: start,
      now: () => c.t,
      sleep: (ms: number) => {
        c.t += ms;
        return Promise.resolve();
      },
    };
    return c;
  };
  const signal = new AbortController().signal;

  it("grants the window budget, then waits for the next window", async () => {
    const clock = fakeClock(10_000);
    const store = createMemoryStore({ clock });
    const gate = createRateGate({
      limiter: store.limiter("t"),
      clock,
      initialPerWindow: 3,
      windowMs: 1_000,
      firstBurst: Number.POSITIVE_INFINITY,
    });
    for (let i = 0; i < 3; i++) await gate.acquire(signal);
    expect(clock.t).toBe(10_000);
    await gate.acquire(signal);
    expect(clock.t).toBe(11_000);
    await store.close();
  });

  it("takes the window size from X-RateLimit-Limit", async () => {
    const clock = fakeClock(10_000);
    const store = createMemoryStore({ clock });
    const gate = createRateGate({ limiter: store.limiter("t"), clock, initialPerWindow: 100, windowMs: 1_000 });
    await gate.observe({ limit: 2, remaining: 1, resetAtMs: 11_000 }, 0);
    expect(gate.perWindow).toBe(2);
    await store.close();
  });

  it("pauses everyone until reset when the server counts more than we granted (another client)", async () => {
    const clock = fakeClock(10_000);
    const store = createMemoryStore({ clock });
    const limiter = store.limiter("t");
    const gate = createRateGate({ limiter, clock, initialPerWindow: 100, windowMs: 1_000, maxInlineWaitMs: 5_000 });
    await gate.acquire(signal);
    await gate.observe({ limit: 100, remaining: 0, resetAtMs: 11_000 }, 0);
    expect((await limiter.state()).pausedUntil).toBe(11_000);
    await gate.acquire(signal); // waits inline until the reset
    expect(clock.t).toBeGreaterThanOrEqual(11_000);
    await store.close();
  });

  it("throws RateLimitedError (capped at the re-check interval) for a long pause", async () => {
    const clock = fakeClock(10_000);
    const store = createMemoryStore({ clock });
    const limiter = store.limiter("t");
    const gate = createRateGate({
      limiter,
      clock,
      initialPerWindow: 10,
      windowMs: 1_000,
      maxInlineWaitMs: 100,
      pauseRecheckMs: 500,
    });
    await limiter.pauseUntil(70_000, "unauthorized");
    const err = await gate.acquire(signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(500);
    await store.close();
  });
});

describe("bulk-import parsing", () => {
  it("numbers NDJSON lines, skips blank ones and reports JSON errors", () => {
    const lines = parseNdjson('{"a":1}\n\n{oops\n');
    expect(lines.map((l) => [l.line, l.parseError === undefined])).toEqual([
      [1, true],
      [3, false],
    ]);
  });

  it("parses CSV with quotes, metadata columns and numbers, keeping leading-zero strings", () => {
    const rows = parseCsv(
      'event_name,user_id,created_at,metadata.zip,metadata.n,metadata\r\nplaced-order,"u,1",1700000000,"02134",3.5,"{""plan"":""pro""}"\nx,u2,,,,\n',
    );
    expect(rows.map((r) => r.value)).toEqual([
      {
        event_name: "placed-order",
        user_id: "u,1",
        created_at: 1_700_000_000,
        metadata: { zip: "02134", n: 3.5, plan: "pro" },
      },
      { event_name: "x", user_id: "u2" },
    ]);
    expect(rows.map((r) => r.line)).toEqual([2, 3]);
  });

  it("refuses a metadata column that is not a JSON object, naming the column", () => {
    const rows = parseCsv(
      'event_name,user_id,metadata\na,u,"[1,2]"\na,u,"""pro"""\na,u,7\na,u,{oops\na,u,"{""id"":12345678901234567890}"\n',
    );
    expect(rows.map((r) => [r.line, r.value, r.parseError])).toEqual([
      [2, undefined, 'metadata column: must be a JSON object such as {"plan":"pro"}, got an array'],
      [3, undefined, 'metadata column: must be a JSON object such as {"plan":"pro"}, got a string'],
      [4, undefined, 'metadata column: must be a JSON object such as {"plan":"pro"}, got a number'],
      [5, undefined, expect.stringMatching(/^metadata column: not valid JSON: /)],
      [
        6,
        undefined,
        'metadata column: "id" is a number beyond 9007199254740991 and would lose digits; write it as a string',
      ],
    ]);
    const plan = planImport(rows);
    expect(plan.invalid.map((i) => i.issues[0]?.message)).toHaveLength(5);
  });

  it("keeps numeric-looking CSV cells beyond Number.MAX_SAFE_INTEGER as strings, digit for digit", () => {
    const [row] = parseCsv(
      "event_name,user_id,metadata.order_id,metadata.small,metadata.neg\na,u,12345678901234567890,9007199254740991,-99999999999999999.5\n",
    );
    expect(row?.value).toEqual({
      event_name: "a",
      user_id: "u",
      metadata: { order_id: "12345678901234567890", small: 9_007_199_254_740_991, neg: "-99999999999999999.5" },
    });
  });

  it("gives events without created_at a content-based key, distinct per occurrence and stable across runs", () => {
    const text = '{"event_name":"a-b","user_id":"1"}\n{"event_name":"a-b","user_id":"1"}\n';
    const k1 = planImport(parseNdjson(text), { nowMs: 1 }).valid.map((v) => v.dedupeKey);
    const k2 = planImport(parseNdjson(text), { nowMs: 99_999_999 }).valid.map((v) => v.dedupeKey);
    expect(k1).toEqual(k2);
    expect(new Set(k1).size).toBe(2);
  });

  it("keys lines without created_at by batch id, so the same line in another file is a new event", () => {
    const text = '{"event_name":"a-b","user_id":"1"}\n{"event_name":"a-b","user_id":"1","created_at":5}\n';
    const keys = (batchId: string, nowMs: number) =>
      planImport(parseNdjson(text), { batchId, nowMs }).valid.map((v) => v.dedupeKey);
    const monday = keys("/data/monday.ndjson", 1_000);
    expect(keys("/data/monday.ndjson", 9_000_000)).toEqual(monday);
    const tuesday = keys("/data/tuesday.ndjson", 1_000);
    expect(tuesday[0]).not.toBe(monday[0]);
    // With its own created_at an event is the same Intercom event whichever file holds it.
    expect(tuesday[1]).toBe(monday[1]);
  });

  it("warns, naming both lines, when Intercom would merge two lines (same contact, name and created_at)", () => {
    const text = [
      '{"event_name":"a-b","user_id":"1","created_at":5}',
      '{"event_name":"a-b","user_id":"2","created_at":5}',
      '{"event_name":"a-b","user_id":"1","created_at":5,"metadata":{"n":1}}',
      '{"event_name":"a-b","user_id":"3"}',
      '{"event_name":"a-b","user_id":"3","metadata":{"n":2}}',
    ].join("\n");
    const plan = planImport(parseNdjson(text), { nowMs: 7_000 });
    expect(plan.valid.map((v) => [v.line, v.warnings.map((w) => `${w.field}: ${w.message}`)])).toEqual([
      [1, []],
      [2, []],
      [
        3,
        [
          "created_at: same identifiers, event_name and created_at (5) as line 1: Intercom keeps only one of lines 1 and 3",
        ],
      ],
      [4, []],
      [
        5,
        [
          "created_at: same identifiers, event_name and created_at (7) as line 4: Intercom keeps only one of lines 4 and 5",
        ],
      ],
    ]);
  });

  it("names failure reasons from the recorded error", () => {
    const job = (message: string): JobSummary =>
      ({ lastError: { name: "UnrecoverableError", code: "IB_ERR_UNRECOVERABLE", message } }) as JobSummary;
    expect(failureReason(job("Intercom 404 not_found: User Not Found"))).toBe("404 not_found");
    expect(failureReason(job("Intercom 503 server_error: Injected"))).toBe("503 server_error");
    expect(failureReason(job("Intercom 500"))).toBe("500");
    expect(failureReason(job("timeout error: no answer within 10 ms"))).toBe("timeout");
    expect(failureReason(job("network error: fetch failed"))).toBe("network error");
  });
});
