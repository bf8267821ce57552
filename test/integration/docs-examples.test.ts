/**
 * Runs every example in docs/frameworks.md, the README, docs/library.md and docs/testing.md, so the documentation
 * cannot rot: each ```ts block tagged
 * `example=<name>` is extracted, its `intercom-bridge` imports are pointed at the local sources (nothing else is
 * changed), and it is started with tsx in a child process with PORT and INTERCOM_CLIENT_SECRET set. The test then
 * checks the HEAD probe, sends a signed notification, expects 200 and waits for the example's handler to print the
 * notification id.
 *
 * Next.js, Bun and Deno cannot run here, so their examples run under Node with the smallest possible stand-in for
 * the platform part (Next.js calling the exported POST/HEAD with a Request; `Bun.serve`; `Deno.serve`/`Deno.env`),
 * built on @hono/node-server. That checks our half of those examples, not the platforms.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { sign } from "../../src/index.js";
import { localSource, rewriteImports, ROOT, TSX, typecheckExamples } from "../helpers/doc-examples.js";

const DOC = join(ROOT, "docs/frameworks.md");
const SECRET = "docs-example-secret";
const PATH = "/webhooks/intercom";
// Inside the repository (test-output/ is git-ignored) so the examples resolve express, fastify, hono… from node_modules.
const OUT = join(ROOT, "test-output", "docs-examples");
const EXPECTED_EXAMPLES = ["node", "express", "fastify", "hono", "nextjs", "bun", "deno", "other"];

interface Example {
  name: string;
  code: string;
  /** Type-checked, not started (`check=types`). */
  typesOnly: boolean;
}

/**
 * The ```ts blocks of a document; every one must carry `example=<name>`. Most are servers the test starts; a block
 * that is not a server (a handlers module, a script, test code) is tagged `check=types` and is type-checked only.
 */
function extractExamples(markdown: string, file: string): Example[] {
  const blocks = [...markdown.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)];
  return blocks.map(([, info, code]) => {
    const name = /\bexample=([\w-]+)/.exec(info ?? "")?.[1];
    if (!name) throw new Error(`a \`\`\`ts block in ${file} has no example=<name> tag:\n${code}`);
    return { name, code: code!, typesOnly: /\bcheck=types\b/.test(info ?? "") };
  });
}

/** Platform stand-ins for the examples Node cannot run as they are. */
const STANDINS: Record<string, (examplePath: string) => string> = {
  nextjs: (p) => `import { serve } from "@hono/node-server";
const route: Record<string, unknown> = await import(${JSON.stringify(pathToFileURL(p).href)});
serve({
  port: Number(process.env.PORT),
  fetch: (request: Request) => {
    const handler = route[request.method];
    return typeof handler === "function" ? (handler as (r: Request) => Promise<Response>)(request) : new Response(null, { status: 405 });
  },
});
`,
  bun: (p) => `import { serve } from "@hono/node-server";
(globalThis as Record<string, unknown>).Bun = {
  serve: (o: { port: number; fetch: (r: Request) => Promise<Response> }) => serve({ port: o.port, fetch: o.fetch }),
};
await import(${JSON.stringify(pathToFileURL(p).href)});
`,
  deno: (p) => `import { serve } from "@hono/node-server";
(globalThis as Record<string, unknown>).Deno = {
  env: { get: (name: string) => process.env[name] },
  serve: (o: { port: number }, fetch: (r: Request) => Promise<Response>) => serve({ port: o.port, fetch }),
};
await import(${JSON.stringify(pathToFileURL(p).href)});
`,
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh conversation.user.replied notification: the captured payload with a new id and a current created_at. */
function freshNotification(): { id: string; body: Buffer } {
  const id = `notif_docs_${randomUUID()}`;
  const captured = readFileSync(join(ROOT, "test/fixtures/intercom/conversation_user_replied.json"), "utf8");
  const text = captured
    .replace(/^ {4}"id": "notif_[^"]+",$/m, `    "id": "${id}",`)
    .replace(/^ {4}"created_at": \d+,$/m, `    "created_at": ${Math.floor(Date.now() / 1000)},`);
  if (!text.includes(id) || text === captured) throw new Error("could not refresh the fixture's envelope");
  return { id, body: Buffer.from(text) };
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  child: ChildProcess,
  output: () => string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`example exited (${child.exitCode}) before ${what}:\n${output()}`);
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const markdown = readFileSync(DOC, "utf8");
/** The other documents with ts examples: the README, then the docs it points to for the library and for tests. */
const OTHER_DOCS = ["README.md", "docs/library.md", "docs/testing.md"];
const documented = [
  ...extractExamples(markdown, "docs/frameworks.md"),
  ...OTHER_DOCS.flatMap((file) => extractExamples(readFileSync(join(ROOT, file), "utf8"), file)),
];
const examples = documented.filter((e) => !e.typesOnly);
const children = new Set<ChildProcess>();
const workDirs: string[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
});

