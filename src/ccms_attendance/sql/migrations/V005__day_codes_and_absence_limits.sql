-- The state's day codes on every enrolled child-day, and the absence limits it acts on.
--
-- Day codes (see ccms_attendance.rules.day_codes): PR present (not a state code: the state only
-- reports the other four), AB absent while open, OD off day (a part-time voucher's unscheduled
-- day), PC paid closure, NP non-paid closure.

-- Part-time vouchers name the weekdays the child is scheduled; their other open days are OD.
ALTER TABLE ref.voucher ADD COLUMN scheduled_weekdays smallint[];
ALTER TABLE ref.voucher
    ADD CONSTRAINT voucher_part_time_has_schedule CHECK (schedule = 'full_time' OR scheduled_weekdays IS NOT NULL),
    ADD CONSTRAINT voucher_scheduled_weekdays_valid
        CHECK (scheduled_weekdays IS NULL OR scheduled_weekdays <@ '{1,2,3,4,5,6,7}'::smallint[]);

-- The start of the child's eligibility: enrollment years run from its anniversaries. NULL means
-- the start of the child's first voucher.
ALTER TABLE ref.child ADD COLUMN eligibility_start date;

-- Closures reach the state through the portal or a CCMS integration; both land in this register.
ALTER TABLE ref.site_closure ADD COLUMN reported_via text NOT NULL DEFAULT 'PPP';
ALTER TABLE ref.site_closure
    ADD CONSTRAINT site_closure_reported_via_valid
        CHECK (reported_via IN ('PPP', 'ALLIANCE_CORE', 'BRIGHTWHEEL', 'PLAYGROUND'));
CREATE INDEX site_closure_date_idx ON ref.site_closure (closure_date, site_id);

-- Daily rows now cover closure days and off days too: status and day code must agree.
ALTER TABLE reconciled.daily_attendance DROP CONSTRAINT daily_status_valid;
ALTER TABLE reconciled.daily_attendance DROP CONSTRAINT daily_basis_valid;
ALTER TABLE staging.daily_attendance DROP CONSTRAINT daily_status_valid;
ALTER TABLE staging.daily_attendance DROP CONSTRAINT daily_basis_valid;
ALTER TABLE history.daily_attendance DROP CONSTRAINT daily_status_valid;
ALTER TABLE history.daily_attendance DROP CONSTRAINT daily_basis_valid;

ALTER TABLE reconciled.daily_attendance
    ADD CONSTRAINT daily_status_valid CHECK (status IN ('present', 'absent', 'off_day', 'closed')),
    ADD CONSTRAINT daily_basis_valid
        CHECK (basis IN ('recorded', 'no_absence_entry', 'no_check_in', 'unscheduled_day', 'site_closure')),
    ADD CONSTRAINT daily_day_code_matches_status CHECK (
        (status = 'present' AND day_code = 'PR') OR (status = 'absent' AND day_code = 'AB')
        OR (status = 'off_day' AND day_code = 'OD') OR (status = 'closed' AND day_code IN ('PC', 'NP'))
    );
ALTER TABLE staging.daily_attendance
    ADD CONSTRAINT daily_status_valid CHECK (status IN ('present', 'absent', 'off_day', 'closed')),
    ADD CONSTRAINT daily_basis_valid
        CHECK (basis IN ('recorded', 'no_absence_entry', 'no_check_in', 'unscheduled_day', 'site_closure')),
    ADD CONSTRAINT daily_day_code_matches_status CHECK (
        (status = 'present' AND day_code = 'PR') OR (status = 'absent' AND day_code = 'AB')
        OR (status = 'off_day' AND day_code = 'OD') OR (status = 'closed' AND day_code IN ('PC', 'NP'))
    );
-- History keeps versions loaded before this migration (day_code NULL then), so it only widens.
ALTER TABLE history.daily_attendance
    ADD CONSTRAINT daily_status_valid CHECK (status IN ('present', 'absent', 'off_day', 'closed')),
    ADD CONSTRAINT daily_basis_valid
        CHECK (basis IN ('recorded', 'no_absence_entry', 'no_check_in', 'unscheduled_day', 'site_closure'));

