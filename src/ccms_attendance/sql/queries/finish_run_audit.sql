-- The run loaded (a run marked failed or abandoned earlier, then cleared and run again, too).
UPDATE reconciled.run_audit
   SET status = %(status)s, status_reason = NULL, finished_at = now(), counts = %(counts)s,
       checksums = %(checksums)s, timings = %(timings)s
 WHERE run_id = %(run_id)s;
