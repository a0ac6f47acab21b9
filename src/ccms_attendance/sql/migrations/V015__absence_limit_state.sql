-- The absence-limit recount's running state per child at the end of each child-period it counted
-- (issue 20): loading a period starts from the state at the end of the child's previous period
-- instead of recounting the enrollment year from its start (refresh_absence_limits.sql, which alone
-- writes it). Derived data, like reconciled.absence_tally: rewritten from the recounted period on.
--
-- A state is the full recount's at that point for one anchor and one recount start: it is used only
-- by a recount with the same `anchor` (the enrollment years) and the same `recount_from` (the year
-- the recount starts in, whose look-back bounds where runs of absences begin); any other recount
-- counts from the year's start, as without states.
CREATE TABLE reconciled.absence_limit_state (
    child_id               text NOT NULL,
    period_start           date NOT NULL,
    anchor                 date NOT NULL,
    recount_from           date NOT NULL,
    -- The period of the last day counted or passed over so far (a later day breaks a run unless
    -- its period is that one or the next); NULL while none was.
    last_period_start      date,
    last_period_end        date,
    -- The enrollment year of that day, its absences so far, the run of absences ending on it and
    -- the year's longest run so far.
    year_start             date,
    absences_in_year       integer NOT NULL,
    consecutive            integer NOT NULL,
    longest_in_year        integer NOT NULL,
    -- The year's last counted day so far and the run of absences ending on it (the year's tally
    -- stands as of that day); NULL while the year has no counted day.
    counted_through        date,
    consecutive_at_counted integer,
    computed_by_run        text NOT NULL,
    -- By period first: a load's recount replaces the states from its period on (a range of the
    -- newest periods), and looks one up by period and child.
    PRIMARY KEY (period_start, child_id),
    CONSTRAINT state_counts_valid
        CHECK (absences_in_year >= 0 AND 0 <= consecutive AND consecutive <= longest_in_year),
    CONSTRAINT state_counted_together CHECK ((counted_through IS NULL) = (consecutive_at_counted IS NULL))
);

-- Recomputed per child like the tallies: the loader deletes and inserts (V010: reconciled tables
-- get SELECT, INSERT by default).
SELECT meta.ccms_grant('DELETE', 'reconciled.absence_limit_state', 'writer');
