-- The sites whose vendor a run called, in the order its extract tasks called them (batch, then site).
SELECT license_number
  FROM staging.site_plan
 WHERE run_id = %(run_id)s
   AND governing_source = %(source)s
   AND batch_no >= 0
   AND incomplete_reason IS NULL
 ORDER BY batch_no, site_id;
