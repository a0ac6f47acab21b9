-- A run that stopped without loading: the status is 'failed' (a step said so) or 'abandoned' (found
-- by a later plan). Only a run still 'running' changes: a load that committed meanwhile wins.
UPDATE reconciled.run_audit
   SET status = %(status)s, status_reason = %(reason)s, finished_at = now()
 WHERE run_id = %(ended_run_id)s AND status = 'running';
