-- One line per site of a loaded period: source, lifecycle, completeness, children, absences,
-- pending days, exceptions.
SELECT sp.site_id,
       s.site_name,
       sp.governing_source,
       sp.lifecycle,
       sp.complete,
       coalesce(sum(a.enrolled_days), 0)::int AS enrolled_days,
       coalesce(sum(a.absent_days), 0)::int AS absences,
       sp.pending_days,
       count(a.child_id)::int AS children,
       (SELECT count(*) FROM reconciled.exception e
         WHERE e.period_start = sp.period_start AND e.site_id = sp.site_id)::int AS exceptions
  FROM reconciled.site_period sp
  JOIN ref.site_latest s ON s.site_id = sp.site_id
  LEFT JOIN reconciled.absence_summary a ON a.period_start = sp.period_start AND a.site_id = sp.site_id
 WHERE sp.period_start = %(period_start)s
 GROUP BY sp.period_start, sp.site_id, s.site_name, sp.governing_source, sp.lifecycle, sp.complete, sp.pending_days
 ORDER BY sp.site_id;
