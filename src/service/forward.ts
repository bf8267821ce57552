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
 * A handler that POSTs the original body, byte for byte, to `url`, signed with `X-Hub-Signature` using `secret`.
 * Any 2xx is success; 4xx other than 408/429 is retried too (the internal service may be mid-deploy), and a
 * `Retry-After` on 429/503 reschedules without using an attempt.
 */
export function createForwardHandler(url: string, secret: string): Handler {
  return async (notification, ctx) => {
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "intercom-bridge",
          "x-hub-signature": sign(ctx.rawBody, secret),
          "x-intercom-bridge-delivery": ctx.deliveryId,
          "x-intercom-bridge-attempt": String(ctx.attempt),
          "x-intercom-topic": notification.topic,
        },
        body: ctx.rawBody,
        signal: ctx.signal,
        redirect: "manual",
      });
    } catch (err) {
      throw new IntercomBridgeError("IB_ERR_FORWARD_FAILED", `POST ${url} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    await res.body?.cancel().catch(() => undefined);
    if (res.ok) return;
    const retryAfter = res.headers.get("retry-after");
    if ((res.status === 429 || res.status === 503) && retryAfter && /^\d+$/.test(retryAfter)) {
      throw new RetryLaterError(
        Number(retryAfter) * 1000,
        `POST ${url} answered ${res.status}; Retry-After ${retryAfter}s`,
      );
    }
    if (res.status === 410)
      throw new UnrecoverableError(`POST ${url} answered 410 Gone`, { code: "IB_ERR_FORWARD_FAILED" });
    throw new IntercomBridgeError("IB_ERR_FORWARD_FAILED", `POST ${url} answered ${res.status}`);
  };
}
