/**
 * `intercom-bridge/testing`: what tests of an intercom-bridge integration need — signed requests, a local Intercom
 * stand-in for Data Events, and the store conformance suite (vitest) every `Store` backend must pass.
 * Importing this entry needs `vitest` installed (an optional peer dependency).
 * @packageDocumentation
 */
export { sign } from "../core/signature.js";
export { signedRequest } from "./signed-request.js";
export type { SignedRequest, SignedRequestOptions } from "./signed-request.js";
export { defineStoreConformance, makeRecord, makeDelivery } from "./store-conformance.js";
export type { StoreFixture } from "./store-conformance.js";
export { waitFor, sleep } from "./wait-for.js";
export type { WaitForOptions } from "./wait-for.js";
export { startFakeIntercom, errorReply, jsonReply } from "../outbound/fake-intercom.js";
export type {
  FakeIntercom,
  FakeIntercomFaults,
  FakeIntercomOptions,
  FakeIntercomStats,
  FakeStoredEvent,
  FakeEventSummary,
  FakeReply,
  FakeRoute,
  FakeRouteContext,
  FakeRouteModule,
  FakeWorkspace,
} from "../outbound/fake-intercom.js";
export type {
  FakeWorkspace as FakeSearchWorkspace,
  FakeItem,
  FakeSearchFaults,
  FakeWorkspaceStats,
} from "../reconcile/fake-workspace.js";
