-- intercom-bridge PostgreSQL schema, version 2: named values for coordination between instances.
--
-- Store.compareAndSet keeps one string per name: serve's heartbeat (when an instance was last alive, so a restart knows
-- how long no instance was) and the gap-recovery lease (so only one instance reconciles a downtime).
CREATE TABLE named_values (
  name  text PRIMARY KEY,
  value text NOT NULL
);
