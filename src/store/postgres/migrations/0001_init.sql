-- intercom-bridge PostgreSQL schema, version 1. Applied by migrate.ts inside one transaction, with search_path set to
-- the store's schema, under an advisory lock; see README.md. Times are epoch ms (bigint) unless said otherwise.
-- Text columns that are compared by range or sorted (ids, topics) use the "C" collation, so `group.*` filters are
-- plain byte ranges an index serves whatever the database's locale.

-- One row per received notification (inbound) or accepted event (outbox). `body` is the raw text, never re-parsed.
CREATE TABLE records (
  seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- insertion order; keyset pagination key
  id              text COLLATE "C" NOT NULL UNIQUE,                -- public id: sortable by receive time, URL-safe
  queue           text NOT NULL,
  topic           text COLLATE "C" NOT NULL,
  app_id          text,
  notification_id text,
  item_id         text,
  created_at      bigint NOT NULL,                                 -- the record's own created_at, unix seconds
  received_at     bigint NOT NULL,
  headers         text,                                            -- JSON object or NULL
  body            text NOT NULL
);
CREATE INDEX records_topic        ON records (queue, topic, seq);
CREATE INDEX records_app          ON records (app_id, seq) WHERE app_id IS NOT NULL;
CREATE INDEX records_notification ON records (notification_id) WHERE notification_id IS NOT NULL;
CREATE INDEX records_item         ON records (item_id, seq) WHERE item_id IS NOT NULL;
CREATE INDEX records_received     ON records (queue, received_at) INCLUDE (topic, seq);

-- One row per delivery (record x handler or forward target). Public id: `<record id>-<idx>`.
CREATE TABLE jobs (
  seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  record_seq        bigint NOT NULL REFERENCES records (seq) ON DELETE CASCADE,
  idx               integer NOT NULL,
  queue             text NOT NULL,
  target            text NOT NULL,
  ordering_key      text,
  order_created_at  bigint NOT NULL,           -- copy of records.created_at: ordering checks need no join
  order_received_at bigint NOT NULL,           -- copy of records.received_at
  state             text NOT NULL,             -- pending | running | failed | done | dead
  attempts          integer NOT NULL DEFAULT 0,-- attempts used, including a running one
  max_attempts      integer NOT NULL,
  backoff_type      text NOT NULL,
  backoff_delay_ms  bigint NOT NULL,
  backoff_jitter    double precision,
  backoff_max_ms    bigint,
  run_at            bigint,                    -- due time (pending/failed)
  updated_at        bigint NOT NULL,
  last_error        text,                      -- JSON {name, code?, message} or NULL
  lease_owner       text,                      -- lease token `<worker>/<claim>` while running
  lease_until       bigint,
  lease_started_at  bigint
);
CREATE UNIQUE INDEX jobs_record ON jobs (record_seq, idx);
CREATE INDEX jobs_due     ON jobs (queue, run_at, seq) WHERE state IN ('pending', 'failed');
CREATE INDEX jobs_leased  ON jobs (queue, lease_until) WHERE state = 'running';
CREATE INDEX jobs_running ON jobs (queue, ordering_key) WHERE state = 'running' AND ordering_key IS NOT NULL;
CREATE INDEX jobs_state   ON jobs (queue, state, record_seq, idx);
CREATE INDEX jobs_target  ON jobs (target, record_seq, idx);
CREATE INDEX jobs_order   ON jobs (queue, ordering_key, order_created_at, order_received_at, seq)
  WHERE ordering_key IS NOT NULL AND state NOT IN ('done', 'dead');

-- Every finished run of a delivery.
CREATE TABLE attempts (
  seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- history order
  job_seq     bigint NOT NULL REFERENCES jobs (seq) ON DELETE CASCADE,
  attempt     integer NOT NULL,
  started_at  bigint NOT NULL,
  finished_at bigint NOT NULL,
  outcome     text NOT NULL,
  error       text,                            -- JSON {name, code?, message} or NULL
  worker      text
);
CREATE INDEX attempts_job ON attempts (job_seq, seq);

-- Remembered dedupe keys; a row whose expires_at has passed counts as absent and is purged in the background.
CREATE TABLE dedupe (
  queue      text NOT NULL,
  key        text NOT NULL,
  record_id  text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (queue, key)
);
CREATE INDEX dedupe_expiry ON dedupe (expires_at);

-- Fixed-window rate budgets shared by every instance on this schema: one row per limiter, updated atomically.
CREATE TABLE limiters (
  name         text PRIMARY KEY,
  window_start bigint NOT NULL DEFAULT 0,
  used         integer NOT NULL DEFAULT 0,
  paused_until bigint,
  pause_reason text
);

-- Named sets of strings (e.g. distinct outbound event names).
CREATE TABLE sets (
  name   text NOT NULL,
  member text NOT NULL,
  PRIMARY KEY (name, member)
);
