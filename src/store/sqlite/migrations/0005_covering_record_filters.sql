-- intercom-bridge SQLite schema, version 5: an app filter combined with a topic filter reads an index only.
--
-- The dashboard lists notifications newest first through records_app (app_id, seq) or records_topic
-- (queue, topic, seq), and checked the other filter on the table row. When the combination matches few or no records
-- (a workspace that sends no ticket.* topics), every record of the app or topic was read from the table: 670 ms for
-- appId + "ticket.*" and 210-360 ms for appId + "ticket.created" on 1,000,000 records (bench/sqlite-list.ts). With the
-- filter columns in the index, the same scans read the index only: 14-57 ms and 8-9 ms. Both indices keep their
-- order (seq within an app; seq within a queue and topic), so pages still come without a sort, and there are no more
-- indices than before. Rebuilding them takes a few seconds on a file with a million records, once.
DROP INDEX records_app;
CREATE INDEX records_app ON records (app_id, seq, queue, topic) WHERE app_id IS NOT NULL;
DROP INDEX records_topic;
CREATE INDEX records_topic ON records (queue, topic, seq, app_id);
