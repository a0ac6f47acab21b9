-- Recount the absence limits of `children` (the children whose days the current load changed)
-- from the reconciled tables, and bring the notice list in line: a crossing no longer found is
-- withdrawn (the row stays, with the run that withdrew it), a new one is reported. Runs inside
-- the load transaction. The rules and thresholds are in ccms_attendance.rules.absence_limits and
-- arrive as parameters.
--
-- What a child's recount reads (issue 20). The counts are those of a recount from the start of
-- the enrollment year holding `period_start` (years before it cannot change), whose consecutive
-- runs look back `lookback_days` days further, so a run that began before that year is counted
-- whole: the *full* recount. It is done as such when nothing else is possible; usually the child
-- has a state (reconciled.absence_limit_state, written here) at the end of its last period before
-- `period_start`, written by a recount of that same year and anchor: then only the periods from
-- `period_start` on are read, and the count continues from that state, to the same results
-- (tests/integration/test_absence_limit_state.py checks it against the full recount). A newest
-- period reads one period; a reload of an earlier one reads from it on. `from_scratch` ignores
-- the states (every child recounted in full).
DROP TABLE IF EXISTS pg_temp.limit_child, pg_temp.limit_period, pg_temp.limit_count, pg_temp.limit_crossing,
    pg_temp.limit_state;
-- No JIT: compiling costs more than the recount. Sorts and hashes of a statewide period's
-- child-days (~550k) stay in memory instead of spilling to disk at the default 4MB.
SET LOCAL jit = off;
SET LOCAL work_mem = '256MB';

-- Per child: the enrollment years around `period_start` (computed once per distinct anchor, so the
-- child-days below need only comparisons, not date arithmetic), where the recount starts
-- (count_from), from which day it answers for the notices (notices_from), and the state it
-- continues from (carry_*, NULL for a full recount).
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
), earlier AS MATERIALIZED (
    -- Whether any child has a period before `period_start` within reach (none: a warehouse's first
    -- period), so that the look-up per child below is skipped when it could find nothing.
    SELECT EXISTS (SELECT 1 FROM reconciled.absence_summary s
                    WHERE s.period_start < %(period_start)s::date
                      AND s.period_start >= (SELECT min(y.recount_from) FROM years y) - %(lookback_days)s::int)
               AS any_earlier
), located AS (
    -- The child's last period before `period_start` that the full recount would read.
    SELECT a.child_id, a.anchor, y.recount_from, y.previous_year_from, y.next_year_from,
           CASE WHEN (SELECT e.any_earlier FROM earlier e)
                THEN (SELECT max(s.period_start) FROM reconciled.absence_summary s
                       WHERE s.child_id = a.child_id AND s.period_start < %(period_start)s::date
                         AND s.period_start >= y.recount_from - %(lookback_days)s::int) END AS carry_period
      FROM anchored a
      JOIN years y ON y.anchor = a.anchor
)
SELECT l.child_id, l.anchor, l.recount_from, l.previous_year_from, l.next_year_from,
       -- Without a period before `period_start`, the full recount reads from `period_start` too.
       CASE WHEN st.child_id IS NOT NULL OR l.carry_period IS NULL THEN %(period_start)s::date
            ELSE l.recount_from - %(lookback_days)s::int END AS count_from,
       CASE WHEN st.child_id IS NOT NULL THEN %(period_start)s::date ELSE l.recount_from END AS notices_from,
       st.child_id IS NOT NULL AS from_state,
       st.last_period_start AS carry_period_start, st.last_period_end AS carry_period_end,
       st.year_start AS carry_year_start, st.absences_in_year AS carry_absences,
       st.consecutive AS carry_consecutive, st.longest_in_year AS carry_longest,
       st.counted_through AS carry_counted_through, st.consecutive_at_counted AS carry_consecutive_at_counted
  FROM located l
  -- One look-up by key per child (LIMIT keeps the planner from scanning every state instead).
  LEFT JOIN LATERAL (SELECT st.* FROM reconciled.absence_limit_state st
                      WHERE st.period_start = l.carry_period AND st.child_id = l.child_id
                        AND st.anchor = l.anchor AND st.recount_from = l.recount_from AND NOT %(from_scratch)s
                        AND l.carry_period IS NOT NULL
                      LIMIT 1) st ON true;
