-- Recount the absence limits of %(children)s (the children whose days the current load changed)
-- from the reconciled tables, and bring the notice list in line: a crossing no longer found is
-- withdrawn (the row stays, with the run that withdrew it), a new one is reported. Runs inside
-- the load transaction. The rules and thresholds are in ccms_attendance.rules.absence_limits and
-- arrive as parameters.
--
-- Each child is recounted from the start of the enrollment year holding %(period_start)s (years
-- before it cannot change); consecutive runs look back %(lookback_days)s days further, so a run
-- that began before that year is counted whole.
DROP TABLE IF EXISTS pg_temp.limit_child, pg_temp.limit_day, pg_temp.limit_count, pg_temp.limit_crossing;
-- The work tables are analyzed as they are made; unanalyzed, the planner guesses millions of rows
-- and spends longer compiling (JIT) than the recount takes.
SET LOCAL jit = off;

CREATE TEMP TABLE limit_child ON COMMIT DROP AS
WITH anchored AS (
    SELECT c.child_id,
           coalesce(r.eligibility_start,
                    (SELECT min(v.authorized_start) FROM ref.voucher v WHERE v.child_id = c.child_id),
                    %(period_start)s::date) AS anchor
      FROM unnest(%(children)s::text[]) AS c(child_id)
      LEFT JOIN ref.child r ON r.child_id = c.child_id
)
SELECT child_id, anchor, ref.enrollment_year_start(anchor, %(period_start)s::date) AS recount_from
  FROM anchored;
ANALYZE limit_child;

-- One state per child-day, across every site and program: present if any site says PR, absent
-- if the child was expected somewhere (AB) and present nowhere. OD and closures neither count nor
-- break a run. Only complete child-periods count; an incomplete one leaves a single 'unknown'
-- day that breaks any run through it and adds nothing.
CREATE TEMP TABLE limit_day ON COMMIT DROP AS
WITH child_period AS (
    SELECT s.child_id, s.period_start, bool_and(s.complete) AS complete
      FROM reconciled.absence_summary s
      JOIN limit_child l ON l.child_id = s.child_id
     WHERE s.period_start >= l.recount_from - %(lookback_days)s::int
     GROUP BY s.child_id, s.period_start
)
SELECT d.child_id, d.attendance_date, d.period_start,
       CASE WHEN bool_or(d.day_code = 'PR') THEN 'present' ELSE 'absent' END AS state
  FROM reconciled.daily_attendance d
  JOIN child_period cp ON cp.child_id = d.child_id AND cp.period_start = d.period_start AND cp.complete
 WHERE d.day_code IN ('PR', 'AB')
 GROUP BY d.child_id, d.attendance_date, d.period_start
UNION ALL
SELECT child_id, period_start, period_start, 'unknown'
  FROM child_period
 WHERE NOT complete;
ANALYZE limit_day;

-- Running counts: absences per enrollment year, and the current run of consecutive absences. A
-- run also breaks where consecutive counted days lie in periods that are not adjacent (a period
-- not loaded, or not enrolled, is unknown, not absent).
CREATE TEMP TABLE limit_count ON COMMIT DROP AS
WITH ordered AS (
    SELECT d.child_id, d.attendance_date, d.period_start, d.state,
           ref.enrollment_year_start(l.anchor, d.attendance_date) AS year_start,
           lag(d.period_start) OVER w AS previous_period_start,
           lag(p.period_end) OVER w AS previous_period_end
      FROM limit_day d
      JOIN limit_child l ON l.child_id = d.child_id
      JOIN ref.service_period p ON p.period_start = d.period_start
    WINDOW w AS (PARTITION BY d.child_id ORDER BY d.attendance_date)
), runs AS (
    SELECT o.*,
           sum(CASE WHEN o.state <> 'absent' THEN 1
                    WHEN o.previous_period_start IS NULL
                      OR o.previous_period_start = o.period_start
                      OR o.previous_period_end + 1 = o.period_start THEN 0
                    ELSE 1 END) OVER (PARTITION BY o.child_id ORDER BY o.attendance_date) AS run_no
      FROM ordered o
)
SELECT r.child_id, r.attendance_date, r.period_start, r.state, r.year_start,
       count(*) FILTER (WHERE r.state = 'absent')
           OVER (PARTITION BY r.child_id, r.year_start ORDER BY r.attendance_date) AS absences_in_year,
       count(*) FILTER (WHERE r.state = 'absent')
           OVER (PARTITION BY r.child_id, r.run_no ORDER BY r.attendance_date) AS consecutive
  FROM runs r;
