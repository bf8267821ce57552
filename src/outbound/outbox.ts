/**
 * The Data Events outbox (`createEventTracker`): validates events, stores them durably with a dedupe key, and runs the
 * worker that sends them (see `send-runner.ts`), paced by the rate gate (`rate-limit.ts`). Waiting for deliveries
 * lives in `job-waiter.ts`. Depends on the store contract only, never on a store implementation.
 */
import { createHash } from "node:crypto";
import type { IntercomClient } from "intercom-client";
import { systemClock, type Clock } from "../core/clock.js";
import { ConfigError, EventValidationError, type EventValidationIssue } from "../core/errors.js";
import { createLogger, type Logger } from "../core/logger.js";
import { DEFAULTS, requireInt, resolveRetry } from "../config/options.js";
import type { JobId, JobSummary, RetryPolicy } from "../delivery/types.js";
import type { DeliveryStore, Processor, StoreCoordination, StoreReader } from "../store/store.js";
import { createEventNameTracker, DEFAULT_MAX_EVENT_NAMES } from "./event-names.js";
import { createIntercomEventSender, type IntercomEventSender, type IntercomRegion } from "./intercom-api.js";
import { createJobWaiter, TERMINAL_STATES, type EventWaitOptions } from "./job-waiter.js";
import {
  budgetPerWindow,
  createRateGate,
  DEFAULT_RATE_LIMIT_PER_MINUTE,
  DEFAULT_RATE_LIMIT_WINDOW_MS,
  OUTBOX_CLOCK_NOTE,
  OUTBOX_LIMITER,
  PAUSE_REASON_UNAUTHORIZED,
  type RateGate,
} from "./rate-limit.js";
import { createSendRunner } from "./send-runner.js";
import { checkEvent, type DataEvent, type ValidateEventOptions } from "./validate-event.js";
import type { WindowClockSource } from "./window-clock.js";

export type { EventWaitOptions } from "./job-waiter.js";

/** The stable delivery target name of outbound events (STYLE §5). */
export const OUTBOX_TARGET = "intercom-events";

/** Outbox retry policy: 10 attempts, exponential from 1 s, ±20 % jitter, capped at 5 min; 429 uses no attempt (STYLE §8). */
export const DEFAULT_OUTBOX_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 10,
  backoff: Object.freeze({ type: "exponential" as const, delayMs: 1_000, jitter: 0.2, maxDelayMs: 300_000 }),
});

/** How long sending pauses after a 401/403 before one event probes the token again, ms. */
export const DEFAULT_UNAUTHORIZED_PAUSE_MS = 300_000;

/** Options of {@link createEventTracker}. */
export interface EventTrackerOptions {
  /** Where events are kept until Intercom has them. */
  store: DeliveryStore & Pick<StoreReader, "getJob" | "getRecord"> & StoreCoordination;
  /** Intercom access token (write permission). Required unless `client` is given. Never logged. */
  token?: string;
  /** API region. @defaultValue "us" */
  region?: IntercomRegion;
  /** Overrides the regional host (`fake-intercom`, proxies). @defaultValue the region's host */
  baseUrl?: string;
  /** Pinned `Intercom-Version`. @defaultValue "2.14" */
  intercomVersion?: string;
  /** Your configured `intercom-client` v7 client; its retries are switched off per request. */
  client?: IntercomClient;
  /** Per-request timeout, ms. @defaultValue 10_000 */
  timeoutMs?: number;
  /** Intercom rate limit, requests per minute, until `X-RateLimit-Limit` says otherwise. @defaultValue 10_000 */
  rateLimitPerMinute?: number;
  /**
   * Rate-limit window length assumed until Intercom's answers show it, ms (Intercom uses 10 s windows; facts §2.6).
   * The window end comes from `X-RateLimit-Reset` and the length is measured from successive resets; what one instance
   * learned is shared with the others on the same store. @defaultValue 10_000
   */
  rateLimitWindowMs?: number;
  /**
   * Requests this process sends before the first `X-RateLimit-*` headers are known (from its own answers or from
   * another instance on the same store); the rest wait for them, so a small limit is not overshot in the first window.
   * @defaultValue 1
   */
  firstBurst?: number;
  /** Retry policy for 5xx, 408, timeouts and network errors. @defaultValue 10 attempts, exponential 1 s ×2, cap 5 min */
  retry?: Partial<RetryPolicy>;
  /** Requests in flight at once in this process. @defaultValue 8 */
  concurrency?: number;
  /** Lease of a running delivery, ms. @defaultValue 30_000 */
  leaseMs?: number;
  /** Idle poll interval of the worker, ms. @defaultValue 200 */
  pollMs?: number;
  /** How long an event's store key is remembered (re-sends within it are skipped), ms. @defaultValue 7 days */
  dedupeTtlMs?: number;
  /** More than 10 metadata keys: refuse (`"error"`) or keep the first 10 with a warning. @defaultValue "error" */
  metadataOverflow?: ValidateEventOptions["metadataOverflow"];
  /**
   * Metadata keys that differ only in case (`Plan`, `plan`; Intercom treats them as one): accept with a warning
   * (`"warn"`) or refuse the event (`"error"`). @defaultValue "warn"
   */
  metadataKeyCase?: ValidateEventOptions["metadataKeyCase"];
  /** Distinct event names before a warning (Intercom keeps 120 active ones). @defaultValue 120 */
  maxEventNames?: number;
  /** Pause after a 401/403 before the next event probes the token again, ms. @defaultValue 300_000 */
  unauthorizedPauseMs?: number;
  /**
   * During a long pause (401/403), how often this process checks whether the pause was lifted elsewhere, ms.
   * @defaultValue 5_000
   */
  pauseRecheckMs?: number;
  /**
   * Nothing is sent in the last `rateLimitEdgeGuardMs` of a rate-limit window, so a request cannot reach Intercom in
   * the next window on top of that window's full budget. It grows by itself to 3x the recent request latency (at most
   * a tenth of the window); raise the floor on a network whose delays come in bursts.
   * @defaultValue 50, or rateLimitWindowMs / 20 when smaller
   */
  rateLimitEdgeGuardMs?: number;
  /** Logger; pino fits. @defaultValue no logging */
  log?: Partial<Logger>;
  /** Time source (tests). @defaultValue the system clock */
  clock?: Clock;
}

