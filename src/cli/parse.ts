/**
 * The commander argument parsers every command shares: integers with a floor, durations, times and ages, whole seconds,
 * and the reducer of repeatable options. Each refuses a bad value with commander's `InvalidArgumentError`, so the
 * message names the flag.
 */
import { InvalidArgumentError } from "commander";
import type { ConfigError } from "../core/errors.js";
import { parseDuration } from "../config/options.js";

/** commander parser: an integer >= min. */
export function intArg(min: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < min)
      throw new InvalidArgumentError(`must be an integer >= ${min}`);
    return Number(value);
  };
}

/** commander parser: a duration (`500ms`, `30s`, `15m`, `2h`, `7d`, or integer ms). */
export function durationArg(value: string): number {
  try {
    return parseDuration(value, "duration");
  } catch (err) {
    throw new InvalidArgumentError((err as ConfigError).message.replace(/^duration /, ""));
  }
}

/** commander parser: a time, as ISO-8601, unix seconds, or an age like `2h` (meaning "2 hours ago"). Returns epoch ms. */
export function timeArg(value: string): number {
  const v = value.trim();
  if (/^\d{9,10}$/.test(v)) return Number(v) * 1000;
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/.test(v)) return Date.now() - parseDuration(v, "time");
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError("must be an ISO time, unix seconds, or an age such as 2h or 7d");
  return t;
}

/** commander reducer for repeatable options. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** commander parser: a duration (`500ms`, `30s`, `2h`; a bare number is milliseconds) of at least `minMs`. */
export function durationAtLeast(minMs: number): (value: string) => number {
  return (value) => {
    const ms = durationArg(value);
    if (ms < minMs) throw new InvalidArgumentError(`must be at least ${minMs} ms`);
    return ms;
  };
}

/** commander parser for a `…-seconds` option: whole seconds (`10`) or a duration (`10s`, `1m`); returns seconds >= 1. */
export function secondsArg(value: string): number {
  const v = value.trim();
  const seconds = /^\d+$/.test(v) ? Number(v) : durationArg(v) / 1000;
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new InvalidArgumentError("must be whole seconds >= 1 (10, 10s, 1m)");
  return seconds;
}
