import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { IntercomBridgeError } from "../../../src/core/errors.js";
import { RetryLaterError, StoreError } from "../../../src/core/errors.js";
import { createReceiver, type Receiver } from "../../../src/core/receiver.js";
import { sign } from "../../../src/core/signature.js";
import { createMemoryStore } from "../../../src/store/memory/memory-store.js";
import type { Store } from "../../../src/store/store.js";
import { waitFor } from "../../helpers/wait-for.js";

const SECRET = "receiver-secret";

function body(topic: string, extra: { id?: string; itemId?: string; createdAt?: number } = {}): string {
  return JSON.stringify({
    type: "notification_event",
    app_id: "app1",
    id: extra.id ?? `notif_${randomUUID()}`,
    topic,
    created_at: extra.createdAt ?? Math.floor(Date.now() / 1000),
    delivery_attempts: 1,
    data: { type: "notification_event_data", item: { type: "conversation", id: extra.itemId ?? randomUUID() } },
  });
}
const signed = (b: string) => ({ body: b, headers: { "X-Hub-Signature": sign(b, SECRET) } });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "resolved";
  } catch (e) {
    return (e as IntercomBridgeError).code;
  }
}

function receiver(extra: Partial<Parameters<typeof createReceiver>[0]> = {}): Receiver {
  return createReceiver({
    secrets: [SECRET],
    store: createMemoryStore(),
    retry: { backoff: { type: "fixed", delayMs: 10, jitter: 0 } },
    ...extra,
  });
}

