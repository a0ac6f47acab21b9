-- Manual portal entries for the run's planned sites on the period's days.
SELECT 'ppp-' || e.entry_id::text AS source_record_id,
       e.site_id,
       s.license_number,
       e.child_id,
       e.attendance_date,
       e.day_code
  FROM portal.manual_entry e
  JOIN staging.site_plan p ON p.run_id = %(run_id)s AND p.site_id = e.site_id
  JOIN ref.site s ON s.site_id = e.site_id
 WHERE e.attendance_date BETWEEN %(period_start)s AND %(period_end)s
 ORDER BY e.entry_id;
