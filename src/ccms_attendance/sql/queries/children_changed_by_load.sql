-- Children whose days a load changed: in the version it loaded, or in the rows it replaced.
-- Grouped before sorting: ~600k child-days of a statewide period hash down to ~60k children, so
-- only those are sorted (a UNION sorted every child-day, spilling to disk).
SELECT child_id
  FROM (SELECT child_id FROM reconciled.daily_attendance
         WHERE period_start = %(period_start)s AND run_id = %(run_id)s
        UNION ALL
        SELECT child_id FROM history.daily_attendance
         WHERE period_start = %(period_start)s AND superseded_by_run = %(run_id)s) changed
 GROUP BY child_id
 ORDER BY child_id;