ANALYZE limit_count;

-- The day each threshold was reached, within the recounted years.
CREATE TEMP TABLE limit_crossing ON COMMIT DROP AS
SELECT c.child_id, c.year_start AS enrollment_year_start, 'absences_in_enrollment_year' AS limit_kind,
       c.absences_in_year::int AS threshold, c.attendance_date AS crossed_on, c.period_start,
       CASE WHEN c.absences_in_year = %(voucher_end_absences)s THEN 'voucher_ends' ELSE 'notice' END AS action,
       -- The voucher ends at the end of that week (weeks run Sunday to Saturday).
       CASE WHEN c.absences_in_year = %(voucher_end_absences)s
            THEN c.attendance_date + (6 - extract(dow FROM c.attendance_date))::int END AS voucher_ends_on
  FROM limit_count c
  JOIN limit_child l ON l.child_id = c.child_id
 WHERE c.state = 'absent'
   AND c.year_start >= l.recount_from
   AND c.absences_in_year = ANY (%(absence_thresholds)s::int[])
UNION ALL
SELECT c.child_id, c.year_start, 'consecutive_absences', c.consecutive::int, c.attendance_date, c.period_start,
       'removal', NULL
  FROM limit_count c
  JOIN limit_child l ON l.child_id = c.child_id
 WHERE c.state = 'absent'
   AND c.attendance_date >= l.recount_from
   AND c.consecutive = %(consecutive_limit)s;
ANALYZE limit_crossing;

UPDATE reconciled.absence_limit_notice n
   SET withdrawn_at = now(), withdrawn_by_run = %(run_id)s
  FROM limit_child l
 WHERE n.child_id = l.child_id
   AND n.withdrawn_at IS NULL
   AND n.crossed_on >= l.recount_from
   AND NOT EXISTS (
       SELECT 1 FROM limit_crossing c
        WHERE c.child_id = n.child_id AND c.limit_kind = n.limit_kind AND c.threshold = n.threshold
          AND c.crossed_on = n.crossed_on AND c.period_start = n.period_start
          AND c.enrollment_year_start = n.enrollment_year_start);

INSERT INTO reconciled.absence_limit_notice
       (child_id, enrollment_year_start, limit_kind, threshold, crossed_on, period_start, action, voucher_ends_on,
        reported_by_run, reported_at)
SELECT c.child_id, c.enrollment_year_start, c.limit_kind, c.threshold, c.crossed_on, c.period_start, c.action,
       c.voucher_ends_on, %(run_id)s, now()
  FROM limit_crossing c
 WHERE NOT EXISTS (
       SELECT 1 FROM reconciled.absence_limit_notice n
        WHERE n.withdrawn_at IS NULL AND n.child_id = c.child_id AND n.limit_kind = c.limit_kind
          AND n.threshold = c.threshold AND n.crossed_on = c.crossed_on)
 ORDER BY c.child_id, c.crossed_on, c.limit_kind, c.threshold;

DELETE FROM reconciled.absence_tally t
 USING limit_child l
 WHERE t.child_id = l.child_id AND t.enrollment_year_start >= l.recount_from;

INSERT INTO reconciled.absence_tally
       (child_id, enrollment_year_start, absences, consecutive_absences, longest_consecutive, counted_through,
        computed_by_run)
SELECT c.child_id, c.year_start, max(c.absences_in_year),
       (array_agg(c.consecutive ORDER BY c.attendance_date DESC))[1], max(c.consecutive), max(c.attendance_date),
       %(run_id)s
  FROM limit_count c
  JOIN limit_child l ON l.child_id = c.child_id
 WHERE c.year_start >= l.recount_from
 GROUP BY c.child_id, c.year_start;
