SELECT source, site_id, child_id, attendance_date, status, day_code, check_in, check_out, source_record_id
  FROM staging.source_record
 WHERE run_id = %(run_id)s;
