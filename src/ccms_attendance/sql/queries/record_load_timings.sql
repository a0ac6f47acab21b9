-- The load's step timings again, with the steps that ran after its transaction (ANALYZE).
UPDATE reconciled.run_audit SET timings = %(timings)s WHERE run_id = %(run_id)s;
