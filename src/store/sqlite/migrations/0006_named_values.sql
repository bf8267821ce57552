-- intercom-bridge SQLite schema, version 6: named values for coordination between instances.
--
-- Store.compareAndSet keeps one string per name: serve's heartbeat (when it was last alive, so a restart knows how
-- long it was down) and the gap-recovery lease (so only one instance reconciles a downtime).
CREATE TABLE named_values (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
