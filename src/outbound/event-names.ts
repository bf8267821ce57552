/**
 * Counting the distinct Data Event names a workspace has used, in a store set every instance shares, with a warning
 * when a new name passes Intercom's limit on active event names.
 */
import type { EventValidationIssue } from "../core/errors.js";
import type { StoreCoordination } from "../store/store.js";
import { canonicalEventName } from "./validate-event.js";

/** Intercom keeps at most 120 active event names per workspace (facts §2.3). */
export const DEFAULT_MAX_EVENT_NAMES = 120;
/** The store set holding every distinct event name sent so far. */
export const EVENT_NAMES_SET = "outbox:event-names";

/** Tracks the distinct event names this workspace has used, in the store, so every instance shares the count. */
export interface EventNameTracker {
  /** Records `name`; returns a warning when it is new and takes the count past the limit. */
  note(name: string): Promise<EventValidationIssue | undefined>;
  /** Names seen so far (canonical spelling). */
  names(): Promise<string[]>;
}

/**
 * Creates an {@link EventNameTracker} over `store.addToSet`. Names are compared the way Intercom does (lowercase,
 * `.`/`$` as `-`). A warning is returned, never an error: Intercom answers 422 for the 121st name, and only the
 * workspace owner can archive old ones.
 */
export function createEventNameTracker(
  store: StoreCoordination,
  maxEventNames = DEFAULT_MAX_EVENT_NAMES,
): EventNameTracker {
  const known = new Set<string>();
  let loaded: Promise<void> | undefined;
  const load = (): Promise<void> =>
    (loaded ??= store.setMembers(EVENT_NAMES_SET).then((members) => {
      for (const m of members) known.add(m);
    }));
  return {
    async note(name) {
      const canonical = canonicalEventName(name);
      await load();
      if (known.has(canonical)) return undefined;
      const size = await store.addToSet(EVENT_NAMES_SET, [canonical]);
      known.add(canonical);
      if (size > maxEventNames) {
        return {
          field: "event_name",
          message: `"${canonical}" is distinct event name number ${size}; Intercom keeps at most ${maxEventNames} active names per workspace and may answer 422 (archive unused events in Intercom)`,
        };
      }
      return undefined;
    },
    async names() {
      await load();
      return [...known];
    },
  };
}
