-- check_period: how the run ended in the warehouse (no row: it never planned).
SELECT status, status_reason
  FROM reconciled.run_audit
 WHERE run_id = %(run_id)s;
