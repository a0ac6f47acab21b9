-- The /ccms/ index: the given periods, their current version's lifecycle and headline counts (sites
-- complete and incomplete, absences, pending child-days). A period never loaded has no lifecycle.
SELECT p.period_start,
       p.period_end,
       p.submission_deadline,
       pl.run_id AS loaded_run_id,
       pl.lifecycle,
       (SELECT count(*) FROM reconciled.site_period s
         WHERE s.period_start = p.period_start AND s.complete)::int AS sites_complete,
       (SELECT count(*) FROM reconciled.site_period s
         WHERE s.period_start = p.period_start AND NOT s.complete)::int AS sites_incomplete,
       (SELECT count(*) FROM reconciled.daily_attendance d
         WHERE d.period_start = p.period_start AND d.status = 'absent')::int AS absences,
       (SELECT count(*) FROM reconciled.daily_attendance d
         WHERE d.period_start = p.period_start AND d.status = 'pending')::int AS pending_days
  FROM ref.service_period p
  LEFT JOIN reconciled.period_load pl ON pl.period_start = p.period_start
 WHERE p.period_start = ANY(%(periods)s)
 ORDER BY p.period_start DESC;
