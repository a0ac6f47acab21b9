INSERT INTO reconciled.period_load (period_start, run_id, loaded_at, checksum)
VALUES (%(period_start)s, %(run_id)s, now(), %(checksum)s)
ON CONFLICT (period_start) DO UPDATE
   SET run_id = EXCLUDED.run_id, loaded_at = EXCLUDED.loaded_at, checksum = EXCLUDED.checksum;
