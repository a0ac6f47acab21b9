-- What one run's recount changed in the notice list, and how many notices are current.
SELECT (SELECT count(*) FROM reconciled.absence_limit_notice WHERE reported_by_run = %(run_id)s) AS notices_reported,
       (SELECT count(*) FROM reconciled.absence_limit_notice WHERE withdrawn_by_run = %(run_id)s) AS notices_withdrawn,
       (SELECT count(*) FROM reconciled.absence_limit_notice WHERE withdrawn_at IS NULL) AS notices_current;
