/**
 * Gap-recovery fixtures: seeds fake-intercom's workspace with items updated within the last hour and builds the
 * real-shaped webhook notification Intercom would have sent for each change (a real topic of the item's family,
 * `created_at` = the change's time).
 */
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { afterEach } from "vitest";
import type { FakeIntercom } from "../../src/outbound/fake-intercom.js";
import type { FakeItem } from "../../src/reconcile/fake-workspace.js";
import type { SearchResource } from "../../src/reconcile/resources.js";
import type { ServeProcess } from "./serve-process.js";

/** What an end-to-end gap test starts: fake-intercom, a serve process, a temporary folder. */
export interface GapFixtures {
  fake?: FakeIntercom | undefined;
  serve?: ServeProcess | undefined;
  dir?: string | undefined;
}

/** Fixtures that are stopped and removed after each test. */
export function useGapFixtures(): GapFixtures {
  const f: GapFixtures = {};
  afterEach(async () => {
    await f.serve?.stop();
    await f.fake?.close();
    if (f.dir) rmSync(f.dir, { recursive: true, force: true });
    f.serve = f.fake = f.dir = undefined;
  });
  return f;
}

/** The real topic used for a delivered change of each resource. */
export const REAL_TOPIC: Record<SearchResource, string> = {
  conversations: "conversation.user.replied",
  contacts: "contact.user.updated",
  tickets: "ticket.state.updated",
};

/** Seeds `counts` items per resource, each updated at a distinct second within the last `withinSec` seconds. */
export function seedRecentItems(
  fake: FakeIntercom,
  counts: Partial<Record<SearchResource, number>>,
  withinSec = 3_000,
): Record<SearchResource, FakeItem[]> {
  const now = Math.floor(Date.now() / 1000);
  const out: Record<SearchResource, FakeItem[]> = { conversations: [], contacts: [], tickets: [] };
  for (const [resource, n] of Object.entries(counts) as [SearchResource, number][]) {
    out[resource] = fake.workspace.upsert(
      resource,
      Array.from({ length: n }, (_, i) => ({
        updated_at: now - 60 - ((i * 7) % withinSec),
        created_at: now - 86_400,
      })),
    );
  }
  return out;
}

/** The webhook notification Intercom would have sent for this change of `item`. */
export function realNotification(resource: SearchResource, item: FakeItem, appId: string): string {
  return JSON.stringify({
    type: "notification_event",
    app_id: appId,
    data: { type: "notification_event_data", item },
    links: {},
    id: `notif_${randomUUID()}`,
    topic: REAL_TOPIC[resource],
    delivery_status: "pending",
    delivery_attempts: 1,
    delivered_at: 0,
    first_sent_at: item.updated_at,
    created_at: item.updated_at,
    self: null,
  });
}
