SELECT source, site_id, child_id, attendance_date
  FROM staging.quarantine
 WHERE run_id = %(run_id)s;
