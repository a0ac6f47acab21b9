-- What a run has staged: sites planned and reconciled (a load needs them equal), rows quarantined.
SELECT (SELECT count(*) FROM staging.site_plan WHERE run_id = %(run_id)s)::int AS planned_sites,
       (SELECT count(*) FROM staging.site_period WHERE run_id = %(run_id)s)::int AS reconciled_sites,
       (SELECT count(*) FROM staging.quarantine WHERE run_id = %(run_id)s)::int AS quarantined;
