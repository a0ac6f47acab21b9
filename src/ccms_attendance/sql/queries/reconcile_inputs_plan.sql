SELECT site_id, license_number, governing_source, selected_method, incomplete_reason
  FROM staging.site_plan
 WHERE run_id = %(run_id)s
 ORDER BY site_id;
