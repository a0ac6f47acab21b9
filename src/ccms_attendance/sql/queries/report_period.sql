-- Period report: the period, the run that loaded its current version, and its headline counts.
-- The daily rows are counted in one pass (a statewide period holds ~600k).
SELECT p.period_start,
       p.period_end,
       p.submission_deadline,
       pl.run_id AS loaded_run_id,
       pl.loaded_at,
       pl.lifecycle,
       d.daily_rows,
       d.absences,
       d.pending_days,
       (SELECT count(*) FROM reconciled.absence_summary a WHERE a.period_start = p.period_start)::int AS children,
       (SELECT count(*) FROM reconciled.site_period s WHERE s.period_start = p.period_start)::int AS sites,
       (SELECT count(*) FROM reconciled.site_period s
         WHERE s.period_start = p.period_start AND NOT s.complete)::int AS incomplete_sites,
       (SELECT count(*) FROM reconciled.exception e WHERE e.period_start = p.period_start)::int AS exceptions,
       (SELECT count(*) FROM reconciled.quarantine q WHERE q.period_start = p.period_start)::int AS quarantined
  FROM ref.service_period p
  LEFT JOIN reconciled.period_load pl ON pl.period_start = p.period_start
 CROSS JOIN LATERAL (SELECT count(*)::int AS daily_rows,
                            count(*) FILTER (WHERE d.status = 'absent')::int AS absences,
                            count(*) FILTER (WHERE d.status = 'pending')::int AS pending_days
                       FROM reconciled.daily_attendance d
                      WHERE d.period_start = p.period_start) d
 WHERE p.period_start = %(period_start)s;
