-- intercom-bridge SQLite schema, version 4: jobs_order's predicate no longer makes SQLite build a temporary table.
--
-- SQLite evaluates a partial index's WHERE clause on every INSERT into jobs and on every UPDATE of an indexed column.
-- A constant IN list of three or more values is evaluated through an ephemeral table, which SQLite opens and closes
-- each time (a pager of its own, a page-cache truncation, allocations): one per job inserted and two per settlement.
-- `state IN ('pending', 'failed', 'running')` is the same set as `state NOT IN ('done', 'dead')`, and a list of two is
-- compiled into plain comparisons. Queries that read through this index say `state NOT IN ('done', 'dead')` too, so
-- the planner still matches them to it.
DROP INDEX jobs_order;
CREATE INDEX jobs_order ON jobs (queue, ordering_key, order_created_at, order_received_at, seq)
  WHERE ordering_key IS NOT NULL AND state NOT IN ('done', 'dead');
