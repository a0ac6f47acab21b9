-- What one run's recount changed in the notice list, how many notices are current, and how many
-- children it counted on from their state (refresh_absence_limits.sql; the others were recounted
-- from the start of their enrollment year).
SELECT (SELECT count(*) FROM reconciled.absence_limit_notice WHERE reported_by_run = %(run_id)s) AS notices_reported,
       (SELECT count(*) FROM reconciled.absence_limit_notice WHERE withdrawn_by_run = %(run_id)s) AS notices_withdrawn,
       (SELECT count(*) FROM reconciled.absence_limit_notice WHERE withdrawn_at IS NULL) AS notices_current,
       (SELECT count(*) FROM pg_temp.limit_child WHERE from_state) AS children_from_state;
