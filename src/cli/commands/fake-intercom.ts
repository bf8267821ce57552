/**
 * `intercom-bridge fake-intercom`: runs the local stand-in for Intercom's Data Events API and search workspace
 * (`outbound/fake-intercom.ts`), with flags for rate-limit windows, injected errors and seeded items, until
 * interrupted.
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import { readFileSync } from "node:fs";
import { startFakeIntercom } from "../../outbound/fake-intercom.js";
import { seedWorkspace } from "../../reconcile/fake-workspace.js";
import { durationAtLeast, intArg, secondsArg } from "../parse.js";

function fractionArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError("must be a number between 0 and 1");
  return n;
}

/**
 * `fake-intercom`: a local stand-in for Intercom's Data Events API (`POST /events`, `GET /events`,
 * `POST /events/summaries`), for development and tests (Intercom cannot be reached from here). Runs until interrupted.
 */
export function registerFakeIntercomCommand(program: Command): void {
  program
    .command("fake-intercom")
    .description(
      "Run a local stand-in for Intercom's Data Events API: POST /events, GET /events?type=user&user_id=… (event.list, or event.summary with summary=true), POST /events/summaries, bearer token, error.list errors, 10-key metadata rule, dedupe on (contact, name, created_at), X-RateLimit-* windows announced through X-RateLimit-Reset with 429 past the budget, injectable errors (any 4xx/5xx, each with an error.list body carrying Intercom's code for it), slow answers and lost answers. Contacts whose identifier starts with \"missing\" answer 404. Control: GET /_fake/stats, GET /_fake/events, POST /_fake/control {failNext,failStatus,failRate,delayMs,loseAnswerNext,loseAnswerRate,token}, POST /_fake/reset.\n" +
        "It also answers GET /me and POST /conversations/search, /contacts/search and /tickets/search over a seeded workspace, with Intercom's query semantics (contacts match dates by calendar day in --timezone; AND/OR groups; cursor pagination). Seed with --seed <file> or POST /_fake/items/<conversations|contacts|tickets> (an item or an array; a known id is updated, updated_at defaults to now); POST /_fake/search-control {failNext,failStatus,skip} injects search failures.",
    )
    .addOption(new Option("--port <port>", "port to listen on (0: any free port)").argParser(intArg(0)).default(4010))
    .option("--host <host>", "address to bind", "127.0.0.1")
    .addOption(
      new Option("--token <token>", "the bearer token to accept").env("FAKE_INTERCOM_TOKEN").default("test-token"),
    )
    .addOption(
      new Option("--limit-per-window <n>", "requests allowed per window (X-RateLimit-Limit)")
        .argParser(intArg(1))
        .default(1666),
    )
    .addOption(
      new Option(
        "--window-seconds <n>",
        "rate-limit window length in seconds (10, 10s, 1m); every answer announces the window's end in X-RateLimit-Reset",
      )
        .argParser(secondsArg)
        .default(10),
    )
    .addOption(
      new Option(
        "--window-offset-seconds <n>",
        "windows start this many seconds past multiples of --window-seconds since the epoch",
      )
        .argParser(intArg(0))
        .default(0),
    )
    .addOption(new Option("--max-event-names <n>", "distinct event names before 422").argParser(intArg(1)).default(120))
    .addOption(
      new Option("--fail-rate <fraction>", "fraction of POST /events answering --fail-status (0-1)")
        .argParser(fractionArg)
        .default(0),
    )
    .addOption(
      new Option(
        "--fail-status <status>",
        "status for injected failures, answered with Intercom's error.list code for it (400 parameter_invalid, 403 forbidden, 404 not_found, 422 unprocessable_entity, 429 rate_limit_exceeded, 503 service_unavailable, …)",
      )
        .argParser(intArg(400))
        .default(500),
    )
    .addOption(
      new Option(
        "--lose-answer-rate <fraction>",
        "fraction of POST /events that are recorded and then get their connection reset instead of an answer, as on a volatile network (0-1)",
      )
        .argParser(fractionArg)
        .default(0),
    )
    .addOption(
      new Option(
        "--delay-ms <duration>",
        "answer every request this late, e.g. 200ms or 2s (the event is still processed at once)",
      )
        .argParser(durationAtLeast(0))
        .default(0),
    )
    .option("--app-id <id>", "workspace app id_code answered by GET /me", "fakeapp1")
    .option("--timezone <zone>", "workspace timezone (IANA): where contacts search's calendar days begin", "UTC")
    .option(
      "--seed <file>",
      'JSON file {"conversations":[…],"contacts":[…],"tickets":[…]} of items to serve (missing fields get realistic defaults)',
    )
    .action(
      async (flags: {
        appId: string;
        timezone: string;
        seed?: string;
        port: number;
        host: string;
        token: string;
        limitPerWindow: number;
        windowSeconds: number;
        windowOffsetSeconds: number;
        maxEventNames: number;
        loseAnswerRate: number;
        failRate: number;
        failStatus: number;
        delayMs: number;
      }) => {
        const fake = await startFakeIntercom({
          port: flags.port,
          host: flags.host,
          token: flags.token,
          limitPerWindow: flags.limitPerWindow,
          windowMs: flags.windowSeconds * 1000,
          windowOffsetMs: flags.windowOffsetSeconds * 1000,
          maxEventNames: flags.maxEventNames,
          appId: flags.appId,
          timezone: flags.timezone,
        });
        const seeded = flags.seed
          ? seedWorkspace(fake.workspace, JSON.parse(readFileSync(flags.seed, "utf8")) as unknown)
          : null;
        fake.setFaults({
          failRate: flags.failRate,
          failStatus: flags.failStatus,
          delayMs: flags.delayMs,
          loseAnswerRate: flags.loseAnswerRate,
        });
        process.stdout.write(
          `fake-intercom listening on ${fake.url} (${flags.limitPerWindow} requests per ${flags.windowSeconds} s)\n` +
            `  INTERCOM_API_BASE_URL=${fake.url}\n  stats: ${fake.url}/_fake/stats   events: ${fake.url}/_fake/events\n` +
            (seeded
              ? `  seeded ${seeded.conversations} conversations, ${seeded.contacts} contacts, ${seeded.tickets} tickets (app ${flags.appId})\n`
              : ""),
        );
        await new Promise<void>((resolve) => {
          const stop = (): void => resolve();
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
        });
        await fake.close();
      },
    );
}