ANALYZE limit_child;

-- The child-periods counted, with whether all of their sites are complete and final (a provisional
-- site-period's absences are shown but never counted). A table of its own, analyzed: the
-- reconciled tables' statistics predate the rows this load just wrote. Children counted from
-- `period_start` (nearly all, at a newest period) read the child-days of a range of the newest
-- periods, by the period's key; the few recounted in full (a new enrollment year, no state) each
-- read their own periods by the child's index, so neither reads the rest of the year.
CREATE TEMP TABLE limit_period ON COMMIT DROP AS
WITH summary AS (
    SELECT s.child_id, s.period_start, s.complete, s.lifecycle
      FROM reconciled.absence_summary s
      JOIN limit_child l ON l.child_id = s.child_id
     WHERE s.period_start >= %(period_start)s::date AND l.count_from = %(period_start)s::date
    UNION ALL
    SELECT s.child_id, s.period_start, s.complete, s.lifecycle
      FROM limit_child l
     CROSS JOIN LATERAL (SELECT s.child_id, s.period_start, s.complete, s.lifecycle
                           FROM reconciled.absence_summary s
                          WHERE s.child_id = l.child_id AND s.period_start >= l.count_from) s
     WHERE l.count_from < %(period_start)s::date
)
SELECT s.child_id, s.period_start, p.period_end, l.anchor, l.recount_from, l.previous_year_from,
       l.next_year_from, l.count_from = %(period_start)s::date AS newest, l.carry_period_start, l.carry_period_end,
       l.carry_year_start, l.carry_absences, l.carry_consecutive, l.carry_longest, l.carry_counted_through,
       l.carry_consecutive_at_counted, bool_and(s.complete AND s.lifecycle = 'final') AS complete
  FROM summary s
  JOIN limit_child l ON l.child_id = s.child_id
  JOIN ref.service_period p ON p.period_start = s.period_start
 GROUP BY s.child_id, s.period_start, p.period_end, l.anchor, l.recount_from, l.previous_year_from,
          l.next_year_from, l.count_from, l.carry_period_start, l.carry_period_end, l.carry_year_start,
          l.carry_absences, l.carry_consecutive, l.carry_longest, l.carry_counted_through,
          l.carry_consecutive_at_counted;
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
--   Counted from a state, the state's day stands before the first: with no break since, the
--   count continues the state's.
-- Kept: the rows the notices and tallies need (threshold days and each year's last counted day)
-- and each period's last day (the state at its end).
-- Child ids are grouped and sorted bytewise (COLLATE "C"): any order that keeps a child's days
-- together will do, and it sorts several times faster than a linguistic one.
-- No hash aggregate here: sorted once by child, year and day, the child-days are grouped and every
-- window below reads them in that order; hashed, they were sorted again after grouping (the same
-- rows; a statewide rerun's recount 0.7 s faster, docs/performance-history.md).
SET LOCAL enable_hashagg = off;
CREATE TEMP TABLE limit_count ON COMMIT DROP AS
WITH counted_row AS (
    SELECT cp.child_id COLLATE "C" AS child_id, d.attendance_date, cp.period_start, cp.period_end, cp.anchor,
           cp.recount_from, cp.previous_year_from, cp.next_year_from, d.day_code = 'AB' AS absent, true AS counted,
           cp.carry_period_start, cp.carry_period_end, cp.carry_year_start, cp.carry_absences, cp.carry_consecutive,
           cp.carry_longest, cp.carry_counted_through, cp.carry_consecutive_at_counted
      FROM reconciled.daily_attendance d
      JOIN limit_period cp ON cp.child_id = d.child_id AND cp.period_start = d.period_start AND cp.complete
     WHERE d.day_code IN ('PR', 'AB') AND d.period_start >= %(period_start)s::date AND cp.newest
    UNION ALL
    SELECT cp.child_id COLLATE "C", d.attendance_date, cp.period_start, cp.period_end, cp.anchor,
           cp.recount_from, cp.previous_year_from, cp.next_year_from, d.day_code = 'AB', true,
           cp.carry_period_start, cp.carry_period_end, cp.carry_year_start, cp.carry_absences, cp.carry_consecutive,
           cp.carry_longest, cp.carry_counted_through, cp.carry_consecutive_at_counted
      FROM limit_period cp
     CROSS JOIN LATERAL (SELECT d.attendance_date, d.day_code FROM reconciled.daily_attendance d
                          WHERE d.child_id = cp.child_id AND d.attendance_date BETWEEN cp.period_start AND cp.period_end
                            AND d.period_start = cp.period_start AND d.day_code IN ('PR', 'AB')) d
     WHERE cp.complete AND NOT cp.newest
    UNION ALL
    SELECT child_id COLLATE "C", period_start, period_start, period_end, anchor, recount_from, previous_year_from,
           next_year_from, false, false, carry_period_start, carry_period_end, carry_year_start, carry_absences,
           carry_consecutive, carry_longest, carry_counted_through, carry_consecutive_at_counted
      FROM limit_period
     WHERE NOT complete
), counted_day AS (
    SELECT child_id, attendance_date, period_start, period_end, recount_from,
           CASE WHEN attendance_date >= next_year_from THEN ref.enrollment_year_start(anchor, attendance_date)
                WHEN attendance_date >= recount_from THEN recount_from
                WHEN attendance_date >= previous_year_from THEN previous_year_from
                ELSE ref.enrollment_year_start(anchor, attendance_date) END AS year_start,
           bool_and(absent) AS absent, bool_or(counted) AS counted,
           carry_period_start, carry_period_end, carry_year_start, carry_absences, carry_consecutive, carry_longest,
           carry_counted_through, carry_consecutive_at_counted
      FROM counted_row
     GROUP BY child_id, year_start, attendance_date, period_start, period_end, recount_from, carry_period_start,
              carry_period_end, carry_year_start, carry_absences, carry_consecutive, carry_longest,
              carry_counted_through, carry_consecutive_at_counted
), run_end AS (
    -- Of each run of days that are not absent within one period, year and counted-or-not, only the
    -- last is needed below: the run breaks a run of absences, adds nothing to the counts and the
    -- same to every window, and its last day is the one a period, a year or counted_through ends
    -- on. The rest (most present days) are dropped before the windows.
    SELECT c.*, lead(c.absent) OVER w IS DISTINCT FROM false
                OR lead(c.period_start) OVER w <> c.period_start OR lead(c.year_start) OVER w <> c.year_start
                OR lead(c.counted) OVER w <> c.counted AS kept
      FROM counted_day c
    WINDOW w AS (PARTITION BY c.child_id ORDER BY c.year_start, c.attendance_date)
), running AS (
    SELECT c.*,
           count(*) FILTER (WHERE c.absent) OVER w AS absences_so_far,
           lag(c.period_start, 1, c.carry_period_start) OVER w AS previous_period_start,
           lag(c.period_end, 1, c.carry_period_end) OVER w AS previous_period_end,
           lag(c.year_start, 1, c.carry_year_start) OVER w AS previous_day_year_start
      FROM run_end c
     WHERE c.absent OR c.kept
    WINDOW w AS (PARTITION BY c.child_id ORDER BY c.year_start, c.attendance_date ROWS UNBOUNDED PRECEDING)
), started AS (
    -- No break since the first day (only possible after a state): the state's count goes on.
    SELECT r.*,
           coalesce(r.absences_so_far
                    - max(CASE WHEN r.previous_day_year_start IS DISTINCT FROM r.year_start
                               THEN r.absences_so_far - r.absent::int END) OVER w,
                    r.carry_absences + r.absences_so_far) AS absences_in_year,
           coalesce(r.absences_so_far
                    - max(CASE WHEN r.previous_period_start IS NULL OR NOT r.absent
                                 OR (r.previous_period_start = r.period_start
                                     OR r.previous_period_end + 1 = r.period_start) IS NOT TRUE
                               THEN r.absences_so_far - r.absent::int END) OVER w,
                    r.carry_consecutive + r.absences_so_far) AS consecutive
      FROM running r
    WINDOW w AS (PARTITION BY r.child_id ORDER BY r.year_start, r.attendance_date ROWS UNBOUNDED PRECEDING)
), measured AS (
    -- Years only grow with the day: weighting each day's value by its year makes the running
    -- maximum that of the current year (and the state's, in the state's year). Weighting by the
    -- day, the running maximum over counted days is the last counted day and its run.
    SELECT s.*,
           greatest(max((s.year_start - date '2000-01-01')::bigint * 1000000 + s.consecutive) OVER w
                    - (s.year_start - date '2000-01-01')::bigint * 1000000,
                    CASE WHEN s.year_start = s.carry_year_start THEN s.carry_longest END) AS longest_in_year,
           max(s.attendance_date) FILTER (WHERE s.counted) OVER (PARTITION BY s.child_id, s.year_start)
               AS year_counted_through,
           max((s.attendance_date - date '2000-01-01')::bigint * 1000000 + s.consecutive)
               FILTER (WHERE s.counted) OVER w AS last_counted,
           lead(s.period_start) OVER w IS DISTINCT FROM s.period_start AS last_of_period
      FROM started s
    WINDOW w AS (PARTITION BY s.child_id ORDER BY s.year_start, s.attendance_date ROWS UNBOUNDED PRECEDING)
), kept AS (
    SELECT m.*, date '2000-01-01' + (m.last_counted / 1000000)::int AS last_counted_on
      FROM measured m
     WHERE m.attendance_date = m.year_counted_through
        OR m.last_of_period
        OR (m.absent AND (m.absences_in_year = ANY (%(absence_thresholds)s::int[])
                          OR m.consecutive = %(consecutive_limit)s))
)
SELECT child_id COLLATE "default" AS child_id, attendance_date, period_start, period_end, absent, year_start,
       recount_from, absences_in_year, consecutive, longest_in_year,
       attendance_date = year_counted_through AS last_counted_of_year, last_of_period,
       CASE WHEN last_counted_on >= year_start THEN last_counted_on
            WHEN year_start = carry_year_start THEN carry_counted_through END AS counted_through,
       CASE WHEN last_counted_on >= year_start THEN (last_counted %% 1000000)::int
            WHEN year_start = carry_year_start THEN carry_consecutive_at_counted END AS consecutive_at_counted
  FROM kept;
SET LOCAL enable_hashagg TO DEFAULT;

-- The state at the end of each child-period counted: that of its last day, else (a period with no
-- day counted or passed over) that of the period before, else the state counted from.
CREATE TEMP TABLE limit_state ON COMMIT DROP AS
WITH own AS (
    SELECT child_id, period_start, period_start AS last_period_start, period_end AS last_period_end, year_start,
           absences_in_year, consecutive, longest_in_year, counted_through, consecutive_at_counted
      FROM limit_count
     WHERE last_of_period
), gap_child AS (
    -- Children with a period counted and no day of its own in it (rare): their states are carried
    -- over in order below. Every other child-period's state is its own last day's.
    SELECT DISTINCT p.child_id
      FROM limit_period p
     WHERE NOT EXISTS (SELECT 1 FROM own o WHERE o.child_id = p.child_id AND o.period_start = p.period_start)
), sequence AS (
    SELECT o.child_id, o.period_start, false AS is_period, o.last_period_start, o.last_period_end, o.year_start,
           o.absences_in_year, o.consecutive, o.longest_in_year, o.counted_through, o.consecutive_at_counted
      FROM own o
      JOIN gap_child g ON g.child_id = o.child_id
    UNION ALL
    SELECT p.child_id, p.period_start, true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
      FROM limit_period p
      JOIN gap_child g ON g.child_id = p.child_id
), grouped AS (
    SELECT s.*, count(s.last_period_start) OVER (PARTITION BY s.child_id ORDER BY s.period_start, s.is_period)
                    AS day_group
      FROM sequence s
), carried AS (
    SELECT g.child_id, g.period_start, g.is_period, g.day_group,
           first_value(g.last_period_start) OVER d AS last_period_start,
           first_value(g.last_period_end) OVER d AS last_period_end,
           first_value(g.year_start) OVER d AS year_start,
           first_value(g.absences_in_year) OVER d AS absences_in_year,
           first_value(g.consecutive) OVER d AS consecutive,
           first_value(g.longest_in_year) OVER d AS longest_in_year,
           first_value(g.counted_through) OVER d AS counted_through,
           first_value(g.consecutive_at_counted) OVER d AS consecutive_at_counted
      FROM grouped g
    WINDOW d AS (PARTITION BY g.child_id, g.day_group ORDER BY g.period_start, g.is_period)
)
SELECT o.child_id, o.period_start, l.anchor, l.recount_from, o.last_period_start, o.last_period_end, o.year_start,
       o.absences_in_year, o.consecutive, o.longest_in_year, o.counted_through, o.consecutive_at_counted
  FROM own o
  JOIN limit_child l ON l.child_id = o.child_id
 WHERE NOT EXISTS (SELECT 1 FROM gap_child g WHERE g.child_id = o.child_id)
UNION ALL
SELECT c.child_id, c.period_start, l.anchor, l.recount_from,
       CASE WHEN c.day_group > 0 THEN c.last_period_start ELSE l.carry_period_start END,
       CASE WHEN c.day_group > 0 THEN c.last_period_end ELSE l.carry_period_end END,
       CASE WHEN c.day_group > 0 THEN c.year_start ELSE l.carry_year_start END,
       CASE WHEN c.day_group > 0 THEN c.absences_in_year ELSE coalesce(l.carry_absences, 0) END,
       CASE WHEN c.day_group > 0 THEN c.consecutive ELSE coalesce(l.carry_consecutive, 0) END,
       CASE WHEN c.day_group > 0 THEN c.longest_in_year ELSE coalesce(l.carry_longest, 0) END,
       CASE WHEN c.day_group > 0 THEN c.counted_through ELSE l.carry_counted_through END,
       CASE WHEN c.day_group > 0 THEN c.consecutive_at_counted ELSE l.carry_consecutive_at_counted END
  FROM carried c
  JOIN limit_child l ON l.child_id = c.child_id
 WHERE c.is_period;

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

-- Notices before notices_from (the days before `period_start` when counted from a state) stand:
-- the state is the count that found them.
UPDATE reconciled.absence_limit_notice n
   SET withdrawn_at = now(), withdrawn_by_run = %(run_id)s
  FROM limit_child l
 WHERE n.child_id = l.child_id
   AND n.withdrawn_at IS NULL
   AND n.crossed_on >= l.notices_from
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
-- that was not counted (a provisional or incomplete period). Counted from a state in the year of
-- `period_start` with no counted day since, that year's tally is the state's.
INSERT INTO reconciled.absence_tally
       (child_id, enrollment_year_start, absences, consecutive_absences, longest_consecutive, counted_through,
        computed_by_run)
SELECT c.child_id, c.year_start, c.absences_in_year, c.consecutive, c.longest_in_year, c.attendance_date, %(run_id)s
  FROM limit_count c
 WHERE c.last_counted_of_year AND c.year_start >= c.recount_from
UNION ALL
SELECT l.child_id, l.carry_year_start, l.carry_absences, l.carry_consecutive_at_counted, l.carry_longest,
       l.carry_counted_through, %(run_id)s
  FROM limit_child l
 WHERE l.carry_year_start >= l.recount_from AND l.carry_counted_through IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM limit_count c
                    WHERE c.child_id = l.child_id AND c.year_start = l.carry_year_start AND c.last_counted_of_year);

-- The states from each child's count_from on (bounded by the earliest: a range of the key).
DELETE FROM reconciled.absence_limit_state s
 USING limit_child l
 WHERE s.child_id = l.child_id AND s.period_start >= l.count_from
   AND s.period_start >= (SELECT min(count_from) FROM limit_child);

INSERT INTO reconciled.absence_limit_state
       (child_id, period_start, anchor, recount_from, last_period_start, last_period_end, year_start,
        absences_in_year, consecutive, longest_in_year, counted_through, consecutive_at_counted, computed_by_run)
SELECT child_id, period_start, anchor, recount_from, last_period_start, last_period_end, year_start,
       absences_in_year, consecutive, longest_in_year, counted_through, consecutive_at_counted, %(run_id)s
  FROM limit_state;
