-- Staging rows serve only the tasks of their own run (and its retries). A run loaded, failed or
-- abandoned more than the retention ago needs them no more: all of them are deleted and the run is
-- marked pruned (run_clock.sql then refuses any later step of it).
CREATE TEMP TABLE pruned_run ON COMMIT DROP AS
SELECT run_id
  FROM reconciled.run_audit
 WHERE status <> 'running' AND staging_pruned_at IS NULL AND finished_at < now() - %(retention)s::interval;
DELETE FROM staging.site_plan s USING pruned_run p WHERE s.run_id = p.run_id;
DELETE FROM staging.source_record s USING pruned_run p WHERE s.run_id = p.run_id;
DELETE FROM staging.site_extract s USING pruned_run p WHERE s.run_id = p.run_id;
DELETE FROM staging.quarantine s USING pruned_run p WHERE s.run_id = p.run_id;
DELETE FROM staging.exception s USING pruned_run p WHERE s.run_id = p.run_id;
DELETE FROM staging.daily_attendance s USING pruned_run p WHERE s.run_id = p.run_id;
DELETE FROM staging.absence_summary s USING pruned_run p WHERE s.run_id = p.run_id;
DELETE FROM staging.site_period s USING pruned_run p WHERE s.run_id = p.run_id;
DELETE FROM staging.source_judged s USING pruned_run p WHERE s.run_id = p.run_id;
UPDATE reconciled.run_audit a SET staging_pruned_at = now() FROM pruned_run p WHERE a.run_id = p.run_id;
