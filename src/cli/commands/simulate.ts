/**
 * `intercom-bridge simulate`: sends realistic signed notifications (the captured samples that ship with the package, or
 * an envelope around a minimal item) to a running receiver, and says what to do when nothing listens or the secret does
 * not match.
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sign } from "../../core/signature.js";
import { secretsFromEnv } from "../../config/env.js";
import { topicCatalogue, topicNames } from "../../topics/index.js";
import { collect, intArg } from "../parse.js";

/** Where the captured sample notifications ship inside the package. */
export const SAMPLES_DIR = fileURLToPath(new URL("../../../samples/intercom/", import.meta.url));

interface SimulateFlags {
  url: string;
  secret?: string;
  topic?: string[];
  count?: number;
  duplicates: number;
  concurrency: number;
  asCaptured?: boolean;
  dataDir: string;
  json?: boolean;
}

/** Loads the shipped samples, grouped by topic, as raw text. */
export function loadSamples(dir = SAMPLES_DIR): Map<string, string[]> {
  const byTopic = new Map<string, string[]>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    const text = readFileSync(join(dir, file), "utf8");
    const topic = (JSON.parse(text) as { topic: string }).topic;
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), text]);
  }
  return byTopic;
}

/** A realistic body for a topic: a captured sample if one ships, otherwise an envelope around a minimal item. */
export function bodyFor(topic: string, samples: Map<string, string[]>, index: number, asCaptured: boolean): string {
  const list = samples.get(topic);
  const base = list
    ? (JSON.parse(list[index % list.length]!) as Record<string, unknown>)
    : {
        type: "notification_event",
        app_id: "simulated",
        data: {
          type: "notification_event_data",
          item: {
            type: (topicCatalogue as unknown as Record<string, { item: string } | undefined>)[topic]?.item ?? "unknown",
            id: String(100000 + index),
          },
        },
        links: {},
        id: null,
        topic,
        delivery_status: "pending",
        delivery_attempts: 1,
        delivered_at: 0,
        first_sent_at: 0,
        created_at: 0,
        self: null,
      };
  if (asCaptured && list) return list[index % list.length]!;
  const now = Math.floor(Date.now() / 1000);
  base["id"] = `notif_${randomUUID()}`;
  base["created_at"] = now;
  base["first_sent_at"] = now;
  return JSON.stringify(base);
}

