-- Period report: what the run recorded in its audit (status, scope, counts incl. extraction per source).
SELECT run_id, dag_id, status, scope, started_at, finished_at, counts
  FROM reconciled.run_audit
 WHERE run_id = %(run_id)s;
