-- Content checksums of a period's current version (run ids and surrogate keys excluded), so two
-- loads of the same inputs can be compared. Each row's columns are hashed as a record (typed
-- values, NULL distinct from any value, no separators to confuse); a record hash combines its
-- columns linearly, so it is hashed once more before the rows' hashes are summed (else values
-- swapped between two rows would cancel out). A sum needs no sort of the period, and any changed,
-- added, removed or duplicated row changes it; the row count and the sum are then digested to an
-- md5-shaped text. The same rows give the same checksum in any order and any session time zone.
WITH daily AS (
    SELECT md5(count(*) || ':' || coalesce(sum(hashtextextended(hash_record_extended(
               (site_id, child_id, attendance_date, voucher_id, program, status, basis, day_code, source,
                source_record_id, check_in, check_out), 0)::text, 0)), 0)) AS checksum,
           count(*) AS daily_rows,
           count(*) FILTER (WHERE status = 'absent') AS absences,
           count(*) FILTER (WHERE status = 'pending') AS pending_days
      FROM reconciled.daily_attendance
     WHERE period_start = %(period_start)s
), summary AS (
    SELECT md5(count(*) || ':' || coalesce(sum(hashtextextended(hash_record_extended(
               (site_id, child_id, operating_days, enrolled_days, absent_days, absence_rate, source, complete,
                off_days, paid_closure_days, unpaid_closure_days, pending_days, lifecycle), 0)::text, 0)), 0)) AS checksum,
           count(*) AS summary_rows
      FROM reconciled.absence_summary
     WHERE period_start = %(period_start)s
), exception AS (
    SELECT md5(count(*) || ':' || coalesce(sum(hashtextextended(hash_record_extended(
               (kind, severity, site_id, child_id, attendance_date, detail), 0)::text, 0)), 0)) AS checksum,
           count(*) AS exceptions
      FROM reconciled.exception
     WHERE period_start = %(period_start)s
)
SELECT daily.checksum AS daily_attendance, summary.checksum AS absence_summary, exception.checksum AS exception,
       daily.daily_rows, daily.absences, daily.pending_days, summary.summary_rows, exception.exceptions,
       (SELECT count(*) FROM reconciled.quarantine WHERE period_start = %(period_start)s) AS quarantined
  FROM daily, summary, exception;
