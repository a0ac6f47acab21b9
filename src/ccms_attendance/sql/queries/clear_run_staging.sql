-- Forget everything a run staged, so a re-planned run starts clean.
DELETE FROM staging.site_plan WHERE run_id = %(run_id)s;
DELETE FROM staging.source_record WHERE run_id = %(run_id)s;
DELETE FROM staging.site_extract WHERE run_id = %(run_id)s;
DELETE FROM staging.quarantine WHERE run_id = %(run_id)s;
DELETE FROM staging.exception WHERE run_id = %(run_id)s;
DELETE FROM staging.daily_attendance WHERE run_id = %(run_id)s;
DELETE FROM staging.absence_summary WHERE run_id = %(run_id)s;
DELETE FROM staging.site_period WHERE run_id = %(run_id)s;
DELETE FROM staging.source_judged WHERE run_id = %(run_id)s;
