/**
 * The outbound API's public methods use only types that the package entries export, so callers can name them.
 */
import { describe, expectTypeOf, it } from "vitest";
import type {
  EventTracker,
  EventTrackerOptions,
  IntercomRegion,
  TrackOptions,
  EventWaitOptions,
} from "../../src/index.js";
import type { FakeIntercom, FakeIntercomFaults, FakeIntercomStats, FakeStoredEvent } from "../../src/testing/index.js";

describe("outbound types from the package entries", () => {
  it("names the parameters of EventTracker's methods", () => {
    expectTypeOf<EventTracker["track"]>().parameter(1).toEqualTypeOf<TrackOptions | undefined>();
    expectTypeOf<EventTracker["waitFor"]>().parameter(1).toEqualTypeOf<EventWaitOptions | undefined>();
    expectTypeOf<EventTrackerOptions["region"]>().toEqualTypeOf<IntercomRegion | undefined>();
    // @ts-expect-error: only us, eu and au exist
    const region: IntercomRegion = "ca";
    void region;
  });

  it("names what fake-intercom's methods take and return", () => {
    expectTypeOf<FakeIntercom["setFaults"]>().parameter(0).toEqualTypeOf<FakeIntercomFaults>();
    expectTypeOf<FakeIntercom["stats"]>().returns.toEqualTypeOf<FakeIntercomStats>();
    expectTypeOf<FakeIntercom["events"]>().returns.toEqualTypeOf<FakeStoredEvent[]>();
  });
});
