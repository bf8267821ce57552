/**
 * How the service writes its log: `json` (one pino object per line, for log collectors) or `pretty` (pino-pretty's
 * coloured lines, for a developer's terminal). The default follows where the output goes: a terminal gets pretty.
 */
import type { DestinationStream } from "pino";

/** The log formats `serve --log-format` accepts. */
export const LOG_FORMATS = ["pretty", "json"] as const;
/** One of {@link LOG_FORMATS}. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** `pretty` when stdout is a terminal, `json` otherwise (files, pipes, containers). */
export function defaultLogFormat(stream: { isTTY?: boolean } = process.stdout): LogFormat {
  return stream.isTTY === true ? "pretty" : "json";
}

/** The destination for `pretty`: pino-pretty in this thread (synchronous, so nothing is lost on exit); undefined for json. */
export async function logDestination(format: LogFormat): Promise<DestinationStream | undefined> {
  if (format !== "pretty") return undefined;
  const { default: pretty } = await import("pino-pretty");
  return pretty({
    colorize: process.stdout.isTTY === true,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname",
    sync: true,
  });
}
