-- The /ccms/ index: what the warehouse recorded of the given runs (status and why).
SELECT run_id, status, status_reason
  FROM reconciled.run_audit
 WHERE run_id = ANY(%(run_ids)s);
