-- One source's staged records of a run, as the GX extract suites see them.
SELECT record_no, source, site_id, license_number, child_id, attendance_date, status, day_code,
       check_in, check_out, absence_reason, source_record_id
  FROM staging.source_record
 WHERE run_id = %(run_id)s AND source = %(source)s
 ORDER BY record_no;
