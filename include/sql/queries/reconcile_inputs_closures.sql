SELECT c.site_id, c.closure_date
  FROM ref.site_closure c
  JOIN staging.site_plan p ON p.run_id = %(run_id)s AND p.site_id = c.site_id
 WHERE c.closure_date BETWEEN %(period_start)s AND %(period_end)s;
