/**
 * The ordering key of a delivery: deliveries of one handler about one Intercom item (in one workspace) run one at a
 * time, oldest first. One definition for the receiver (at receive time) and replay (a delivery added later).
 * Pure: imports nothing.
 */

/** `<target>|<appId>|<itemId>`, or null when the record has no item id (nothing to order by). */
export function orderingKeyOf(target: string, appId: string | null, itemId: string | null): string | null {
  return itemId !== null ? `${target}|${appId ?? ""}|${itemId}` : null;
}
