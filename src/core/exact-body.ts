/**
 * The stored body must be the bytes Intercom signed. Records keep the body as text (`body`), which is exact for valid
 * UTF-8 — nearly every body. For the rare body that is not valid UTF-8, decoding replaces the invalid sequences with
 * U+FFFD, so the record also carries the exact bytes (`bodyBase64`) and every consumer that signs, forwards or
 * archives reads them through {@link recordBodyBytes}. Pure: imports only `node:buffer`.
 */
import { Buffer, isUtf8 } from "node:buffer";

/**
 * The exact bytes, base64, when `text` (their UTF-8 decoding) does not reproduce them; otherwise undefined. Costs
 * one scan of `text` for U+FFFD on the common path: only a body containing one is checked further.
 */
export function bodyBase64IfNotUtf8(bytes: Buffer, text: string): string | undefined {
  if (!text.includes("\uFFFD") || isUtf8(bytes)) return undefined;
  return bytes.toString("base64");
}

/** The exact bytes of a stored body: `bodyBase64` decoded when present, else `body` encoded as UTF-8. */
export function recordBodyBytes(record: { body: string; bodyBase64?: string }): Buffer {
  return record.bodyBase64 !== undefined ? Buffer.from(record.bodyBase64, "base64") : Buffer.from(record.body, "utf8");
}