describe("createReceiver", () => {
  describe("receive", () => {
    it("refuses each bad request with its stable code and stores nothing", async () => {
      const r = receiver({ maxBodyBytes: 2_000 });
      const ok = body("ping");
      expect(await codeOf(r.receive({ body: ok, headers: {} }))).toBe("IB_ERR_SIGNATURE_MISSING");
      expect(await codeOf(r.receive({ body: ok, headers: { "x-hub-signature": sign(ok, "other") } }))).toBe(
        "IB_ERR_SIGNATURE_INVALID",
      );
      expect(await codeOf(r.receive(signed("x".repeat(2_001))))).toBe("IB_ERR_BODY_TOO_LARGE");
      expect(await codeOf(r.receive(signed("[1,2]")))).toBe("IB_ERR_PAYLOAD_INVALID");
      expect((await r.store.listRecords({})).items).toHaveLength(0);
    });

    it("refuses a notification older than the dedupe retention as stale, naming the setting", async () => {
      const r = receiver({ dedupeTtlMs: 3_600_000 });
      const old = body("ping", { createdAt: Math.floor(Date.now() / 1000) - 7_200 });
      await expect(r.receive(signed(old))).rejects.toThrow(/older than the dedupe retention.*dedupe-retention/);
    });

    it("answers duplicate for Intercom's retry of the same notification (delivery_attempts changes)", async () => {
      const r = receiver();
      r.onAny(() => undefined, { name: "a" });
      const first = body("conversation.user.replied");
      expect(await r.receive(signed(first))).toMatchObject({ status: "accepted", targets: ["a"] });
      const retry = first.replace('"delivery_attempts":1', '"delivery_attempts":2');
      expect(await r.receive(signed(retry))).toMatchObject({ status: "duplicate", targets: [] });
    });

    it("maps a failing store to IB_ERR_STORE_UNAVAILABLE and a store slower than storeTimeoutMs to the same code", async () => {
      const failing = {
        ...createMemoryStore(),
        enqueue: () => Promise.reject(new Error("disk full")),
      } as unknown as Store;
      const r1 = createReceiver({ secrets: [SECRET], store: failing });
      expect(await codeOf(r1.receive(signed(body("ping"))))).toBe("IB_ERR_STORE_UNAVAILABLE");
      const hanging = { ...createMemoryStore(), enqueue: () => new Promise(() => undefined) } as unknown as Store;
      const r2 = createReceiver({ secrets: [SECRET], store: hanging, storeTimeoutMs: 30 });
      const err = await r2.receive(signed(body("ping"))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(/storeTimeoutMs/);
    });
  });

  describe("exact bytes", () => {
    it("gives handlers the exact bytes of a body that is not valid UTF-8, and its text decoded", async () => {
      const r = receiver();
      const text = body("conversation.user.replied").replace(
        '"delivery_attempts"',
        '"note":"\uFFFD","delivery_attempts"',
      );
      // The same body with raw invalid bytes where the text has U+FFFD: what was signed is these bytes.
      const bytes = Buffer.from(text.replace("\uFFFD", "\u0000"), "utf8");
      bytes[bytes.indexOf(0)] = 0xff;
      const seen: Array<{ raw: string; bytes: Buffer }> = [];
      r.on("conversation.user.replied", (_n, ctx) => void seen.push({ raw: ctx.rawBody, bytes: ctx.rawBodyBytes }));
      const result = await r.receive({ body: bytes, headers: { "x-hub-signature": sign(bytes, SECRET) } });
      const stored = (await r.store.getRecord(result.recordId!))?.record;
      expect(stored?.body).toBe(text);
      expect(stored?.bodyBase64).toBe(bytes.toString("base64"));
      r.start();
      await waitFor(() => seen.length === 1);
      expect(seen[0]!.raw).toBe(text);
      expect(seen[0]!.bytes.equals(bytes)).toBe(true);
      await r.close(100);
    });

    it("keeps no second copy of a valid UTF-8 body, even one that contains U+FFFD itself", async () => {
      const r = receiver();
      const text = body("ping").replace('"delivery_attempts"', '"note":"\uFFFD","delivery_attempts"');
      const bytes = Buffer.from(text, "utf8");
      const result = await r.receive({ body: bytes, headers: { "x-hub-signature": sign(bytes, SECRET) } });
      expect((await r.store.getRecord(result.recordId!))?.record).not.toHaveProperty("bodyBase64");
      await r.close(100);
    });
  });

  describe("delivery", () => {
    it("aborts a handler's signal after its timeout and records IB_ERR_HANDLER_TIMEOUT", async () => {
      const r = receiver({ handlerTimeoutMs: 40, retry: { maxAttempts: 1 } });
      let aborted = false;
      r.on(
        "conversation.user.replied",
        (_n, ctx) =>
          new Promise<void>((resolve) => {
            ctx.signal.addEventListener("abort", () => {
              aborted = true;
              resolve();
            });
          }),
        { name: "slow" },
      );
      const res = await r.receive(signed(body("conversation.user.replied")));
      r.start();
      const job = await waitFor(async () => {
        const page = await r.store.listJobs({ recordId: res.recordId!, state: "dead" });
        return page.items[0];
      });
      expect(aborted).toBe(true);
      expect(job.lastError?.code).toBe("IB_ERR_HANDLER_TIMEOUT");
      await r.close();
    });

    it("dead-letters deliveries of a handler that is no longer registered with IB_ERR_HANDLER_MISSING", async () => {
      const r = receiver();
      const off = r.on("conversation.user.replied", () => undefined, { name: "removed-in-deploy" });
      const res = await r.receive(signed(body("conversation.user.replied")));
      off();
      r.start();
      const job = await waitFor(
        async () => (await r.store.listJobs({ recordId: res.recordId!, state: "dead" })).items[0],
      );
      expect(job.lastError?.code).toBe("IB_ERR_HANDLER_MISSING");
      await r.close();
    });

    it("runs deliveries of one item in created_at order even when they arrive out of order", async () => {
      const r = receiver({ concurrency: 8 });
      const seen: number[] = [];
      r.on(
        "conversation.*",
        async (n) => {
          await new Promise((res) => setTimeout(res, 5));
          seen.push(n.created_at);
        },
        { name: "ordered" },
      );
      const now = Math.floor(Date.now() / 1000);
      for (const offset of [3, 1, 4, 2, 0])
        await r.receive(signed(body("conversation.admin.noted", { itemId: "same", createdAt: now - 10 + offset })));
      r.start();
      await waitFor(() => seen.length === 5, { timeoutMs: 5_000 });
      expect(seen).toEqual([0, 1, 2, 3, 4].map((o) => now - 10 + o));
      await r.close();
    });

    it("retries without using an attempt on RetryLaterError and reports failures to onError", async () => {
      const r = receiver({ retry: { maxAttempts: 2 } });
      const attempts: number[] = [];
      const errors: Array<{ willRetry: boolean }> = [];
      r.onError((_e, info) => errors.push({ willRetry: info.willRetry }));
      let calls = 0;
      r.on(
        "ping",
        (_n, ctx) => {
          attempts.push(ctx.attempt);
          calls++;
          if (calls <= 2) throw new RetryLaterError(10);
          if (calls === 3) throw new Error("boom");
        },
        { name: "p" },
      );
      await r.receive(
        signed(
          JSON.stringify({
            type: "notification_event",
            app_id: "a",
            id: null,
            topic: "ping",
            created_at: Math.floor(Date.now() / 1000),
            data: { type: "notification_event_data", item: { type: "ping" } },
          }),
        ),
      );
      r.start();
      await waitFor(() => calls === 4, { timeoutMs: 5_000 });
      expect(attempts).toEqual([1, 1, 1, 2]);
      expect(errors.at(-1)).toEqual({ willRetry: true });
      await r.close();
    });
  });
});
