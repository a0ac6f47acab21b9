-- Recount the absence limits of `children` (the children whose days the current load changed)
-- from the reconciled tables, and bring the notice list in line: a crossing no longer found is
-- withdrawn (the row stays, with the run that withdrew it), a new one is reported. Runs inside
-- the load transaction. The rules and thresholds are in ccms_attendance.rules.absence_limits and
-- arrive as parameters.
--
-- Each child is recounted from the start of the enrollment year holding `period_start` (years
-- before it cannot change); consecutive runs look back `lookback_days` days further, so a run
-- that began before that year is counted whole.
DROP TABLE IF EXISTS pg_temp.limit_child, pg_temp.limit_period, pg_temp.limit_count, pg_temp.limit_crossing;
-- No JIT: compiling costs more than the recount. Sorts and hashes of a statewide period's
-- child-days (~550k) stay in memory instead of spilling to disk at the default 4MB.
SET LOCAL jit = off;
SET LOCAL work_mem = '256MB';

-- Per child: where the recount starts, and the enrollment years around it (computed once per
-- distinct anchor, so the child-days below need only comparisons, not date arithmetic).
-- Eligibility and vouchers as known at the loading run's as_known_at (docs/history.md; now for a
-- recount outside a run).
CREATE TEMP TABLE limit_child ON COMMIT DROP AS
WITH known AS MATERIALIZED (
    SELECT coalesce((SELECT coalesce(a.as_known_at, a.as_of) FROM reconciled.run_audit a
                      WHERE a.run_id = %(run_id)s), now()) AS at
), anchored AS (
    SELECT c.child_id,
           coalesce(r.eligibility_start,
                    (SELECT min(v.authorized_start) FROM known k, ref.voucher_known(k.at) v
                      WHERE v.child_id = c.child_id),
                    %(period_start)s::date) AS anchor
      FROM unnest(%(children)s::text[]) AS c(child_id)
      LEFT JOIN (SELECT r.* FROM known k, ref.child_known(k.at) r) r ON r.child_id = c.child_id
), recount_year AS (
    SELECT a.anchor, ref.enrollment_year_start(a.anchor, %(period_start)s::date) AS recount_from
      FROM (SELECT DISTINCT anchor FROM anchored) a
), years AS MATERIALIZED (
    -- Anniversaries are 365 or 366 days apart, so the year after recount_from is the one holding
    -- recount_from + 366. Materialized, or the planner would compute these per child after the join.
    SELECT y.anchor, y.recount_from,
           ref.enrollment_year_start(y.anchor, y.recount_from - 1) AS previous_year_from,
           ref.enrollment_year_start(y.anchor, y.recount_from + 366) AS next_year_from
      FROM recount_year y
)
SELECT a.child_id, a.anchor, y.recount_from, y.previous_year_from, y.next_year_from
  FROM anchored a
  JOIN years y ON y.anchor = a.anchor;
ANALYZE limit_child;

