-- Children whose days a load changed: in the version it loaded, or in the rows it replaced. Read
-- from the absence summaries, which hold a row for every site and child with a day in the daily
-- table (rules/daily_attendance.py), so the same children from a tenth of the rows.
SELECT child_id FROM reconciled.absence_summary
 WHERE period_start = %(period_start)s AND run_id = %(run_id)s
UNION
SELECT child_id FROM history.absence_summary
 WHERE period_start = %(period_start)s AND superseded_by_run = %(run_id)s
ORDER BY child_id;
