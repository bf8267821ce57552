/**
 * The SQLite store's shared limiter: the fixed-window rule of `shared/fixed-window.ts` over one row of the `limiters`
 * table, read and written in a `BEGIN IMMEDIATE` transaction so every process on the file shares the budget.
 * Must not import the store class or the writer thread.
 */
import type { Database as Db } from "better-sqlite3";
import type { Clock } from "../../core/clock.js";
import {
  acquireFixedWindow,
  EMPTY_WINDOW,
  pauseFixedWindow,
  viewFixedWindow,
  type FixedWindowState,
} from "../shared/fixed-window.js";
import type { SharedLimiter } from "../store.js";

interface Row {
  window_start: number;
  used: number;
  paused_until: number | null;
  pause_reason: string | null;
}

function stateOf(row: Row | undefined): FixedWindowState {
  if (!row) return { ...EMPTY_WINDOW };
  return {
    windowStart: row.window_start,
    used: row.used,
    pausedUntil: row.paused_until,
    pauseReason: row.pause_reason,
  };
}

/**
 * The limiters of one database: `limiter(name)` answers a {@link SharedLimiter} over that row. `run` is the store's
 * wrapper that maps driver errors (and a closed store) to `StoreError`.
 */
export function createSqliteLimiters(
  db: Db,
  clock: Clock,
  run: <T>(what: string, fn: () => T) => Promise<T>,
): (name: string) => SharedLimiter {
  const get = db.prepare("SELECT window_start, used, paused_until, pause_reason FROM limiters WHERE name = ?");
  const put = db.prepare(
    `INSERT INTO limiters (name, window_start, used, paused_until, pause_reason) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET window_start = excluded.window_start, used = excluded.used,
       paused_until = excluded.paused_until, pause_reason = excluded.pause_reason`,
  );
  const update = (name: string, change: (state: FixedWindowState) => FixedWindowState): void => {
    const next = change(stateOf(get.get(name) as Row | undefined));
    put.run(name, next.windowStart, next.used, next.pausedUntil, next.pauseReason);
  };
  return (name) => ({
    acquire: (max, windowMs, originMs = 0) =>
      run("limiter", () =>
        db
          .transaction((): number => {
            const { waitMs, state } = acquireFixedWindow(
              stateOf(get.get(name) as Row | undefined),
              max,
              windowMs,
              clock.now(),
              originMs,
            );
            put.run(name, state.windowStart, state.used, state.pausedUntil, state.pauseReason);
            return waitMs;
          })
          .immediate(),
      ),
    pauseUntil: (untilMs, reason) =>
      run("limiter", () => db.transaction(() => update(name, (s) => pauseFixedWindow(s, untilMs, reason))).immediate()),
    resume: () =>
      run("limiter", () =>
        db.transaction(() => update(name, (s) => ({ ...s, pausedUntil: null, pauseReason: null }))).immediate(),
      ),
    state: () => run("limiter", () => viewFixedWindow(stateOf(get.get(name) as Row | undefined), clock.now())),
  });
}
