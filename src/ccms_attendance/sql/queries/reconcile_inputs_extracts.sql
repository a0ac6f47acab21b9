SELECT source, site_id, outcome, error
  FROM staging.site_extract
 WHERE run_id = %(run_id)s;
