-- Children of one period whose counts reached a threshold or are within `margin` of the next,
-- with the current notices they have (thresholds from ccms_attendance.rules.absence_limits).
WITH period_children AS (
    SELECT DISTINCT child_id FROM reconciled.daily_attendance WHERE period_start = %(period_start)s
), latest AS (
    SELECT DISTINCT ON (t.child_id) t.*
      FROM reconciled.absence_tally t
      JOIN period_children USING (child_id)
     ORDER BY t.child_id, t.enrollment_year_start DESC
)
SELECT l.child_id, l.enrollment_year_start, l.absences, l.consecutive_absences,
       coalesce((SELECT string_agg(n.limit_kind || ' ' || n.threshold || ' on ' || n.crossed_on, '; '
                                   ORDER BY n.crossed_on, n.threshold)
                   FROM reconciled.absence_limit_notice n
                  WHERE n.child_id = l.child_id AND n.withdrawn_at IS NULL
                    AND n.enrollment_year_start = l.enrollment_year_start), '') AS notices
  FROM latest l
 WHERE EXISTS (SELECT 1 FROM unnest(%(absence_thresholds)s::int[]) AS t(threshold)
                WHERE l.absences >= t.threshold - %(margin)s)
    OR l.consecutive_absences >= %(consecutive_limit)s - %(margin)s
 ORDER BY l.absences DESC, l.child_id;
