-- One type per value list (issue 19): the lists that were copied as CHECK constraints across
-- staging, reconciled and history (and into ref/portal) become domains in schema meta, each column
-- holding such a value is of its domain, and the copied CHECKs go. A list is now written once in
-- SQL; tests/integration/test_value_domains.py fails when a Python list of the same values
-- (canonical.Source, rules.day_codes.DayCode, validation.suite_definitions, ...) disagrees.
--
-- Domains over text, not enums: a domain's values are its base type's, so hash_record_extended
-- (period_checksums.sql) hashes them exactly as before and every recorded period checksum stays
-- valid; an enum hashes its OID and would change them all. Values still compare, sort, COPY and
-- read back as text (clients see text: PostgreSQL describes a domain column by its base type).
--
-- Cross-column rules stay table constraints (daily_day_code_matches_status, ...), and so do lists
-- that only one table holds (voucher schedule, notice action, delivery letter, run status, ...).
-- A table copied in staging, reconciled and history gets the domain in every copy, also where
-- the copy had no CHECK (history had none for severity and lifecycle): its rows come from the
-- checked one. USAGE on a type is PUBLIC by default; writing a column of a domain needs nothing
-- more than the table privilege, so no grant changes.
--
-- The domains are created without their CHECKs, the columns retyped (binary-compatible: no table
-- rewrite), then each CHECK added, which validates every column of the domain once. The copied
-- CHECKs are dropped IF EXISTS: a migration before this one may have rebuilt a table (the history
-- tables) without them; test_value_domains.py checks that none is left under any name.

CREATE DOMAIN meta.attendance_source AS text;    -- a data-entry method (canonical.Source)
CREATE DOMAIN meta.reported_program AS text;     -- canonical.REPORTED_PROGRAMS
CREATE DOMAIN meta.attendance_status AS text;    -- a reconciled child-day's status
CREATE DOMAIN meta.attendance_basis AS text;     -- why a child-day has its status
CREATE DOMAIN meta.day_code AS text;             -- rules.day_codes.DayCode
CREATE DOMAIN meta.pending_basis AS text;        -- why a site-period is incomplete (rules.lifecycle.PendingBasis)
CREATE DOMAIN meta.period_lifecycle AS text;     -- a loaded lifecycle: never 'open' (rules.lifecycle.Lifecycle)
CREATE DOMAIN meta.severity AS text;             -- rules.exception_kinds.Severity

-- Views over retyped columns are dropped and made again below (V011's _current views, SELECT *):
-- a column a view reads cannot change type.
DROP VIEW portal.data_entry_selection_current, portal.manual_entry_current,
          ref.site_closure_current, ref.voucher_current;

-- The daily rows, in all three copies.
DO $daily$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['staging.daily_attendance', 'reconciled.daily_attendance', 'history.daily_attendance']
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS daily_source_valid,'
                       ' DROP CONSTRAINT IF EXISTS daily_program_valid,'
                       ' DROP CONSTRAINT IF EXISTS daily_status_valid,'
                       ' DROP CONSTRAINT IF EXISTS daily_basis_valid,'
                       ' ALTER COLUMN source TYPE meta.attendance_source,'
                       ' ALTER COLUMN program TYPE meta.reported_program,'
                       ' ALTER COLUMN status TYPE meta.attendance_status,'
                       ' ALTER COLUMN basis TYPE meta.attendance_basis,'
                       ' ALTER COLUMN day_code TYPE meta.day_code', t);
    END LOOP;
END
$daily$;

-- Lifecycles and incompleteness of site-periods and child-periods; the version history of loads.
ALTER TABLE reconciled.site_period
    DROP CONSTRAINT IF EXISTS site_period_lifecycle_valid,
    DROP CONSTRAINT IF EXISTS site_period_incomplete_kind_valid,
    ALTER COLUMN lifecycle TYPE meta.period_lifecycle,
    ALTER COLUMN incomplete_kind TYPE meta.pending_basis;
ALTER TABLE staging.site_period
    ALTER COLUMN lifecycle TYPE meta.period_lifecycle,
    ALTER COLUMN incomplete_kind TYPE meta.pending_basis;
