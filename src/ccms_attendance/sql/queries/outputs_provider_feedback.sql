-- A final period's roster and data-quality exceptions of the kinds a provider gets back
-- (outputs.letters.FEEDBACK_KINDS), per site. Records of children without a voucher were never
-- kept: their exception carries a count only (record_count, V014), so no child id.
SELECT s.provider_id, e.kind, e.site_id, s.site_name, s.license_number,
       CASE WHEN e.kind = 'unattributed_records_dropped' THEN NULL ELSE e.child_id END AS child_id,
       e.attendance_date, e.record_count
  FROM reconciled.exception e
  JOIN ref.site_latest s ON s.site_id = e.site_id  -- one row per site: as it is now
 WHERE e.period_start = %(period_start)s
   AND e.kind = ANY(%(kinds)s)
 ORDER BY s.provider_id, e.kind, e.site_id, e.child_id, e.attendance_date;
