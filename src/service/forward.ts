/**
 * `serve --forward <pattern>=<url>`: a delivery target that POSTs each matching notification, byte for byte and
 * signed, to an internal URL. Targets are named `forward:<scheme>://<host>[:port]<path>`: never the URL's credentials
 * or query string, which would otherwise reach logs, stored deliveries and the dashboard.
 */
import { ConfigError, IntercomBridgeError, RetryLaterError, UnrecoverableError } from "../core/errors.js";
import type { Handler } from "../core/router.js";
import { sign } from "../core/signature.js";

/** One `--forward <pattern>=<url>` entry. */
export interface ForwardTarget {
  pattern: string;
  url: string;
}

/** Parses `pattern=url` (the URL may itself contain `=`). */
export function parseForward(spec: string): ForwardTarget {
  const eq = spec.indexOf("=");
  if (eq <= 0)
    throw new ConfigError(
      `--forward "${spec}" must be <pattern>=<url>, e.g. conversation.*=http://localhost:3000/hooks`,
    );
  const pattern = spec.slice(0, eq).trim();
  const url = spec.slice(eq + 1).trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`--forward "${spec}": "${url}" is not a valid URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new ConfigError(`--forward "${spec}": only http(s) URLs can be forwarded to`);
  return { pattern, url };
}

/**
 * The delivery-target name of a forward URL: `forward:` + scheme, host, port (when not the default) and path, without
 * userinfo, query or fragment, so a token in the URL never appears where the name does.
 * @example forwardTargetName("https://user:pw@hooks.internal/in?token=abc") // "forward:https://hooks.internal/in"
 */
export function forwardTargetName(url: string): string {
  const u = new URL(url);
  return `forward:${u.protocol}//${u.host}${u.pathname}`;
}

/**
 * A handler that POSTs the original body, byte for byte, to `url`, signed with `X-Hub-Signature` using `secret`.
 * Any 2xx is success; 4xx other than 408/429 is retried too (the internal service may be mid-deploy), and a
 * `Retry-After` on 429/503 reschedules without using an attempt.
 */
export function createForwardHandler(url: string, secret: string): Handler {
  // Errors are recorded on the delivery and logged: they name the target, never the URL's credentials or query.
  const where = forwardTargetName(url).slice("forward:".length);
  // fetch refuses a URL with credentials: they travel as Basic authorization instead.
  const target = new URL(url);
  const authorization =
    target.username || target.password
      ? "Basic " +
        Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString("base64")
      : undefined;
  target.username = "";
  target.password = "";
  const href = target.href;
  return async (notification, ctx) => {
    // The bytes Intercom signed, not the decoded text: they differ when the body is not valid UTF-8.
    const body = new Uint8Array(ctx.rawBodyBytes);
    let res: Response;
    try {
      res = await fetch(href, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "intercom-bridge",
          "x-hub-signature": sign(body, secret),
          "x-intercom-bridge-delivery": ctx.deliveryId,
          "x-intercom-bridge-attempt": String(ctx.attempt),
          "x-intercom-topic": notification.topic,
          ...(authorization ? { authorization } : {}),
        },
        body,
        signal: ctx.signal,
        redirect: "manual",
      });
    } catch (err) {
      throw new IntercomBridgeError("IB_ERR_FORWARD_FAILED", `POST ${where} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    await res.body?.cancel().catch(() => undefined);
    if (res.ok) return;
    const retryAfter = res.headers.get("retry-after");
    if ((res.status === 429 || res.status === 503) && retryAfter && /^\d+$/.test(retryAfter)) {
      throw new RetryLaterError(
        Number(retryAfter) * 1000,
        `POST ${where} answered ${res.status}; Retry-After ${retryAfter}s`,
      );
    }
    if (res.status === 410)
      throw new UnrecoverableError(`POST ${where} answered 410 Gone`, { code: "IB_ERR_FORWARD_FAILED" });
    throw new IntercomBridgeError("IB_ERR_FORWARD_FAILED", `POST ${where} answered ${res.status}`);
  };
}
