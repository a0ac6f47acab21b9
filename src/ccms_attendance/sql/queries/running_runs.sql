-- The other runs the warehouse still sees running, oldest first, and whether each started more than
-- unknown_after ago (how long a run Airflow does not know may take before it counts as abandoned).
SELECT run_id, dag_id, started_at, started_at < now() - %(unknown_after)s::interval AS overdue
  FROM reconciled.run_audit
 WHERE status = 'running' AND run_id <> %(run_id)s
 ORDER BY started_at, run_id;
