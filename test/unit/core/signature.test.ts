import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/core/errors.js";
import { normalizeSecrets, sign, signBody, verifyBodySignature, verifySignature } from "../../../src/core/signature.js";

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/intercom/${name}`, import.meta.url));

// Known answers computed once with OpenSSL, not with node:crypto (the implementation under test):
//   openssl dgst -sha1 -hmac "s3cr3t" test/fixtures/intercom/ping.json
//   openssl dgst -sha1 -hmac "s3cr3t" test/fixtures/intercom/conversation_user_replied.json
//   printf '{"type":"notification_event"}' | openssl dgst -sha1 -hmac "my-client-secret"
//   printf '' | openssl dgst -sha1 -hmac "k"
//   printf 'héllo ✓' | openssl dgst -sha1 -hmac "old-secret"      (UTF-8 bytes)
//   printf 'héllo ✓' | openssl dgst -sha1 -hmac "new-secret"
//   openssl dgst -sha256 -hmac "s3cr3t" test/fixtures/intercom/ping.json
//   printf '{"type":"notification_event"}' | openssl dgst -sha256 -hmac "my-client-secret"
const PING_SHA1 = "sha1=ed5f478ec036bdf7e3cb498417af4190d9289b38";
const REPLIED_SHA1 = "sha1=a31e70b44970a8ed9b3a775cd3710f397a1900a2";
const SMALL_BODY = '{"type":"notification_event"}';
const SMALL_SHA1 = "sha1=507dcdf688103159ccc8b494ce33565c4fbfaf66";
const EMPTY_SHA1_K = "sha1=3a84a218ee6665209bb70e84525dd837645a1965";
const UNICODE_BODY = "héllo ✓";
const UNICODE_SHA1_OLD = "sha1=965eeecdff3ccc63dde9d3f45d823e00a5311300";
const UNICODE_SHA1_NEW = "sha1=f5c6ea0af0275e3bc1731f3e394b4299ad9d92cd";
const PING_SHA256 = "03b15e5ba22fa80f7ac870e4fe33fe3a2a05c644f4d3b3ab8e062837a30ac597";
const SMALL_SHA256 = "fc0988b48e37158273d74034ed4466c3cdf83e8b921f6be360c98db517ba3bae";

const SECRET = "s3cr3t";

describe("sign", () => {
  it.each([
    ["ping.json (exact bytes)", fixture("ping.json"), SECRET, PING_SHA1],
    ["conversation_user_replied.json", fixture("conversation_user_replied.json"), SECRET, REPLIED_SHA1],
    ["a small string", SMALL_BODY, "my-client-secret", SMALL_SHA1],
    ["an empty body", "", "k", EMPTY_SHA1_K],
    ["a UTF-8 string", UNICODE_BODY, "old-secret", UNICODE_SHA1_OLD],
  ])("matches openssl for %s", (_name, body, secret, expected) => {
    expect(sign(body, secret)).toBe(expected);
  });

  it("returns sha1= and 40 lowercase hex characters", () => {
    expect(sign("x", "y")).toMatch(/^sha1=[0-9a-f]{40}$/);
  });

  it("gives the same answer for Buffer, Uint8Array, a Uint8Array view and string bodies", () => {
    const bytes = fixture("ping.json");
    const copy = new Uint8Array(bytes);
    const padded = new Uint8Array(bytes.length + 8);
    padded.set(bytes, 4);
    const view = padded.subarray(4, 4 + bytes.length);
    for (const body of [bytes, copy, view, bytes.toString("utf8")]) expect(sign(body, SECRET)).toBe(PING_SHA1);
  });

  it.each([[""], [undefined as unknown as string]])(
    "refuses an empty or missing secret (%j) with ConfigError",
    (secret) => {
      expect(() => sign("body", secret)).toThrow(ConfigError);
    },
  );
});

describe("verifySignature", () => {
  it("accepts the openssl answer for the exact fixture bytes", () => {
    expect(verifySignature(fixture("ping.json"), PING_SHA1, SECRET)).toBe(true);
    expect(verifySignature(fixture("conversation_user_replied.json"), REPLIED_SHA1, [SECRET])).toBe(true);
  });

  it("rejects a signature made with another secret", () => {
    expect(verifySignature(fixture("ping.json"), PING_SHA1, "other")).toBe(false);
  });

  it("rejects a re-serialised body (whitespace changed)", () => {
    const reserialised = JSON.stringify(JSON.parse(fixture("ping.json").toString("utf8")));
    expect(verifySignature(reserialised, PING_SHA1, SECRET)).toBe(false);
  });

  describe("rotation", () => {
    it("accepts a body signed with any secret in the list", () => {
      expect(verifySignature(UNICODE_BODY, UNICODE_SHA1_OLD, ["new-secret", "old-secret"])).toBe(true);
      expect(verifySignature(UNICODE_BODY, UNICODE_SHA1_NEW, ["new-secret", "old-secret"])).toBe(true);
    });

    it("rejects when no secret in the list signed it", () => {
      expect(verifySignature(UNICODE_BODY, UNICODE_SHA1_OLD, ["new-secret", "third"])).toBe(false);
    });
  });

  describe("malformed headers are false, never thrown", () => {
    const hex = PING_SHA1.slice(5);
    const cases: [string, string | readonly string[] | null | undefined][] = [
      ["missing (undefined)", undefined],
      ["missing (null)", null],
      ["empty", ""],
      ["without the sha1= prefix", hex],
      ["sha256= prefix", `sha256=${hex}`],
      ["SHA1= prefix in capitals", `SHA1=${hex}`],
      ["one hex character short", PING_SHA1.slice(0, -1)],
      ["one hex character long", `${PING_SHA1}0`],
      ["non-hex characters", `sha1=${"g".repeat(40)}`],
      ["UPPERCASE hex of the right digest", `sha1=${hex.toUpperCase()}`],
      ["surrounding whitespace", ` ${PING_SHA1} `],
      ["an array of several values", [PING_SHA1, PING_SHA1]],
      ["an array of one value", [PING_SHA1]],
      ["a 1 MB header", `sha1=${hex}${"a".repeat(1024 * 1024)}`],
      ["a sha256 hex digest", `sha1=${PING_SHA256}`],
    ];
    it.each(cases)("%s", (_name, header) => {
      expect(() => verifySignature(fixture("ping.json"), header, SECRET)).not.toThrow();
      expect(verifySignature(fixture("ping.json"), header, SECRET)).toBe(false);
    });
  });

  it.each([
    ["an empty list", []],
    ["an empty string", ""],
    ["a list holding an empty string", ["good", ""]],
    ["undefined", undefined as unknown as string],
  ])("throws ConfigError for %s as secrets, even with a valid header", (_name, secrets) => {
    expect(() => verifySignature(fixture("ping.json"), PING_SHA1, secrets)).toThrow(ConfigError);
  });

  it("agrees for Buffer, Uint8Array and string bodies", () => {
    const bytes = Buffer.from(SMALL_BODY, "utf8");
    for (const body of [bytes, new Uint8Array(bytes), SMALL_BODY])
      expect(verifySignature(body, SMALL_SHA1, "my-client-secret")).toBe(true);
  });

  describe("properties", () => {
    it("never throws for any header string, and only the real signature verifies", () => {
      const body = fixture("ping.json");
      fc.assert(
        fc.property(
          fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.stringMatching(/^sha1=[0-9a-fA-F]{38,42}$/)),
          (header) => {
            const ok = verifySignature(body, header, SECRET);
            expect(ok).toBe(header === PING_SHA1);
          },
        ),
        { numRuns: 2000 },
      );
    });

    it("fails verification after any single-byte change to a signed body", () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 512 }),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          fc.string({ minLength: 1 }),
          (bytes, position, delta, secret) => {
            const body = Buffer.from(bytes);
            const header = sign(body, secret);
            expect(verifySignature(body, header, secret)).toBe(true);
            const changed = Buffer.from(body);
            const i = position % changed.length;
            changed[i] = (changed[i]! + delta) % 256;
            expect(verifySignature(changed, header, secret)).toBe(false);
          },
        ),
      );
    });

    it("fails verification for any other body: appended, truncated, inserted or unrelated bytes", () => {
      const mutation = fc.oneof(
        fc.record({ kind: fc.constant("append" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
        fc.record({ kind: fc.constant("truncate" as const), count: fc.integer({ min: 1, max: 16 }) }),
        fc.record({
          kind: fc.constant("insert" as const),
          at: fc.nat(),
          bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
        }),
        fc.record({ kind: fc.constant("replace" as const), bytes: fc.uint8Array({ maxLength: 512 }) }),
      );
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 512 }), mutation, fc.string({ minLength: 1 }), (bytes, m, secret) => {
          const body = Buffer.from(bytes);
          let other: Buffer;
          if (m.kind === "append") other = Buffer.concat([body, m.bytes]);
          else if (m.kind === "truncate") other = body.subarray(0, Math.max(0, body.length - m.count));
          else if (m.kind === "insert") {
            const at = body.length === 0 ? 0 : m.at % (body.length + 1);
            other = Buffer.concat([body.subarray(0, at), m.bytes, body.subarray(at)]);
          } else other = Buffer.from(m.bytes);
          fc.pre(!other.equals(body));
          expect(verifySignature(other, sign(body, secret), secret)).toBe(false);
        }),
        { numRuns: 500 },
      );
    });

    it("signing and verifying agree for any body and secret", () => {
      fc.assert(
        fc.property(fc.string({ unit: "grapheme" }), fc.string({ minLength: 1 }), (body, secret) => {
          expect(verifySignature(Buffer.from(body, "utf8"), sign(body, secret), secret)).toBe(true);
        }),
      );
    });
  });
});

describe("normalizeSecrets", () => {
  it("wraps one secret in a frozen list", () => {
    const list = normalizeSecrets("a");
    expect(list).toEqual(["a"]);
    expect(Object.isFrozen(list)).toBe(true);
  });

  it("copies a list", () => {
    const input = ["a", "b"];
    const list = normalizeSecrets(input);
    input.push("c");
    expect(list).toEqual(["a", "b"]);
  });

  it("names the offending entry", () => {
    expect(() => normalizeSecrets(["a", ""])).toThrow("secrets[1] must be a non-empty string");
    expect(() => normalizeSecrets(["a", 3 as unknown as string])).toThrow(ConfigError);
  });
});

describe("X-Body-Signature (HMAC-SHA256)", () => {
  it.each([
    ["ping.json", fixture("ping.json"), SECRET, PING_SHA256],
    ["a small string", SMALL_BODY, "my-client-secret", SMALL_SHA256],
  ])("signBody matches openssl for %s", (_name, body, secret, expected) => {
    expect(signBody(body, secret)).toBe(expected);
  });

  it("verifies the openssl answer, with rotation", () => {
    expect(verifyBodySignature(fixture("ping.json"), PING_SHA256, SECRET)).toBe(true);
    expect(verifyBodySignature(SMALL_BODY, SMALL_SHA256, ["other", "my-client-secret"])).toBe(true);
    expect(verifyBodySignature(SMALL_BODY, SMALL_SHA256, ["other"])).toBe(false);
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["with a sha256= prefix", `sha256=${PING_SHA256}`],
    ["UPPERCASE", PING_SHA256.toUpperCase()],
    ["too short", PING_SHA256.slice(1)],
    ["non-hex", "z".repeat(64)],
    ["an array", [PING_SHA256, PING_SHA256]],
    ["the sha1 header value", PING_SHA1],
    ["1 MB", PING_SHA256 + "0".repeat(1024 * 1024)],
  ] as [string, string | string[] | undefined][])("is false for a header that is %s", (_name, header) => {
    expect(verifyBodySignature(fixture("ping.json"), header, SECRET)).toBe(false);
  });

  it("refuses an empty secret with ConfigError", () => {
    expect(() => verifyBodySignature("x", SMALL_SHA256, [])).toThrow(ConfigError);
    expect(() => signBody("x", "")).toThrow(ConfigError);
  });

  it("never throws for any header string", () => {
    fc.assert(fc.property(fc.string(), (header) => verifyBodySignature(SMALL_BODY, header, "k") === false));
  });
});
