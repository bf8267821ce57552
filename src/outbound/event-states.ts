/**
 * The names operators see for outbound event states in the CLI, the events API and the dashboard (`sending`,
 * `retrying`, `sent`, `failed` for the queue's `running`, `failed`, `done`, `dead`), and the maps back for filters.
 */
import type { JobState } from "../delivery/types.js";

/**
 * How outbound events name job states to operators (CLI, API, dashboard): "sending", "retrying", "sent" and "failed"
 * rather than the queue's `running`, `failed`, `done` and `dead`.
 */
export const EVENT_STATE_NAMES: Readonly<Record<JobState, string>> = Object.freeze({
  pending: "pending",
  running: "sending",
  failed: "retrying",
  done: "sent",
  dead: "failed",
});

/** The queue state for an operator-facing event state name (`running` is accepted as an alias of `sending`). */
export const EVENT_STATE_FROM_NAME: Readonly<Record<string, JobState>> = Object.freeze({
  pending: "pending",
  sending: "running",
  running: "running",
  retrying: "failed",
  sent: "done",
  failed: "dead",
});

/**
 * What a `state` filter on outbound events accepts: the operator names (`failed` = given up) and the queue's `done`
 * and `dead` as aliases, so links and scripts written with either vocabulary work.
 */
export const EVENT_STATE_FILTER_NAMES: Readonly<Record<string, JobState>> = Object.freeze({
  done: "done",
  dead: "dead",
  ...EVENT_STATE_FROM_NAME,
});
