-- Staging rows of runs that finished more than a week ago are no longer needed for retries.
DELETE FROM staging.source_record s USING reconciled.run_audit a
 WHERE a.run_id = s.run_id AND a.finished_at < now() - interval '7 days';
DELETE FROM staging.daily_attendance s USING reconciled.run_audit a
 WHERE a.run_id = s.run_id AND a.finished_at < now() - interval '7 days';
DELETE FROM staging.absence_summary s USING reconciled.run_audit a
 WHERE a.run_id = s.run_id AND a.finished_at < now() - interval '7 days';
