-- A run starts (or restarts from its plan): its as_of parameter is "now" for the whole run, and
-- as_known_at the instant it reads reference and portal data as known at (docs/history.md).
INSERT INTO reconciled.run_audit (run_id, dag_id, period_start, status, scope, started_at, as_of, as_known_at)
VALUES (%(run_id)s, %(dag_id)s, %(period_start)s, 'running', %(scope)s, now(), %(as_of)s, %(as_known_at)s)
ON CONFLICT (run_id) DO UPDATE
   SET status = 'running', scope = EXCLUDED.scope, started_at = now(), finished_at = NULL, as_of = EXCLUDED.as_of,
       as_known_at = EXCLUDED.as_known_at,
       -- planned again after it failed, was abandoned or had its staging pruned: it starts afresh
       status_reason = NULL, staging_pruned_at = NULL;
