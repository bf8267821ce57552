/**
 * The outbound options `serve` and the `events` commands share (pacing, metadata overflow, the event-name limit),
 * defined once with their environment variables and defaults.
 */
import { Option } from "commander";
import { ENV } from "../config/env.js";
import { DEFAULT_MAX_EVENT_NAMES } from "../outbound/event-names.js";
import { intArg, secondsArg } from "./parse.js";

/**
 * The outbound options `serve` and the `events` commands share (pacing, metadata overflow, the event-name limit), with
 * the same environment variables and defaults. `label` prefixes each description (`"outbound: "` in `serve`).
 */
export function outboundOptions(label = ""): Option[] {
  return [
    new Option(
      "--rate-limit-per-minute <n>",
      `${label}Intercom rate limit assumed until X-RateLimit-Limit is seen (spread over the rate-limit windows)`,
    )
      .env(ENV.rateLimitPerMinute)
      .argParser(intArg(1))
      .default(10_000),
    new Option(
      "--rate-limit-window-seconds <n>",
      `${label}rate-limit window length assumed until Intercom's answers show it (the window end comes from X-RateLimit-Reset and the length from successive resets; Intercom: 10)`,
    )
      .env(ENV.rateLimitWindowSeconds)
      .argParser(secondsArg)
      .default(10),
    new Option(
      "--metadata-overflow <mode>",
      `${label}an event with more than 10 metadata keys is refused (error) or keeps the first 10 with a warning (truncate)`,
    )
      .env(ENV.metadataOverflow)
      .choices(["error", "truncate"])
      .default("error"),
    new Option(
      "--metadata-key-case <mode>",
      `${label}metadata keys that differ only in case (Plan, plan), which Intercom treats as one key: accepted with a warning (warn) or refused (error)`,
    )
      .env(ENV.metadataKeyCase)
      .choices(["warn", "error"])
      .default("warn"),
    new Option(
      "--max-event-names <n>",
      `${label}distinct event names before a warning (Intercom keeps 120 active names per workspace and answers 422 past them)`,
    )
      .env(ENV.maxEventNames)
      .argParser(intArg(1))
      .default(DEFAULT_MAX_EVENT_NAMES),
  ];
}

/**
 * Where Intercom's REST API is and which version to pin: `--region`, `--base-url`, `--intercom-version`, with their
 * environment variables. The access token is always read from INTERCOM_ACCESS_TOKEN, never from a flag.
 */
export function intercomApiOptions(): Option[] {
  return [
    new Option("--region <region>", "Intercom region (the access token is read from INTERCOM_ACCESS_TOKEN)")
      .choices(["us", "eu", "au"])
      .env(ENV.region),
    new Option("--base-url <url>", "Intercom API base URL, overrides --region (e.g. a fake-intercom URL)").env(
      ENV.apiBaseUrl,
    ),
    new Option("--intercom-version <version>", "Intercom-Version header to pin (default 2.14)").env(
      ENV.intercomVersion,
    ),
  ];
}