/** What {@link EventTracker.track} resolves with once the event is durable. */
export interface TrackResult {
  /** The stored record id. */
  id: string;
  /** The delivery id, for `events retry` and status look-ups. */
  jobId: JobId | null;
  /** True when this exact event (same store key) was stored before; nothing new was stored. */
  isDuplicate: boolean;
  /** The event as stored, `created_at` stamped. */
  event: DataEvent;
  /** Things Intercom accepts but may not do as you expect (rewritten names, dropped metadata, name cap). */
  warnings: EventValidationIssue[];
}

/** Options of one {@link EventTracker.track} call. */
export interface TrackOptions {
  /** Store key to use instead of the one derived from (identifiers, name, `created_at`). */
  dedupeKey?: string;
}

/** Sending status, for logs, metrics and readiness. */
export interface OutboxStatus {
  /** `sending`, or why nothing is sent right now. */
  state: "sending" | "paused-rate-limited" | "paused-unauthorized" | "paused";
  /** End of the current pause, epoch ms, or null. */
  pausedUntil: number | null;
  /** Why sending is paused (`rate-limited`, `unauthorized`, …) while it is, else null. */
  pauseReason: string | null;
  /** Budget per window in use (corrected from `X-RateLimit-Limit`). */
  perWindow: number;
  /** Length of one rate-limit window in use, ms: `rateLimitWindowMs` until learned from `X-RateLimit-Reset`. */
  windowMs: number;
  /**
   * Where the window clock comes from: `assumed` (the configured length, nothing announced yet), `announced` (the
   * window end from `X-RateLimit-Reset`, the length still assumed) or `learned` (the length measured from resets).
   */
  windowSource: WindowClockSource;
  /** Last 401/403 seen by this process, epoch ms, or null. */
  lastUnauthorizedAt: number | null;
  /** Requests in flight in this process. */
  inFlight: number;
}

/** The Data Events outbox. */
export interface EventTracker {
  /**
   * Validates, then stores one event; resolves once it is durable. Without `created_at` it is stamped now, once: the
   * stored event keeps it through every retry. Tracking the same (identifiers, name, `created_at`) again stores nothing
   * and answers `isDuplicate` (Intercom would dedupe it anyway; facts §2.3).
   * @throws {EventValidationError} listing every problem.
   */
  track(event: unknown, options?: TrackOptions): Promise<TrackResult>;
  /** Validates every event first (issue fields are prefixed `[i].`), then stores them all. @throws {EventValidationError} */
  trackMany(events: readonly unknown[]): Promise<TrackResult[]>;
  /**
   * Resolves when every event tracked so far by this tracker is sent or failed (needs a worker somewhere), or when
   * `timeoutMs` has passed.
   * @param timeoutMs - longest wait, ms. @defaultValue no limit
   */
  flush(timeoutMs?: number): Promise<void>;
  /** Waits until the given deliveries are `done` or `dead` (or the wait ends early); returns their current summaries. */
  waitFor(jobIds: readonly JobId[], options?: EventWaitOptions): Promise<JobSummary[]>;
  /** Starts the worker in this process. Idempotent. */
  start(): void;
  /**
   * Stops the worker: running sends get up to `timeoutMs` to finish, then are aborted and released (due again, no
   * attempt used; this includes runs still waiting for rate-limit budget). Does not close the store.
   * @param timeoutMs - grace period, ms. @defaultValue leaseMs
   */
  close(timeoutMs?: number): Promise<void>;
  /** Current sending status. */
  status(): Promise<OutboxStatus>;
  /** Lifts a pause (after fixing the token) for every instance sharing the store. */
  resume(): Promise<void>;
}