ALTER TABLE reconciled.absence_summary
    DROP CONSTRAINT IF EXISTS summary_lifecycle_valid,
    ALTER COLUMN lifecycle TYPE meta.period_lifecycle;
ALTER TABLE staging.absence_summary ALTER COLUMN lifecycle TYPE meta.period_lifecycle;
ALTER TABLE history.absence_summary ALTER COLUMN lifecycle TYPE meta.period_lifecycle;
ALTER TABLE reconciled.period_load
    DROP CONSTRAINT IF EXISTS period_load_lifecycle_valid,
    ALTER COLUMN lifecycle TYPE meta.period_lifecycle;
ALTER TABLE history.period_version ALTER COLUMN lifecycle TYPE meta.period_lifecycle;

-- Exceptions, in all three copies.
ALTER TABLE reconciled.exception
    DROP CONSTRAINT IF EXISTS exception_severity_valid,
    ALTER COLUMN severity TYPE meta.severity;
ALTER TABLE staging.exception ALTER COLUMN severity TYPE meta.severity;
ALTER TABLE history.exception ALTER COLUMN severity TYPE meta.severity;

-- Reference and portal rows holding the same values. The portal's manual codes and a closure's
-- kind are day codes; which of them each table accepts stays its own constraint.
ALTER TABLE ref.voucher
    DROP CONSTRAINT IF EXISTS voucher_program_valid,
    ALTER COLUMN program TYPE meta.reported_program;
ALTER TABLE portal.data_entry_selection
    DROP CONSTRAINT IF EXISTS selection_method_valid,
    ALTER COLUMN method TYPE meta.attendance_source;
ALTER TABLE ref.site_closure
    DROP CONSTRAINT IF EXISTS site_closure_reported_via_valid,
    ALTER COLUMN reported_via TYPE meta.attendance_source,
    ALTER COLUMN closure_kind TYPE meta.day_code;  -- site_closure_kind_valid: PC or NP
ALTER TABLE portal.manual_entry
    DROP CONSTRAINT IF EXISTS manual_entry_code_valid,
    ALTER COLUMN day_code TYPE meta.day_code,
    -- a provider enters an absence, an off day or a closure; never "present"
    ADD CONSTRAINT manual_entry_code_valid CHECK (day_code <> 'PR');

-- The lists, once each.
ALTER DOMAIN meta.attendance_source ADD CONSTRAINT attendance_source_valid
    CHECK (VALUE IN ('PPP', 'ALLIANCE_CORE', 'BRIGHTWHEEL', 'PLAYGROUND'));
ALTER DOMAIN meta.reported_program ADD CONSTRAINT reported_program_valid
    CHECK (VALUE IN ('CCDF', 'OMW'));
ALTER DOMAIN meta.attendance_status ADD CONSTRAINT attendance_status_valid
    CHECK (VALUE IN ('present', 'absent', 'off_day', 'closed', 'pending'));
ALTER DOMAIN meta.attendance_basis ADD CONSTRAINT attendance_basis_valid
    CHECK (VALUE IN ('recorded', 'no_absence_entry', 'no_check_in', 'unscheduled_day', 'site_closure',
                     'not_submitted', 'after_data_through', 'data_unavailable'));
ALTER DOMAIN meta.day_code ADD CONSTRAINT day_code_valid
    CHECK (VALUE IN ('PR', 'AB', 'OD', 'PC', 'NP'));
ALTER DOMAIN meta.pending_basis ADD CONSTRAINT pending_basis_valid
    CHECK (VALUE IN ('not_submitted', 'after_data_through', 'data_unavailable'));
ALTER DOMAIN meta.period_lifecycle ADD CONSTRAINT period_lifecycle_valid
    CHECK (VALUE IN ('provisional', 'final'));
ALTER DOMAIN meta.severity ADD CONSTRAINT severity_valid
    CHECK (VALUE IN ('critical', 'warning', 'info'));

-- The views again, as V011 made them (made by the owner, they get V010's default privileges again).
DO $current$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['portal.data_entry_selection', 'portal.manual_entry', 'ref.site_closure', 'ref.voucher']
    LOOP
        EXECUTE format('CREATE VIEW %1$s_current AS SELECT * FROM %1$s WHERE superseded_at IS NULL', t);
    END LOOP;
END
$current$;
