DELETE FROM staging.daily_attendance WHERE run_id = %(run_id)s;
DELETE FROM staging.absence_summary WHERE run_id = %(run_id)s;
DELETE FROM staging.site_period WHERE run_id = %(run_id)s;
DELETE FROM staging.exception WHERE run_id = %(run_id)s AND stage = 'reconcile';