// Child processes and a tsc run: generous when the whole suite shares the CPU.
describe(
  "documentation examples (docs/frameworks.md, the README, docs/library.md, docs/testing.md)",
  { timeout: 120_000 },
  () => {
    it("has one runnable example per framework, and every ts block is tagged", () => {
      expect(examples.map((e) => e.name)).toEqual([...EXPECTED_EXAMPLES, "library", "core"]);
      expect(documented.filter((e) => e.typesOnly).map((e) => e.name)).toEqual([
        "handlers-module",
        "idempotent",
        "tracker",
        "reconcile-handler",
        "testing",
        "fake-intercom-routes",
      ]);
      expect(markdown).toMatch(/Which should I use: `serve` or the library\?/);
    });

    it("imports only package entries that exist", () => {
      for (const { code } of documented) {
        for (const [, sub] of code.matchAll(/from\s+"(?:npm:)?intercom-bridge((?:\/[\w-]+)?)"/g))
          expect(() => localSource(sub ?? "", OUT)).not.toThrow();
      }
    });

    it("type-checks every example as written (strict, with the package's types)", async () => {
      // The two platform globals the Bun and Deno examples use, as small as they need.
      const platformGlobals = `declare const Bun: { serve(options: { port: number; fetch: (request: Request) => Promise<Response> }): unknown };
declare const Deno: {
  env: { get(name: string): string | undefined };
  serve(options: { port: number }, handler: (request: Request) => Promise<Response>): unknown;
};
`;
      const result = await typecheckExamples(
        join(OUT, "typecheck"),
        Object.fromEntries(documented.map((e) => [e.name, e.code])),
        { "platform-globals.d.ts": platformGlobals },
      );
      expect(result).toBe("");
    });

    it.each(examples)(
      "runs the $name example: HEAD 200, a signed notification is accepted and its handler runs",
      async ({ name, code }) => {
        mkdirSync(OUT, { recursive: true });
        const examplePath = join(OUT, `${name}.ts`);
        writeFileSync(examplePath, rewriteImports(code, OUT));
        let entry = examplePath;
        const standin = STANDINS[name];
        if (standin) {
          entry = join(OUT, `${name}.run.ts`);
          writeFileSync(entry, standin(examplePath));
        }
        const cwd = mkdtempSync(join(tmpdir(), `ib-docs-${name}-`));
        workDirs.push(cwd);
        const port = await freePort();
        const child = spawn(process.execPath, ["--import", TSX, entry], {
          cwd,
          env: { ...process.env, PORT: String(port), INTERCOM_CLIENT_SECRET: SECRET, NODE_ENV: "production" },
          stdio: ["ignore", "pipe", "pipe"],
        });
        children.add(child);
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (out += d.toString()));
        const url = `http://127.0.0.1:${port}${PATH}`;
        try {
          const head = await waitFor(
            "the server to answer HEAD",
            async () => {
              try {
                return await fetch(url, { method: "HEAD" });
              } catch {
                return undefined;
              }
            },
            child,
            () => out,
          );
          expect(head.status).toBe(200);

          const { id, body } = freshNotification();
          const unsigned = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: new Uint8Array(body),
          });
          expect(unsigned.status).toBe(401);
          const res = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json", "x-hub-signature": sign(body, SECRET) },
            body: new Uint8Array(body),
          });
          const text = await res.text();
          expect(res.status, `${text}\n${out}`).toBe(200);
          expect(text).toBe('{"received":true}');
          if (code.includes('"/api/orders"')) {
            // The example says the app's own routes keep their JSON parsing: check it.
            const orders = await fetch(url.replace(PATH, "/api/orders"), {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: '{"sku":"A-1","qty":2}',
            });
            expect(await orders.json()).toEqual({ ok: true, order: { sku: "A-1", qty: 2 } });
          }
          await waitFor(
            "the handler to print the notification id",
            () => (out.includes(id) ? true : undefined),
            child,
            () => out,
          );
          expect(out).toContain("customer replied in");
        } finally {
          child.kill("SIGTERM");
          await new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            const timer = setTimeout(() => {
              child.kill("SIGKILL");
              resolve();
            }, 5_000);
            child.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
      },
    );
  },
);