-- The child-periods counted, with whether all of their sites are complete and final (a provisional
-- site-period's absences are shown but never counted). A table of its own,
-- analyzed: the reconciled tables' statistics predate the rows this load just wrote, and a plan
-- that trusted them would probe the child-days one child at a time.
CREATE TEMP TABLE limit_period ON COMMIT DROP AS
SELECT s.child_id, s.period_start, p.period_end, l.anchor, l.recount_from, l.previous_year_from,
       l.next_year_from, bool_and(s.complete AND s.lifecycle = 'final') AS complete
  FROM reconciled.absence_summary s
  JOIN limit_child l ON l.child_id = s.child_id
  JOIN ref.service_period p ON p.period_start = s.period_start
 WHERE s.period_start >= l.recount_from - %(lookback_days)s::int
 GROUP BY s.child_id, s.period_start, p.period_end, l.anchor, l.recount_from, l.previous_year_from,
          l.next_year_from;
ANALYZE limit_period;

-- Per counted child-day, in one pass sorted by child and day:
-- * absent: the child was expected somewhere (AB) and present (PR) nowhere, i.e. every row of the
--   day is AB. OD and closures neither count nor break a run. Only complete, final child-periods
--   count: any other leaves a single day (its first) that is not absent and not counted, so it
--   breaks any run through it, adds nothing and never moves counted_through. Booleans, not text
--   states: cheaper to aggregate and test.
-- * absences_in_year: absences so far in the day's enrollment year; consecutive: the current run
--   of absences, which also breaks where consecutive counted days lie in periods that are not
--   adjacent (a period not loaded, or not enrolled, is unknown, not absent). Both are the child's
--   running absence count minus that count where the year (or the run) began, so one sort serves
--   all the windows; longest_in_year is the running maximum of consecutive within the year.
-- Kept: the rows the notices and tallies need (threshold days and each year's last counted day).
-- Child ids are grouped and sorted bytewise (COLLATE "C"): any order that keeps a child's days
-- together will do, and it sorts several times faster than a linguistic one.
CREATE TEMP TABLE limit_count ON COMMIT DROP AS
WITH counted_row AS (
    SELECT cp.child_id COLLATE "C" AS child_id, d.attendance_date, cp.period_start, cp.period_end, cp.anchor,
           cp.recount_from, cp.previous_year_from, cp.next_year_from, d.day_code = 'AB' AS absent, true AS counted
      FROM reconciled.daily_attendance d
      JOIN limit_period cp ON cp.child_id = d.child_id AND cp.period_start = d.period_start AND cp.complete
     WHERE d.day_code IN ('PR', 'AB')
    UNION ALL
    SELECT child_id COLLATE "C", period_start, period_start, period_end, anchor, recount_from, previous_year_from,
           next_year_from, false, false
      FROM limit_period
     WHERE NOT complete
), counted_day AS (
    SELECT child_id, attendance_date, period_start, period_end, recount_from,
           CASE WHEN attendance_date >= next_year_from THEN ref.enrollment_year_start(anchor, attendance_date)
                WHEN attendance_date >= recount_from THEN recount_from
                WHEN attendance_date >= previous_year_from THEN previous_year_from
                ELSE ref.enrollment_year_start(anchor, attendance_date) END AS year_start,
           bool_and(absent) AS absent, bool_or(counted) AS counted
      FROM counted_row
     GROUP BY child_id, attendance_date, period_start, period_end, recount_from, year_start
), running AS (
    SELECT c.*,
           count(*) FILTER (WHERE c.absent) OVER w AS absences_so_far,
           lag(c.period_start) OVER w AS previous_period_start,
           lag(c.period_end) OVER w AS previous_period_end,
           lag(c.year_start) OVER w AS previous_day_year_start
      FROM counted_day c
    WINDOW w AS (PARTITION BY c.child_id ORDER BY c.attendance_date ROWS UNBOUNDED PRECEDING)
), started AS (
    SELECT r.*,
           r.absences_so_far
           - max(CASE WHEN r.previous_day_year_start IS DISTINCT FROM r.year_start
                      THEN r.absences_so_far - r.absent::int END) OVER w AS absences_in_year,
           r.absences_so_far
           - max(CASE WHEN r.previous_period_start IS NULL OR NOT r.absent
                        OR (r.previous_period_start = r.period_start
                            OR r.previous_period_end + 1 = r.period_start) IS NOT TRUE
                      THEN r.absences_so_far - r.absent::int END) OVER w AS consecutive
      FROM running r
    WINDOW w AS (PARTITION BY r.child_id ORDER BY r.attendance_date ROWS UNBOUNDED PRECEDING)
), measured AS (
    -- Years only grow with the day: weighting each day's value by its year makes the running
    -- maximum that of the current year.
    SELECT s.*,
           max((s.year_start - date '2000-01-01')::bigint * 1000000 + s.consecutive) OVER w
           - (s.year_start - date '2000-01-01')::bigint * 1000000 AS longest_in_year,
           max(s.attendance_date) FILTER (WHERE s.counted) OVER (PARTITION BY s.child_id, s.year_start)
               AS year_counted_through
      FROM started s
    WINDOW w AS (PARTITION BY s.child_id ORDER BY s.attendance_date ROWS UNBOUNDED PRECEDING)
)
SELECT child_id COLLATE "default" AS child_id, attendance_date, period_start, absent, year_start, recount_from,
       absences_in_year, consecutive, longest_in_year,
       attendance_date = year_counted_through AS last_counted_of_year
  FROM measured
 WHERE attendance_date = year_counted_through
    OR (absent AND (absences_in_year = ANY (%(absence_thresholds)s::int[])
                    OR consecutive = %(consecutive_limit)s));

-- The day each threshold was reached, within the recounted years.
CREATE TEMP TABLE limit_crossing ON COMMIT DROP AS
SELECT c.child_id, c.year_start AS enrollment_year_start, 'absences_in_enrollment_year' AS limit_kind,
       c.absences_in_year::int AS threshold, c.attendance_date AS crossed_on, c.period_start,
       CASE WHEN c.absences_in_year = %(voucher_end_absences)s THEN 'voucher_ends' ELSE 'notice' END AS action,
       -- The voucher ends at the end of that week (weeks run Sunday to Saturday).
       CASE WHEN c.absences_in_year = %(voucher_end_absences)s
            THEN c.attendance_date + (6 - extract(dow FROM c.attendance_date))::int END AS voucher_ends_on
  FROM limit_count c
 WHERE c.absent
   AND c.year_start >= c.recount_from
   AND c.absences_in_year = ANY (%(absence_thresholds)s::int[])
UNION ALL
SELECT c.child_id, c.year_start, 'consecutive_absences', c.consecutive::int, c.attendance_date, c.period_start,
       'removal', NULL
  FROM limit_count c
 WHERE c.absent
   AND c.attendance_date >= c.recount_from
   AND c.consecutive = %(consecutive_limit)s;

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

-- A year's last counted day carries its totals: its running count (counts only grow within a
-- year, and days not counted add nothing), the run of absences ending on it, and the longest run
-- of the year. A year with no counted day yet has no tally; counted_through never reaches a day
-- that was not counted (a provisional or incomplete period).
INSERT INTO reconciled.absence_tally
       (child_id, enrollment_year_start, absences, consecutive_absences, longest_consecutive, counted_through,
        computed_by_run)
SELECT c.child_id, c.year_start, c.absences_in_year, c.consecutive, c.longest_in_year, c.attendance_date, %(run_id)s
  FROM limit_count c
 WHERE c.last_counted_of_year AND c.year_start >= c.recount_from;
