-- Period report: one line per site of the loaded period (absence rate over enrolled child-days,
-- completeness as child-days with a final status over enrolled child-days: pending days have none).
WITH summary AS (
    SELECT site_id,
           count(*)::int AS children,
           sum(enrolled_days)::int AS enrolled_days,
           sum(absent_days)::int AS absent_days
      FROM reconciled.absence_summary
     WHERE period_start = %(period_start)s
     GROUP BY site_id
), daily AS (
    SELECT site_id, count(*) FILTER (WHERE status <> 'pending')::int AS daily_rows
      FROM reconciled.daily_attendance
     WHERE period_start = %(period_start)s
     GROUP BY site_id
)
SELECT sp.site_id,
       s.site_name,
       sp.governing_source,
       sp.lifecycle,
       sp.complete,
       sp.incomplete_reason,
       sp.pending_days,
       coalesce(sm.children, 0) AS children,
       coalesce(sm.enrolled_days, 0) AS enrolled_days,
       coalesce(sm.absent_days, 0) AS absent_days,
       coalesce(d.daily_rows, 0) AS daily_rows
  FROM reconciled.site_period sp
  JOIN ref.site_latest s ON s.site_id = sp.site_id
  LEFT JOIN summary sm ON sm.site_id = sp.site_id
  LEFT JOIN daily d ON d.site_id = sp.site_id
 WHERE sp.period_start = %(period_start)s
 ORDER BY sp.site_id;
