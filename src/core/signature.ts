/**
 * Signing and verifying request bodies: `X-Hub-Signature` (`sha1=` + HMAC-SHA1 hex over the exact bytes, against any of
 * several secrets, in constant time) and `X-Body-Signature` (HMAC-SHA256). Imports `node:crypto` and the error classes
 * only.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { ConfigError } from "./errors.js";

/** A request body exactly as received: never re-serialised JSON. */
export type RawBody = Uint8Array | string;

const SHA1_HEADER = /^sha1=[0-9a-f]{40}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

function toBuffer(body: RawBody): Buffer {
  if (typeof body === "string") return Buffer.from(body, "utf8");
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/**
 * Normalises one secret or a list of secrets (rotation) and refuses empty ones.
 * @throws {ConfigError} when no secret is given or one is empty: an empty secret would accept forged requests.
 */
export function normalizeSecrets(secrets: string | readonly string[] | undefined): readonly string[] {
  const list = typeof secrets === "string" ? [secrets] : (secrets ?? []);
  if (list.length === 0) throw new ConfigError("secrets: at least one webhook client secret is required");
  for (const [i, s] of list.entries()) {
    if (typeof s !== "string" || s.length === 0) throw new ConfigError(`secrets[${i}] must be a non-empty string`);
  }
  return Object.freeze([...list]);
}

/**
 * Computes the `X-Hub-Signature` header value Intercom sends: `sha1=` + HMAC-SHA1(secret, raw body) in lowercase hex.
 * @throws {ConfigError} when the secret is empty.
 * @example sign('{"type":"notification_event"}', "my-client-secret") // "sha1=…"
 */
export function sign(body: RawBody, secret: string): string {
  normalizeSecrets(secret);
  return "sha1=" + createHmac("sha1", secret).update(toBuffer(body)).digest("hex");
}

/**
 * Checks an `X-Hub-Signature` header against the raw body with each secret (rotation), in constant time.
 * Never throws for a bad header: missing, empty, repeated, malformed or oversized headers return `false`.
 * @param body - the raw request bytes exactly as received (never a re-serialised object).
 * @param header - the header value as received; an array (a repeated header) is never valid.
 * @param secrets - the app's client secret, or several during a rotation: any one of them verifies.
 * @throws {ConfigError} only when `secrets` is empty or holds an empty string.
 * @example
 * if (!verifySignature(rawBody, req.headers["x-hub-signature"], [newSecret, oldSecret])) res.writeHead(401).end();
 */
export function verifySignature(
  body: RawBody,
  header: string | readonly string[] | null | undefined,
  secrets: string | readonly string[],
): boolean {
  const keys = normalizeSecrets(secrets);
  if (!isWellFormedSignatureHeader(header)) return false;
  const given = Buffer.from((header as string).slice(5), "hex");
  const bytes = toBuffer(body);
  let ok = false;
  for (const key of keys) {
    const expected = createHmac("sha1", key).update(bytes).digest();
    // Both are 20 bytes here, so timingSafeEqual cannot throw; check every secret to keep timing flat.
    if (timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}

/**
 * True when an `X-Hub-Signature` value could be a valid signature at all: `sha1=` followed by 40 lowercase hex
 * characters (what Intercom sends). A request failing this is refused before its body is read.
 * @example isWellFormedSignatureHeader("sha1=abcd") // false
 */
export function isWellFormedSignatureHeader(header: string | readonly string[] | null | undefined): boolean {
  return typeof header === "string" && header.length === 45 && SHA1_HEADER.test(header);
}

/**
 * Computes the `X-Body-Signature` value: HMAC-SHA256(secret, raw body) in lowercase hex (no prefix).
 * @throws {ConfigError} when the secret is empty.
 */
export function signBody(body: RawBody, secret: string): string {
  normalizeSecrets(secret);
  return createHmac("sha256", secret).update(toBuffer(body)).digest("hex");
}

/**
 * Checks an `X-Body-Signature` header (HMAC-SHA256 hex, used by Intercom for Canvas Kit, app-uninstall and
 * health-check calls) in constant time. Never throws for a bad header.
 * @throws {ConfigError} only when `secrets` is empty or holds an empty string.
 * @example
 * const ok = verifyBodySignature(rawBody, req.headers["x-body-signature"], process.env.INTERCOM_CLIENT_SECRET!);
 */
export function verifyBodySignature(
  body: RawBody,
  header: string | readonly string[] | null | undefined,
  secrets: string | readonly string[],
): boolean {
  const keys = normalizeSecrets(secrets);
  if (typeof header !== "string" || header.length !== 64 || !SHA256_HEX.test(header)) return false;
  const given = Buffer.from(header, "hex");
  const bytes = toBuffer(body);
  let ok = false;
  for (const key of keys) {
    if (timingSafeEqual(given, createHmac("sha256", key).update(bytes).digest())) ok = true;
  }
  return ok;
}

/** Converts a raw body to a Buffer without copying when possible. */
export function rawBodyToBuffer(body: RawBody): Buffer {
  return toBuffer(body);
}
