/**
 * Handler narrowing through createIntercomWebhooks, and the adapters' types: each adapter takes the receiver that
 * createIntercomWebhooks returns and gives back what its framework expects, so the typed `on()` survives mounting.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import express, { type RequestHandler } from "express";
import Fastify, { type FastifyPluginAsync } from "fastify";
import { Hono, type MiddlewareHandler } from "hono";
import { describe, expectTypeOf, it } from "vitest";
import {
  createIntercomWebhooks,
  createMemoryStore,
  type IntercomNotification,
  type IntercomWebhooks,
  type Receiver,
  type TopicItemMap,
} from "../../src/index.js";
import { createExpressMiddleware } from "../../src/http/express.js";
import { createFastifyPlugin } from "../../src/http/fastify.js";
import { createHonoMiddleware } from "../../src/http/hono.js";
import { createNodeMiddleware } from "../../src/http/node.js";
import { createWebHandler, type WebHandler } from "../../src/http/web.js";

const webhooks = createIntercomWebhooks({ secret: "s" });

describe("createIntercomWebhooks", () => {
  it("returns a Receiver", () => {
    expectTypeOf(webhooks).toEqualTypeOf<IntercomWebhooks>();
    expectTypeOf(webhooks).toMatchTypeOf<Receiver>();
  });

  it("narrows an exact topic", () => {
    webhooks.on("ticket.created", (n) => {
      expectTypeOf(n.topic).toEqualTypeOf<"ticket.created">();
      expectTypeOf(n.data.item).toEqualTypeOf<TopicItemMap["ticket.created"]>();
      expectTypeOf(n).toEqualTypeOf<IntercomNotification<"ticket.created">>();
    });
  });

  it("narrows a group pattern to its topics, and switch narrows further", () => {
    webhooks.on("conversation.*", (n) => {
      expectTypeOf(n.topic).toMatchTypeOf<`conversation.${string}`>();
      if (n.topic === "conversation.user.replied") {
        expectTypeOf(n.data.item).toEqualTypeOf<TopicItemMap["conversation.user.replied"]>();
      }
    });
    webhooks.on(["ticket.created", "contact.user.created"], (n) => {
      expectTypeOf(n.topic).toEqualTypeOf<"ticket.created" | "contact.user.created">();
    });
  });

  it("gives onAny every notification, unknown topics included", () => {
    webhooks.onAny((n) => {
      expectTypeOf(n.topic).toEqualTypeOf<string>();
      expectTypeOf(n.data.item).toEqualTypeOf<unknown>();
    });
  });

  it("rejects misspelled topics and unknown groups", () => {
    // @ts-expect-error misspelled topic
    webhooks.on("ticket.craeted", () => {});
    // @ts-expect-error unknown group
    webhooks.on("tickets.*", () => {});
    // @ts-expect-error the handler's notification is narrowed: another topic's literal does not fit
    webhooks.on("ticket.created", (n: IntercomNotification<"contact.user.created">) => void n);
  });

  it("takes exactly one of secret and secrets", () => {
    createIntercomWebhooks({ secrets: ["old", "new"], store: createMemoryStore() });
    createIntercomWebhooks({ secrets: "one" });
    // @ts-expect-error both
    createIntercomWebhooks({ secret: "a", secrets: ["b"] });
    // @ts-expect-error neither
    createIntercomWebhooks({ store: createMemoryStore() });
    // @ts-expect-error unknown option
    createIntercomWebhooks({ secret: "a", maxBodyByte: 10 });
  });
});

describe("adapters", () => {
  it("node: a request listener for node:http", () => {
    const handler = createNodeMiddleware(webhooks, { path: "/webhooks/intercom" });
    expectTypeOf(handler).parameter(0).toEqualTypeOf<IncomingMessage>();
    expectTypeOf(handler).parameter(1).toEqualTypeOf<ServerResponse>();
    expectTypeOf(createServer((req, res) => void handler(req, res))).toEqualTypeOf<Server>();
  });

  it("express: a RequestHandler app.use() accepts", () => {
    const mw = createExpressMiddleware(webhooks, { path: "/webhooks/intercom" });
    expectTypeOf(mw).toMatchTypeOf<RequestHandler>();
    express().use(mw);
    // @ts-expect-error the receiver comes first
    createExpressMiddleware({ path: "/x" });
  });

  it("fastify: a plugin app.register() accepts", async () => {
    const plugin = createFastifyPlugin(webhooks, { path: "/webhooks/intercom" });
    expectTypeOf(plugin).toEqualTypeOf<FastifyPluginAsync>();
    await Fastify().register(plugin, { prefix: "/hooks" });
  });

  it("web: (Request) => Promise<Response>", () => {
    const handler = createWebHandler(webhooks);
    expectTypeOf(handler).toEqualTypeOf<WebHandler>();
    expectTypeOf(handler).toEqualTypeOf<(request: Request) => Promise<Response>>();
  });

  it("hono: a MiddlewareHandler app.use() accepts", () => {
    const mw = createHonoMiddleware(webhooks, { path: "/webhooks/intercom" });
    expectTypeOf(mw).toEqualTypeOf<MiddlewareHandler>();
    new Hono().use(mw);
  });

  it("node: also Express middleware app.use() accepts", () => {
    express().use(createNodeMiddleware(webhooks, { path: "/webhooks/intercom" }));
  });

  it.each([
    ["node", (hooks: IntercomWebhooks) => void createServer((q, r) => void createNodeMiddleware(hooks)(q, r))],
    ["express", (hooks: IntercomWebhooks) => void express().use(createExpressMiddleware(hooks))],
    ["fastify", (hooks: IntercomWebhooks) => void Fastify().register(createFastifyPlugin(hooks))],
    ["web", (hooks: IntercomWebhooks) => void createWebHandler(hooks)],
    ["hono", (hooks: IntercomWebhooks) => void new Hono().use(createHonoMiddleware(hooks))],
  ])("%s: on() still narrows and refuses misspelt topics once mounted", (_name, mount) => {
    const hooks = createIntercomWebhooks({ secret: "s" });
    mount(hooks);
    hooks.on("conversation.admin.replied", (n) => {
      expectTypeOf(n.data.item).toEqualTypeOf<TopicItemMap["conversation.admin.replied"]>();
    });
    hooks.on("contact.*", (n) => {
      expectTypeOf(n.topic).toMatchTypeOf<`contact.${string}`>();
    });
    // @ts-expect-error misspelled topic
    hooks.on("conversation.admin.repiled", () => {});
    hooks.onError((error, info) => {
      expectTypeOf(error).toEqualTypeOf<unknown>();
      expectTypeOf(info.name).toEqualTypeOf<string>();
      expectTypeOf(info.notification).toEqualTypeOf<IntercomNotification<string>>();
      expectTypeOf(info.willRetry).toEqualTypeOf<boolean>();
    });
  });

  it("handlers registered after mounting are still narrowed", () => {
    const app = new Hono();
    const hooks = createIntercomWebhooks({ secret: "s" });
    app.use(createHonoMiddleware(hooks));
    hooks.on("contact.user.created", (n) => {
      expectTypeOf(n.topic).toEqualTypeOf<"contact.user.created">();
    });
  });
});
