/**
 * The admin token check shared by the dashboard API and the outbound events API: a Bearer header compared with the
 * admin token in constant time. Lives with the dashboard, whose routes own operator access; `service/` imports it
 * from here, never the other way round. Imports `node:crypto` only.
 */
import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Checks an `Authorization: Bearer <token>` header against the admin token in constant time (both sides are hashed
 * first, so their lengths never leak and `timingSafeEqual` never throws).
 */
export function isAuthorizedAdmin(header: string | readonly string[] | undefined, adminToken: string): boolean {
  if (typeof header !== "string" || adminToken.length === 0) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m?.[1]) return false;
  return tokensEqual(m[1], adminToken);
}

/** Constant-time comparison of two tokens of any length. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}
