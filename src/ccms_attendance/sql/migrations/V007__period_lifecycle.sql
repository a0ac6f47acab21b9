-- The period lifecycle (ccms_attendance.rules.lifecycle): open -> provisional -> final, and the
-- `pending` child-days of data that is not final yet. No absence comes from data that is not final.

-- When providers must have submitted each period (submission_days after its end, or the calendar
-- file's override). The plan records it with the period, and may correct it when configuration changes.
ALTER TABLE ref.service_period ADD COLUMN submission_deadline date;
UPDATE ref.service_period SET submission_deadline = period_end + 14;
ALTER TABLE ref.service_period
    ALTER COLUMN submission_deadline SET NOT NULL,
    ADD CONSTRAINT service_period_deadline_not_before_end CHECK (submission_deadline >= period_end);
GRANT UPDATE (submission_deadline) ON ref.service_period TO ccms_writer;

-- What each source said about how final its data for a site-period is: PPP, the portal's period
-- submission; a CCMS, the vendor's submission marker (submitted, or complete through a day).
ALTER TABLE staging.site_extract
    ADD COLUMN submitted    boolean NOT NULL DEFAULT false,
    ADD COLUMN submitted_at timestamptz,
    ADD COLUMN data_through date;

-- The instant a run judges "now" by, taken once when it plans, so all its tasks agree.
ALTER TABLE reconciled.run_audit ADD COLUMN as_of timestamptz;

-- Pending child-days: after a site-period's final-through day, or of a site whose data is
-- unavailable. No status, no day code; `basis` says why.
ALTER TABLE reconciled.daily_attendance
    DROP CONSTRAINT daily_status_valid,
    DROP CONSTRAINT daily_basis_valid,
    DROP CONSTRAINT daily_day_code_matches_status;
ALTER TABLE staging.daily_attendance
    DROP CONSTRAINT daily_status_valid,
    DROP CONSTRAINT daily_basis_valid,
    DROP CONSTRAINT daily_day_code_matches_status;
ALTER TABLE history.daily_attendance
    DROP CONSTRAINT daily_status_valid,
    DROP CONSTRAINT daily_basis_valid;
ALTER TABLE reconciled.daily_attendance
    ADD CONSTRAINT daily_status_valid CHECK (status IN ('present', 'absent', 'off_day', 'closed', 'pending')),
    ADD CONSTRAINT daily_basis_valid CHECK (basis IN ('recorded', 'no_absence_entry', 'no_check_in',
        'unscheduled_day', 'site_closure', 'not_submitted', 'after_data_through', 'data_unavailable')),
    ADD CONSTRAINT daily_day_code_matches_status CHECK (
        (status = 'present' AND day_code = 'PR') OR (status = 'absent' AND day_code = 'AB')
        OR (status = 'off_day' AND day_code = 'OD') OR (status = 'closed' AND day_code IN ('PC', 'NP'))
        OR (status = 'pending' AND day_code IS NULL
            AND basis IN ('not_submitted', 'after_data_through', 'data_unavailable'))
    );
ALTER TABLE staging.daily_attendance
    ADD CONSTRAINT daily_status_valid CHECK (status IN ('present', 'absent', 'off_day', 'closed', 'pending')),
    ADD CONSTRAINT daily_basis_valid CHECK (basis IN ('recorded', 'no_absence_entry', 'no_check_in',
        'unscheduled_day', 'site_closure', 'not_submitted', 'after_data_through', 'data_unavailable')),
    ADD CONSTRAINT daily_day_code_matches_status CHECK (
        (status = 'present' AND day_code = 'PR') OR (status = 'absent' AND day_code = 'AB')
        OR (status = 'off_day' AND day_code = 'OD') OR (status = 'closed' AND day_code IN ('PC', 'NP'))
        OR (status = 'pending' AND day_code IS NULL
            AND basis IN ('not_submitted', 'after_data_through', 'data_unavailable'))
    );
ALTER TABLE history.daily_attendance
    ADD CONSTRAINT daily_status_valid CHECK (status IN ('present', 'absent', 'off_day', 'closed', 'pending')),
    ADD CONSTRAINT daily_basis_valid CHECK (basis IN ('recorded', 'no_absence_entry', 'no_check_in',
        'unscheduled_day', 'site_closure', 'not_submitted', 'after_data_through', 'data_unavailable'));

-- Per site-period: its lifecycle, why it is incomplete (kind), when it was submitted, the last day
-- whose data is final, and how many child-days are pending. Rows loaded before this migration
-- are final when their period's deadline has passed.
ALTER TABLE reconciled.site_period
    ADD COLUMN lifecycle       text NOT NULL DEFAULT 'provisional',
    ADD COLUMN incomplete_kind text,
    ADD COLUMN submitted_at    timestamptz,
    ADD COLUMN final_through   date,
    ADD COLUMN pending_days    integer NOT NULL DEFAULT 0;
UPDATE reconciled.site_period
   SET lifecycle = CASE WHEN period_start IN (SELECT period_start FROM ref.service_period
                                               WHERE submission_deadline < current_date)
                        THEN 'final' ELSE 'provisional' END,
       incomplete_kind = CASE WHEN complete THEN NULL
                              WHEN incomplete_reason LIKE 'period not yet submitted%' THEN 'not_submitted'
                              ELSE 'data_unavailable' END;
ALTER TABLE reconciled.site_period
    ALTER COLUMN lifecycle DROP DEFAULT,
    ADD CONSTRAINT site_period_lifecycle_valid CHECK (lifecycle IN ('provisional', 'final')),
    ADD CONSTRAINT site_period_incomplete_kind_valid
        CHECK (incomplete_kind IN ('not_submitted', 'after_data_through', 'data_unavailable')),
    ADD CONSTRAINT site_period_kind_when_incomplete CHECK (complete = (incomplete_kind IS NULL));
ALTER TABLE staging.site_period
    ADD COLUMN lifecycle       text NOT NULL DEFAULT 'provisional',
    ADD COLUMN incomplete_kind text,
    ADD COLUMN submitted_at    timestamptz,
    ADD COLUMN final_through   date,
    ADD COLUMN pending_days    integer NOT NULL DEFAULT 0;
ALTER TABLE staging.site_period ALTER COLUMN lifecycle DROP DEFAULT;

-- Per child-period: pending days, and the lifecycle of its site-period (the absence limits count
-- only final, complete child-periods).
ALTER TABLE reconciled.absence_summary
    ADD COLUMN pending_days integer NOT NULL DEFAULT 0,
    ADD COLUMN lifecycle    text NOT NULL DEFAULT 'provisional';
UPDATE reconciled.absence_summary
   SET lifecycle = 'final'
 WHERE period_start IN (SELECT period_start FROM ref.service_period WHERE submission_deadline < current_date);
ALTER TABLE reconciled.absence_summary
    ALTER COLUMN lifecycle DROP DEFAULT,
    ADD CONSTRAINT summary_lifecycle_valid CHECK (lifecycle IN ('provisional', 'final'));
ALTER TABLE staging.absence_summary
    ADD COLUMN pending_days integer NOT NULL DEFAULT 0,
    ADD COLUMN lifecycle    text NOT NULL DEFAULT 'provisional';
ALTER TABLE staging.absence_summary ALTER COLUMN lifecycle DROP DEFAULT;
-- Versions replaced before this migration carry no lifecycle.
ALTER TABLE history.absence_summary
    ADD COLUMN pending_days integer NOT NULL DEFAULT 0,
    ADD COLUMN lifecycle    text;

-- Per period version: provisional or final when it was loaded.
ALTER TABLE reconciled.period_load ADD COLUMN lifecycle text NOT NULL DEFAULT 'provisional';
UPDATE reconciled.period_load
   SET lifecycle = 'final'
 WHERE period_start IN (SELECT period_start FROM ref.service_period WHERE submission_deadline < current_date);
ALTER TABLE reconciled.period_load
    ALTER COLUMN lifecycle DROP DEFAULT,
    ADD CONSTRAINT period_load_lifecycle_valid CHECK (lifecycle IN ('provisional', 'final'));
ALTER TABLE history.period_version ADD COLUMN lifecycle text;
