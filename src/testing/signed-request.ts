/**
 * `signedRequest`, for tests of an integration: a notification's exact body bytes with the headers Intercom would send,
 * signed with the given secret.
 */
import { sign, type RawBody } from "../core/signature.js";

/** A request ready to send to a webhook endpoint: exact body bytes and the headers Intercom would send. */
export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/** Options of {@link signedRequest}. */
export interface SignedRequestOptions {
  /** The client secret to sign with. */
  secret: string;
  /** The notification: an object (serialised once, then signed as is) or exact bytes. */
  body: RawBody | Record<string, unknown>;
}

/**
 * Builds a signed webhook request the way Intercom sends one (`X-Hub-Signature`, JSON content type, Intercom's user
 * agent), for tests of your handlers and endpoints.
 * @example
 * const { body, headers } = signedRequest({ secret: "s3cret", body: { type: "notification_event", topic: "ping", … } });
 * await fetch("http://localhost:3000/webhooks/intercom", { method: "POST", headers, body });
 */
export function signedRequest(options: SignedRequestOptions): SignedRequest {
  const raw = options.body;
  const body =
    typeof raw === "string" ? raw : raw instanceof Uint8Array ? Buffer.from(raw).toString("utf8") : JSON.stringify(raw);
  return {
    body,
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      "user-agent": "intercom-parrot-service-client/1.0",
      "x-hub-signature": sign(body, options.secret),
    },
  };
}
