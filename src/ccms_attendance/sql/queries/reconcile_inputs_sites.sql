-- The planned sites' operating weekdays, from the site version the period uses (docs/history.md).
SELECT s.site_id, s.operating_weekdays
  FROM ref.site_for_period(%(as_known_at)s, %(period_start)s, %(period_end)s) s
  JOIN staging.site_plan p ON p.run_id = %(run_id)s AND p.site_id = s.site_id;