/** `intercom-bridge simulate`: send realistic signed notifications to a running receiver. */
export function registerSimulateCommand(program: Command): void {
  program
    .command("simulate")
    .description(
      "Send realistic signed Intercom notifications (captured samples, one per topic Intercom sends unless --topic is given) and print the status codes received.\n" +
        "Each is sent with a fresh id and created_at (neither duplicate nor stale) unless --as-captured.",
    )
    .addOption(
      new Option("--url <url>", "webhook URL")
        .env("INTERCOM_BRIDGE_URL")
        .default("http://127.0.0.1:8080/webhooks/intercom"),
    )
    .addOption(
      new Option(
        "--secret <secret>",
        "client secret to sign with (default: INTERCOM_CLIENT_SECRET, else the development secret serve generated in --data-dir)",
      ),
    )
    .addOption(
      new Option("--topic <topic>", "topic to send (repeatable; default: every topic Intercom sends)").argParser(
        collect,
      ),
    )
    .addOption(
      new Option(
        "--count <n>",
        "notifications to send in all, cycling through the topics (default: one per topic)",
      ).argParser(intArg(1)),
    )
    .addOption(
      new Option(
        "--duplicates <fraction>",
        "fraction (0-1) of notifications to send a second time, as Intercom's retry would",
      )
        .argParser(fractionArg)
        .default(0),
    )
    .addOption(new Option("--concurrency <n>", "requests in flight at once").argParser(intArg(1)).default(8))
    .option(
      "--as-captured",
      "send the samples' exact bytes (their old created_at makes them stale, and repeats are duplicates)",
    )
    .addOption(
      new Option("--data-dir <dir>", "where serve keeps its generated development secret")
        .env("INTERCOM_BRIDGE_DATA_DIR")
        .default("./data"),
    )
    .option("--json", "print the summary as JSON")
    .action(async (flags: SimulateFlags) => {
      const secret = flags.secret ?? secretsFromEnv()[0] ?? readDevSecret(flags.dataDir);
      const secretOrigin =
        flags.secret !== undefined
          ? "--secret"
          : secretsFromEnv()[0] !== undefined
            ? "INTERCOM_CLIENT_SECRET"
            : join(flags.dataDir, "dev-client-secret");
      if (!secret) {
        throw new Error(
          "No secret: pass --secret, set INTERCOM_CLIENT_SECRET, or start `intercom-bridge serve` once so it generates a development secret in ./data",
        );
      }
      const samples = loadSamples();
      // Synthetic reconcile.* topics are not Intercom's to send: only on request.
      const topics =
        flags.topic && flags.topic.length > 0
          ? flags.topic
          : topicNames.filter((t) => topicCatalogue[t].source !== "intercom-bridge");
      const count = flags.count ?? topics.length;
      const bodies: Array<{ topic: string; body: string }> = [];
      for (let i = 0; i < count; i++) {
        const topic = topics[i % topics.length]!;
        const body = bodyFor(topic, samples, Math.floor(i / topics.length), flags.asCaptured === true);
        bodies.push({ topic, body });
        if (Math.random() < flags.duplicates) bodies.push({ topic, body });
      }
      const statuses = new Map<string, number>();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < bodies.length) {
          const { body } = bodies[next++]!;
          let key: string;
          try {
            const res = await fetch(flags.url, {
              method: "POST",
              headers: {
                "content-type": "application/json",
                "x-hub-signature": sign(body, secret),
                "user-agent": "intercom-bridge-simulate",
              },
              body,
            });
            const text = await res.text();
            key = res.status === 200 && text.includes('"duplicate":true') ? "200 duplicate" : String(res.status);
          } catch (err) {
            key = `error: ${describeFetchError(err)}`;
          }
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: Math.min(flags.concurrency, bodies.length) }, worker));
      const summary = Object.fromEntries([...statuses.entries()].sort());
      if (flags.json)
        process.stdout.write(JSON.stringify({ url: flags.url, sent: bodies.length, statuses: summary }) + "\n");
      else {
        process.stdout.write(`Sent ${bodies.length} notifications (${topics.length} topics) to ${flags.url}\n`);
        for (const [k, v] of Object.entries(summary)) process.stdout.write(`  ${k.padEnd(16)} ${v}\n`);
      }
      for (const hint of hintsFor(statuses, flags.url, secretOrigin)) process.stderr.write(`${hint}\n`);
      if ([...statuses.keys()].some((k) => !k.startsWith("200"))) process.exitCode = 1;
    });
}

function readDevSecret(dataDir: string): string | undefined {
  const path = join(dataDir, "dev-client-secret");
  return existsSync(path) ? readFileSync(path, "utf8").trim() : undefined;
}

function fractionArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError("must be a number between 0 and 1");
  return n;
}

/** The reason a request could not be made, from undici's `fetch failed` and its cause (ECONNREFUSED, ENOTFOUND…). */
function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === "ECONNREFUSED") return "connection refused";
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ""}`;
  return cause?.message ?? (err as Error).message;
}

/** What to do about the statuses seen: nothing listening, or a secret the server does not share. */
function hintsFor(statuses: ReadonlyMap<string, number>, url: string, secretOrigin: string): string[] {
  const hints: string[] = [];
  if (statuses.has("error: connection refused")) {
    hints.push(
      `Nothing is listening at ${url}: is \`intercom-bridge serve\` running on ${new URL(url).host}? (--url or INTERCOM_BRIDGE_URL sets where simulate sends)`,
    );
  }
  if (statuses.has("401")) {
    hints.push(
      `401: the server refused the signature, so the secret simulate signed with (from ${secretOrigin}) differs from the server's. serve reads INTERCOM_CLIENT_SECRET, else the development secret in its --data-dir (./data/dev-client-secret); give simulate the same one with --secret or INTERCOM_CLIENT_SECRET.`,
    );
  }
  return hints;
}
