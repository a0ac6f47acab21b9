-- Manual portal entries for the run's planned sites on the period's days, as known at the run's
-- as_known_at (one version per child-day: a correction supersedes the earlier entry), with the
-- instant from which the site's portal is read-only (it connected a CCMS).
SELECT 'ppp-' || e.entry_id::text AS source_record_id,
       e.site_id,
       p.license_number,
       e.child_id,
       e.attendance_date,
       e.day_code,
       e.entered_at,
       p.portal_read_only_from
  FROM portal.manual_entry_known(%(as_known_at)s) e
  JOIN staging.site_plan p ON p.run_id = %(run_id)s AND p.site_id = e.site_id
 WHERE e.attendance_date BETWEEN %(period_start)s AND %(period_end)s
 ORDER BY e.entry_id;
