-- The load step's own timings for a run (recorded by pipeline.load.load_period), for the bench report.
SELECT timings FROM reconciled.run_audit WHERE run_id = %(run_id)s;
