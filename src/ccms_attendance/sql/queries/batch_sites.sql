-- The sites one mapped extract task pulls: one vendor, one batch, extractable.
SELECT site_id, license_number
  FROM staging.site_plan
 WHERE run_id = %(run_id)s
   AND governing_source = %(source)s
   AND batch_no = %(batch_no)s
   AND incomplete_reason IS NULL
 ORDER BY site_id;
