-- intercom-bridge SQLite schema, version 1. Applied by migrate.ts inside one transaction; see README.md.

-- One row per received notification (inbound) or accepted event (outbox). `body` is the raw text, never re-parsed.
CREATE TABLE records (
  seq             INTEGER PRIMARY KEY,          -- insertion order = receive order; keyset pagination key
  id              TEXT    NOT NULL UNIQUE,      -- public id: sortable by receive time, URL-safe
  queue           TEXT    NOT NULL,
  topic           TEXT    NOT NULL,
  app_id          TEXT,
  notification_id TEXT,
  item_id         TEXT,
  created_at      INTEGER NOT NULL,             -- the record's own created_at, unix seconds
  received_at     INTEGER NOT NULL,             -- epoch ms
  headers         TEXT,                         -- JSON object or NULL
  body            TEXT    NOT NULL
);
CREATE INDEX records_topic        ON records (queue, topic, seq);
CREATE INDEX records_app          ON records (app_id, seq) WHERE app_id IS NOT NULL;
CREATE INDEX records_notification ON records (notification_id) WHERE notification_id IS NOT NULL;
CREATE INDEX records_item         ON records (item_id, seq) WHERE item_id IS NOT NULL;
CREATE INDEX records_received     ON records (received_at);

-- One row per delivery (record × handler or forward target). Public id: `<record id>-<idx>`.
CREATE TABLE jobs (
  seq               INTEGER PRIMARY KEY,
  record_seq        INTEGER NOT NULL REFERENCES records (seq),
  idx               INTEGER NOT NULL,
  queue             TEXT    NOT NULL,
  target            TEXT    NOT NULL,
  ordering_key      TEXT,
  order_created_at  INTEGER NOT NULL,           -- copy of records.created_at: ordering checks need no join
  order_received_at INTEGER NOT NULL,           -- copy of records.received_at
  state             TEXT    NOT NULL,           -- pending | running | failed | done | dead
  attempts          INTEGER NOT NULL DEFAULT 0, -- attempts used, including a running one
  max_attempts      INTEGER NOT NULL,
  backoff_type      TEXT    NOT NULL,
  backoff_delay_ms  INTEGER NOT NULL,
  backoff_jitter    REAL,
  backoff_max_ms    INTEGER,
  run_at            INTEGER,                    -- due time (pending/failed), epoch ms
  updated_at        INTEGER NOT NULL,
  last_error        TEXT,                       -- JSON {name, code?, message} or NULL
  lease_owner       TEXT,                       -- lease token `<worker>/<claim>` while running
  lease_until       INTEGER,
  lease_started_at  INTEGER
);
CREATE UNIQUE INDEX jobs_record ON jobs (record_seq, idx);
CREATE INDEX jobs_due    ON jobs (queue, run_at) WHERE state IN ('pending', 'failed');
CREATE INDEX jobs_leased ON jobs (queue, lease_until) WHERE state = 'running';
CREATE INDEX jobs_state  ON jobs (queue, state, record_seq);
CREATE INDEX jobs_target ON jobs (target, record_seq);
CREATE INDEX jobs_order  ON jobs (queue, ordering_key, order_created_at, order_received_at, seq)
  WHERE ordering_key IS NOT NULL AND state IN ('pending', 'failed', 'running');

-- Every finished run of a delivery.
CREATE TABLE attempts (
  job_seq     INTEGER NOT NULL,
  attempt     INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  outcome     TEXT    NOT NULL,
  error       TEXT,                             -- JSON {name, code?, message} or NULL
  worker      TEXT
);
CREATE INDEX attempts_job ON attempts (job_seq);

-- Remembered dedupe keys; a row whose expires_at has passed counts as absent and is purged periodically.
CREATE TABLE dedupe (
  queue      TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  record_id  TEXT    NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (queue, key)
) WITHOUT ROWID;
CREATE INDEX dedupe_expiry ON dedupe (expires_at);

-- Fixed-window rate budgets shared by every process on this file.
CREATE TABLE limiters (
  name         TEXT    PRIMARY KEY,
  window_start INTEGER NOT NULL DEFAULT 0,
  used         INTEGER NOT NULL DEFAULT 0,
  paused_until INTEGER,
  pause_reason TEXT
) WITHOUT ROWID;

-- Named sets of strings (e.g. distinct outbound event names).
CREATE TABLE sets (
  name   TEXT NOT NULL,
  member TEXT NOT NULL,
  PRIMARY KEY (name, member)
) WITHOUT ROWID;
