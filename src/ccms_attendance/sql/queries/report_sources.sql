-- Period report: daily rows and absences per source that governed them.
SELECT source,
       count(DISTINCT site_id)::int AS sites,
       count(*)::int AS daily_rows,
       count(*) FILTER (WHERE status = 'absent')::int AS absences
  FROM reconciled.daily_attendance
 WHERE period_start = %(period_start)s
 GROUP BY source
 ORDER BY source;