/** The default store key of an event: Intercom's own identity of an event (contact, name, `created_at`; facts §2.3). */
export function eventDedupeKey(event: DataEvent): string {
  const id = JSON.stringify([
    event.user_id ?? null,
    event.id ?? null,
    event.email ?? null,
    event.event_name,
    event.created_at,
  ]);
  return `evt_${createHash("sha256").update(id).digest("hex").slice(0, 40)}`;
}

/**
 * Creates the durable Data Events outbox: `track()` validates and stores; the worker (`start()`) sends with the
 * `intercom-client` SDK, paced to Intercom's window budget shared through the store, and classifies every answer.
 *
 * Pauses: a 429 stops every instance until `X-RateLimit-Reset`. A 401/403 stops every instance for
 * `unauthorizedPauseMs`; then the next event probes the token (pausing again if it is still refused), or an operator
 * lifts the pause at once with `resume()` / `intercom-bridge events resume`. Events wait meanwhile; none fails.
 * @example
 * const tracker = createEventTracker({ store, token: process.env.INTERCOM_ACCESS_TOKEN!, region: "eu" });
 * tracker.start();
 * const { id } = await tracker.track({ event_name: "invited-friend", user_id: "42" });
 * await tracker.flush();
 * await tracker.close();
 */
export function createEventTracker(options: EventTrackerOptions): EventTracker {
  const { store } = options;
  if (options.store === undefined) throw new ConfigError("store is required");
  const clock = options.clock ?? systemClock;
  const log: Logger = createLogger(options.log);
  const retry = resolveRetry(DEFAULT_OUTBOX_RETRY, options.retry);
  const concurrency = requireInt(options.concurrency ?? 8, "concurrency", 1, 1000);
  const leaseMs = requireInt(options.leaseMs ?? DEFAULTS.leaseMs, "leaseMs", 10);
  const windowMs = requireInt(options.rateLimitWindowMs ?? DEFAULT_RATE_LIMIT_WINDOW_MS, "rateLimitWindowMs", 100);
  const perMinute = requireInt(options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE, "rateLimitPerMinute", 1);
  const dedupeTtlMs = requireInt(options.dedupeTtlMs ?? DEFAULTS.dedupeTtlMs, "dedupeTtlMs", 0);
  const unauthorizedPauseMs = requireInt(
    options.unauthorizedPauseMs ?? DEFAULT_UNAUTHORIZED_PAUSE_MS,
    "unauthorizedPauseMs",
    1,
  );
  const pauseRecheckMs = requireInt(options.pauseRecheckMs ?? 5_000, "pauseRecheckMs", 1);
  const validateOptions: ValidateEventOptions = {
    metadataOverflow: options.metadataOverflow ?? "error",
    metadataKeyCase: options.metadataKeyCase ?? "warn",
  };
  const names = createEventNameTracker(store, options.maxEventNames ?? DEFAULT_MAX_EVENT_NAMES);
  const limiter = store.limiter(OUTBOX_LIMITER);
  const gate: RateGate = createRateGate({
    limiter,
    clockNote: store.limiter(OUTBOX_CLOCK_NOTE),
    clock,
    ...(options.firstBurst !== undefined ? { firstBurst: requireInt(options.firstBurst, "firstBurst", 1) } : {}),
    windowMs,
    initialPerWindow: budgetPerWindow(perMinute, windowMs),
    maxInlineWaitMs: Math.min(15_000, Math.floor(leaseMs / 2)),
    pauseRecheckMs,
    ...(options.rateLimitEdgeGuardMs !== undefined
      ? { windowEdgeGuardMs: requireInt(options.rateLimitEdgeGuardMs, "rateLimitEdgeGuardMs", 0, windowMs / 2) }
      : {}),
  });
  let sender: IntercomEventSender | undefined;
  const getSender = (): IntercomEventSender => {
    const o: Parameters<typeof createIntercomEventSender>[0] = {};
    if (options.token !== undefined) o.token = options.token;
    if (options.region !== undefined) o.region = options.region;
    if (options.baseUrl !== undefined) o.baseUrl = options.baseUrl;
    if (options.intercomVersion !== undefined) o.intercomVersion = options.intercomVersion;
    if (options.timeoutMs !== undefined) o.timeoutMs = options.timeoutMs;
    if (options.client !== undefined) o.client = options.client;
    return (sender ??= createIntercomEventSender(o));
  };
  // Fail at construction, not on the first send, when the token or URL is missing (STYLE §8).
  getSender();

  let processor: Processor | undefined;
  const runner = createSendRunner({ gate, sender: getSender, clock, log, unauthorizedPauseMs, pauseRecheckMs });
  const waiter = createJobWaiter(store, clock, () => processor !== undefined);

  const track = async (input: unknown, trackOptions: TrackOptions = {}): Promise<TrackResult> => {
    const checked = checkEvent(input, { ...validateOptions, nowMs: clock.now() });
    if (!checked.ok) throw new EventValidationError(checked.issues);
    return store_(checked.event, checked.warnings, trackOptions);
  };

  const store_ = async (
    event: DataEvent,
    warnings: EventValidationIssue[],
    trackOptions: TrackOptions,
  ): Promise<TrackResult> => {
    const nameWarning = await names.note(event.event_name);
    if (nameWarning) warnings.push(nameWarning);
    if (warnings.length > 0)
      log.warn({ event_name: event.event_name, warnings }, "Outbound event accepted with warnings");
    const result = await store.enqueue({
      dedupeKey: trackOptions.dedupeKey ?? eventDedupeKey(event),
      dedupeTtlMs,
      record: {
        queue: "outbox",
        topic: event.event_name,
        body: JSON.stringify(event),
        appId: null,
        notificationId: null,
        itemId: event.user_id ?? event.id ?? event.email ?? null,
        createdAt: event.created_at,
      },
      deliveries: [{ target: OUTBOX_TARGET, retry, orderingKey: null }],
    });
    if (result.status === "enqueued") {
      const jobId = result.jobIds[0] ?? null;
      if (jobId !== null) waiter.track(jobId);
      return { id: result.recordId, jobId, isDuplicate: false, event, warnings };
    }
    let jobId: JobId | null = null;
    let stored = event;
    if (result.recordId !== null) {
      const detail = await store.getRecord(result.recordId);
      const job = detail?.jobs[0];
      if (job) {
        jobId = job.id;
        if (!TERMINAL_STATES.has(job.state)) waiter.track(job.id);
      }
      if (detail) stored = JSON.parse(detail.record.body) as DataEvent;
    }
    return { id: result.recordId ?? "", jobId, isDuplicate: true, event: stored, warnings };
  };

  return {
    track,
    async trackMany(inputs) {
      const now = clock.now();
      const checked = inputs.map((e) => checkEvent(e, { ...validateOptions, nowMs: now }));
      const issues = checked.flatMap((c, i) =>
        c.ok ? [] : c.issues.map((x) => ({ field: `[${i}].${x.field}`, message: x.message })),
      );
      if (issues.length > 0) throw new EventValidationError(issues);
      const out: TrackResult[] = [];
      for (const c of checked) if (c.ok) out.push(await store_(c.event, c.warnings, {}));
      return out;
    },
    async flush(timeoutMs) {
      await waiter.waitFor(waiter.pending(), timeoutMs === undefined ? {} : { timeoutMs });
    },
    waitFor: (jobIds, waitOptions) => waiter.waitFor(jobIds, waitOptions),
    start() {
      processor ??= store.process("outbox", (job, signal) => runner.run(job, signal), {
        concurrency,
        leaseMs,
        ordered: false,
        ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
        on: {
          finished: (e) => {
            if (e.outcome === "completed" || e.outcome === "dead") waiter.settled(e.jobId);
          },
        },
      });
    },
    async close(timeoutMs) {
      const p = processor;
      processor = undefined;
      if (p) await p.close(timeoutMs);
    },
    async status() {
      const s = await limiter.state();
      const now = clock.now();
      const paused = s.pausedUntil !== null && s.pausedUntil > now;
      const state: OutboxStatus["state"] = !paused
        ? "sending"
        : s.pauseReason === PAUSE_REASON_UNAUTHORIZED
          ? "paused-unauthorized"
          : s.pauseReason === "rate-limited"
            ? "paused-rate-limited"
            : "paused";
      return {
        state,
        pausedUntil: paused ? s.pausedUntil : null,
        pauseReason: paused ? s.pauseReason : null,
        perWindow: gate.perWindow,
        windowMs: gate.windowMs,
        windowSource: gate.windowSource,
        lastUnauthorizedAt: runner.lastUnauthorizedAt,
        inFlight: runner.inFlight,
      };
    },
    async resume() {
      runner.clearUnauthorized();
      await limiter.resume();
    },
  };
}
