INSERT INTO reconciled.run_audit (run_id, dag_id, period_start, status, scope, started_at)
VALUES (%(run_id)s, %(dag_id)s, %(period_start)s, 'running', %(scope)s, now())
ON CONFLICT (run_id) DO UPDATE
   SET status = 'running', scope = EXCLUDED.scope, started_at = now(), finished_at = NULL;
