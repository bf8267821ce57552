/**
 * Checks one topic pattern a user wrote (a `--handlers` key, an `on()` argument) against the catalogue, so a typo is
 * caught when the service starts rather than discovered when a handler never runs. Pure: it knows the catalogue and
 * nothing else (no logging, no I/O); callers decide whether a finding is an error or a warning.
 */
import { topicNames } from "./generated/topic-names.js";

/** What {@link checkTopicPattern} found. */
export type PatternCheck =
  /** `*`, or `**` (a handlers module's alias): every notification. */
  | { kind: "every" }
  /** A catalogued topic, or a `group.*` that matches at least one. */
  | { kind: "ok" }
  /** An exact topic outside the catalogue, not close to any catalogued one: it still receives that topic. */
  | { kind: "uncatalogued"; message: string }
  /** A near miss of a catalogued topic, a pattern that can match nothing, or a malformed pattern. */
  | { kind: "error"; message: string; suggestion: string | null };

const KNOWN: ReadonlySet<string> = new Set(topicNames);
const GROUPS: readonly string[] = [...new Set(topicNames.map((t) => `${t.slice(0, t.indexOf("."))}.*`))];

/** Levenshtein distance (insertions, deletions, substitutions), as used for did-you-mean. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest of `candidates` to `input`, when it is close enough to be a typo of it; else null. */
export function closest(input: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(input, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  // Up to 3 edits, and never more than a third of the word: "conversation.user.repled" yes, "billing.paid" no.
  return best !== null && bestDistance > 0 && bestDistance <= Math.min(3, Math.ceil(input.length / 3)) ? best : null;
}

/** Checks a pattern (`topic`, `group.*`, `*`; `**` too when `allowDoubleStar`) against the catalogue. */
export function checkTopicPattern(pattern: string, options: { allowDoubleStar?: boolean } = {}): PatternCheck {
  if (pattern === "*" || (pattern === "**" && options.allowDoubleStar === true)) return { kind: "every" };
  if (pattern.endsWith(".*") && pattern.length > 2 && pattern.indexOf("*") === pattern.length - 1) {
    if (GROUPS.includes(pattern)) return { kind: "ok" };
    const suggestion = closest(pattern, GROUPS);
    return {
      kind: "error",
      message: `"${pattern}" matches no Intercom topic${suggestion ? `; did you mean "${suggestion}"?` : ""}`,
      suggestion,
    };
  }
  if (pattern.includes("*") || pattern.length === 0) {
    return {
      kind: "error",
      message: `"${pattern}" is not a valid pattern: use an exact topic, "group.*" or "*"`,
      suggestion: null,
    };
  }
  if (KNOWN.has(pattern)) return { kind: "ok" };
  const suggestion = closest(pattern, topicNames);
  if (suggestion) {
    return {
      kind: "error",
      message: `"${pattern}" is not an Intercom topic; did you mean "${suggestion}"?`,
      suggestion,
    };
  }
  return {
    kind: "uncatalogued",
    message: `"${pattern}" is not in this version's topic catalogue; its handler runs only if Intercom sends that exact topic`,
  };
}
