SELECT s.site_id, s.operating_weekdays
  FROM ref.site s
  JOIN staging.site_plan p ON p.run_id = %(run_id)s AND p.site_id = s.site_id;
