-- Data docs retention: every run this warehouse recorded (newest first), its period, when it started
-- and whether it loaded the current version of its period (whose report links to its data docs).
SELECT a.run_id,
       a.period_start,
       a.started_at,
       EXISTS (SELECT 1 FROM reconciled.period_load pl WHERE pl.run_id = a.run_id) AS is_current
  FROM reconciled.run_audit a
 ORDER BY a.started_at DESC, a.run_id;
