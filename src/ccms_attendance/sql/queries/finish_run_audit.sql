UPDATE reconciled.run_audit
   SET status = %(status)s, finished_at = now(), counts = %(counts)s, checksums = %(checksums)s,
       timings = %(timings)s
 WHERE run_id = %(run_id)s;
