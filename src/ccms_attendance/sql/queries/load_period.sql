-- Swap a run's reconciled rows in as the period's current version. Runs inside one transaction
-- holding the period's advisory lock; `full_period` false limits the swap to the run's sites.
-- The rows being replaced are first copied to history.*, marked with the run replacing them.
-- The kept_sites (kept_site_periods.sql) keep their current rows: neither moved nor replaced; only
-- their 'site_period_kept' exceptions (about an earlier load that kept them) are replaced, by the
-- ones this load records (record_kept_sites.sql).
INSERT INTO history.daily_attendance
SELECT d.*, %(run_id)s FROM reconciled.daily_attendance d
 WHERE d.period_start = %(period_start)s
   AND (%(full_period)s OR d.site_id IN (SELECT site_id FROM staging.site_plan WHERE run_id = %(run_id)s))
   AND d.site_id <> ALL(%(kept_sites)s::text[]);
INSERT INTO history.absence_summary
       (period_start, site_id, child_id, operating_days, enrolled_days, absent_days, absence_rate, source, complete,
        run_id, off_days, paid_closure_days, unpaid_closure_days, pending_days, lifecycle, superseded_by_run)
SELECT d.period_start, d.site_id, d.child_id, d.operating_days, d.enrolled_days, d.absent_days, d.absence_rate,
       d.source, d.complete, d.run_id, d.off_days, d.paid_closure_days, d.unpaid_closure_days, d.pending_days,
       d.lifecycle, %(run_id)s
  FROM reconciled.absence_summary d
 WHERE d.period_start = %(period_start)s
   AND (%(full_period)s OR d.site_id IN (SELECT site_id FROM staging.site_plan WHERE run_id = %(run_id)s))
   AND d.site_id <> ALL(%(kept_sites)s::text[]);
INSERT INTO history.exception
       (period_start, run_id, kind, severity, site_id, child_id, attendance_date, detail, record_count, superseded_by_run)
SELECT d.period_start, d.run_id, d.kind, d.severity, d.site_id, d.child_id, d.attendance_date, d.detail, d.record_count,
       %(run_id)s
  FROM reconciled.exception d
 WHERE d.period_start = %(period_start)s
   AND (%(full_period)s OR d.site_id IN (SELECT site_id FROM staging.site_plan WHERE run_id = %(run_id)s))
   AND NOT (coalesce(d.site_id = ANY(%(kept_sites)s::text[]), false) AND d.kind <> 'site_period_kept');
DELETE FROM reconciled.daily_attendance d
 WHERE d.period_start = %(period_start)s
   AND (%(full_period)s OR d.site_id IN (SELECT site_id FROM staging.site_plan WHERE run_id = %(run_id)s))
   AND d.site_id <> ALL(%(kept_sites)s::text[]);
DELETE FROM reconciled.absence_summary d
 WHERE d.period_start = %(period_start)s
   AND (%(full_period)s OR d.site_id IN (SELECT site_id FROM staging.site_plan WHERE run_id = %(run_id)s))
   AND d.site_id <> ALL(%(kept_sites)s::text[]);
DELETE FROM reconciled.site_period d
 WHERE d.period_start = %(period_start)s
   AND (%(full_period)s OR d.site_id IN (SELECT site_id FROM staging.site_plan WHERE run_id = %(run_id)s))
   AND d.site_id <> ALL(%(kept_sites)s::text[]);
DELETE FROM reconciled.exception d
 WHERE d.period_start = %(period_start)s
   AND (%(full_period)s OR d.site_id IN (SELECT site_id FROM staging.site_plan WHERE run_id = %(run_id)s))
   AND NOT (coalesce(d.site_id = ANY(%(kept_sites)s::text[]), false) AND d.kind <> 'site_period_kept');
DELETE FROM reconciled.quarantine d
 WHERE d.period_start = %(period_start)s
   AND (%(full_period)s OR d.site_id IN (SELECT site_id FROM staging.site_plan WHERE run_id = %(run_id)s))
   AND NOT coalesce(d.site_id = ANY(%(kept_sites)s::text[]), false);
INSERT INTO reconciled.daily_attendance
SELECT * FROM staging.daily_attendance WHERE run_id = %(run_id)s AND site_id <> ALL(%(kept_sites)s::text[]);
INSERT INTO reconciled.absence_summary
SELECT * FROM staging.absence_summary WHERE run_id = %(run_id)s AND site_id <> ALL(%(kept_sites)s::text[]);
INSERT INTO reconciled.site_period
SELECT * FROM staging.site_period WHERE run_id = %(run_id)s AND site_id <> ALL(%(kept_sites)s::text[]);
INSERT INTO reconciled.exception
       (period_start, run_id, kind, severity, site_id, child_id, attendance_date, detail, record_count)
SELECT period_start, run_id, kind, severity, site_id, child_id, attendance_date, detail, record_count
  FROM staging.exception
 WHERE run_id = %(run_id)s AND NOT coalesce(site_id = ANY(%(kept_sites)s::text[]), false)
 ORDER BY stage, kind, site_id, child_id, attendance_date, detail;
INSERT INTO reconciled.quarantine
       (period_start, run_id, source, site_id, license_number, child_id, attendance_date, source_record_id, reason)
SELECT %(period_start)s, run_id, source, site_id, license_number, child_id, attendance_date, source_record_id, reason
  FROM staging.quarantine
 WHERE run_id = %(run_id)s AND NOT coalesce(site_id = ANY(%(kept_sites)s::text[]), false)
 ORDER BY source, site_id, source_record_id, reason;
