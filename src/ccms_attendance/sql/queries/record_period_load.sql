INSERT INTO reconciled.period_load (period_start, run_id, loaded_at, checksum, lifecycle)
VALUES (%(period_start)s, %(run_id)s, now(), %(checksum)s, %(lifecycle)s)
ON CONFLICT (period_start) DO UPDATE
   SET run_id = EXCLUDED.run_id, loaded_at = EXCLUDED.loaded_at, checksum = EXCLUDED.checksum,
       lifecycle = EXCLUDED.lifecycle;
