-- Children whose days a load changed: in the version it loaded, or in the rows it replaced.
SELECT child_id FROM reconciled.daily_attendance
 WHERE period_start = %(period_start)s AND run_id = %(run_id)s
UNION
SELECT child_id FROM history.daily_attendance
 WHERE period_start = %(period_start)s AND superseded_by_run = %(run_id)s
ORDER BY child_id;