-- Per-child counts of the other codes, next to the absences.
ALTER TABLE reconciled.absence_summary
    ADD COLUMN off_days integer NOT NULL DEFAULT 0,
    ADD COLUMN paid_closure_days integer NOT NULL DEFAULT 0,
    ADD COLUMN unpaid_closure_days integer NOT NULL DEFAULT 0;
ALTER TABLE staging.absence_summary
    ADD COLUMN off_days integer NOT NULL DEFAULT 0,
    ADD COLUMN paid_closure_days integer NOT NULL DEFAULT 0,
    ADD COLUMN unpaid_closure_days integer NOT NULL DEFAULT 0;
ALTER TABLE history.absence_summary
    ADD COLUMN off_days integer NOT NULL DEFAULT 0,
    ADD COLUMN paid_closure_days integer NOT NULL DEFAULT 0,
    ADD COLUMN unpaid_closure_days integer NOT NULL DEFAULT 0;
-- history.absence_summary ends with its own two columns; keep the copied columns in table order
-- by listing them explicitly in load_period.sql.

-- The first day of the enrollment year that contains `day`, for a child whose eligibility began
-- on `anchor` (anniversaries; a 29 February anchor falls on 28 February in other years). One
-- expression without FROM, so the planner inlines it (it runs once per counted child-day);
-- date_part, not extract, whose numeric result is several times slower here.
CREATE FUNCTION ref.enrollment_year_start(anchor date, day date) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (anchor + make_interval(years => (date_part('year', day) - date_part('year', anchor))::int
                                            - CASE WHEN (anchor + make_interval(
                                                             years => (date_part('year', day)
                                                                       - date_part('year', anchor))::int))::date > day
                                                   THEN 1 ELSE 0 END))::date
$$;

-- Per child and enrollment year: what the state counts, from complete data only (an incomplete
-- site-period never adds to them). Recomputed for the children of a period whenever it loads.
CREATE TABLE reconciled.absence_tally (
    child_id              text NOT NULL,
    enrollment_year_start date NOT NULL,
    absences              integer NOT NULL,
    -- The run of consecutive absences that ends on the last counted day (0 if that day was not absent).
    consecutive_absences  integer NOT NULL,
    longest_consecutive   integer NOT NULL,
    counted_through       date NOT NULL,
    computed_by_run       text NOT NULL,
    PRIMARY KEY (child_id, enrollment_year_start),
    -- A run of consecutive absences can begin in the previous enrollment year, so it is not
    -- bounded by this year's absences.
    CONSTRAINT tally_counts_valid
        CHECK (absences >= 0 AND 0 <= consecutive_absences AND consecutive_absences <= longest_consecutive)
);

-- Every threshold crossing ever reported. A recomputation that no longer finds one withdraws it
-- (the row stays: what was reported before is kept); the current list is `withdrawn_at IS NULL`.
CREATE TABLE reconciled.absence_limit_notice (
    notice_id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    child_id              text NOT NULL,
    enrollment_year_start date NOT NULL,
    limit_kind            text NOT NULL,
    threshold             integer NOT NULL,
    crossed_on            date NOT NULL,
    period_start          date NOT NULL,
    action                text NOT NULL,
    voucher_ends_on       date,
    reported_by_run       text NOT NULL,
    reported_at           timestamptz NOT NULL,
    withdrawn_by_run      text,
    withdrawn_at          timestamptz,
    CONSTRAINT notice_kind_valid CHECK (limit_kind IN ('absences_in_enrollment_year', 'consecutive_absences')),
    CONSTRAINT notice_action_valid CHECK (action IN ('notice', 'voucher_ends', 'removal')),
    CONSTRAINT notice_withdrawn_together CHECK ((withdrawn_at IS NULL) = (withdrawn_by_run IS NULL)),
    CONSTRAINT notice_voucher_end_when_ending CHECK ((action = 'voucher_ends') = (voucher_ends_on IS NOT NULL))
);
CREATE UNIQUE INDEX absence_limit_notice_one_current
    ON reconciled.absence_limit_notice (child_id, limit_kind, threshold, crossed_on)
    WHERE withdrawn_at IS NULL;
CREATE INDEX absence_limit_notice_period_idx ON reconciled.absence_limit_notice (period_start, limit_kind);
