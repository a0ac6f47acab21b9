-- Content checksums of a period's current version (run ids and surrogate keys excluded), so two
-- loads of the same inputs can be compared. Timestamps render in UTC (the caller sets TimeZone).
SELECT
  (SELECT md5(coalesce(string_agg(concat_ws('|', site_id, child_id, attendance_date, voucher_id, program, status,
                                            basis, day_code, source, source_record_id, check_in, check_out),
                                  E'\n' ORDER BY site_id, child_id, attendance_date), ''))
     FROM reconciled.daily_attendance WHERE period_start = %(period_start)s) AS daily_attendance,
  (SELECT md5(coalesce(string_agg(concat_ws('|', site_id, child_id, operating_days, enrolled_days, absent_days,
                                            absence_rate, source, complete, off_days,
                                            paid_closure_days, unpaid_closure_days),
                                  E'\n' ORDER BY site_id, child_id), ''))
     FROM reconciled.absence_summary WHERE period_start = %(period_start)s) AS absence_summary,
  (SELECT md5(coalesce(string_agg(concat_ws('|', kind, severity, site_id, child_id, attendance_date, detail),
                                  E'\n' ORDER BY kind, site_id, child_id, attendance_date, detail), ''))
     FROM reconciled.exception WHERE period_start = %(period_start)s) AS exception,
  (SELECT count(*) FROM reconciled.daily_attendance WHERE period_start = %(period_start)s) AS daily_rows,
  (SELECT count(*) FROM reconciled.daily_attendance
    WHERE period_start = %(period_start)s AND status = 'absent') AS absences,
  (SELECT count(*) FROM reconciled.absence_summary WHERE period_start = %(period_start)s) AS summary_rows,
  (SELECT count(*) FROM reconciled.exception WHERE period_start = %(period_start)s) AS exceptions,
  (SELECT count(*) FROM reconciled.quarantine WHERE period_start = %(period_start)s) AS quarantined;
