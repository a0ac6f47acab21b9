-- Move records that failed row-level expectations from staging into the quarantine.
WITH moved AS (
    DELETE FROM staging.source_record r
     USING unnest(%(record_nos)s::bigint[], %(reasons)s::text[]) AS bad(record_no, reason)
     WHERE r.record_no = bad.record_no
    RETURNING r.run_id, r.source, r.batch_no, r.site_id, r.license_number, r.child_id, r.attendance_date,
              r.source_record_id, bad.reason
)
INSERT INTO staging.quarantine
       (run_id, source, batch_no, site_id, license_number, child_id, attendance_date, source_record_id, reason)
SELECT run_id, source, batch_no, site_id, license_number, child_id, attendance_date, source_record_id, reason
  FROM moved;
