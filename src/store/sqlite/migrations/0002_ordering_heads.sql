-- intercom-bridge SQLite schema, version 2: ordered claims read only the head of each ordering key.
--
-- Before, an ordered claim walked every due job and dropped those with an earlier active job of the same
-- ordering key, so one busy conversation with N waiting deliveries made every claim O(N) (measured: half the
-- throughput of `serve` under load when all notifications concern one item). Now each job carries `is_head`:
-- 1 when it is the earliest active job (pending, failed or running) of its ordering key, or has no key. Ordered
-- claims take due heads from their own index range and check for a running job of the key in `jobs_running`,
-- which holds only running jobs. Every active job still sits in exactly one `jobs_due` range, so enqueues write
-- no more index entries than before.
ALTER TABLE jobs ADD COLUMN is_head INTEGER NOT NULL DEFAULT 1;
UPDATE jobs SET is_head = 0
WHERE ordering_key IS NOT NULL AND state IN ('pending', 'failed', 'running')
  AND EXISTS (SELECT 1 FROM jobs e WHERE e.queue = jobs.queue AND e.ordering_key = jobs.ordering_key
                AND e.state IN ('pending', 'failed', 'running')
                AND (e.order_created_at, e.order_received_at, e.seq) < (jobs.order_created_at, jobs.order_received_at, jobs.seq));
DROP INDEX jobs_due;
CREATE INDEX jobs_due ON jobs (queue, is_head, run_at) WHERE state IN ('pending', 'failed');
CREATE INDEX jobs_running ON jobs (queue, ordering_key) WHERE state = 'running';
