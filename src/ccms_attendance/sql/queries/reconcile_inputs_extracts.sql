SELECT source, site_id, outcome, error, submitted, submitted_at, data_through
  FROM staging.site_extract
 WHERE run_id = %(run_id)s;
