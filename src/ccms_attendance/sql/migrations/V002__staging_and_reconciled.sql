-- What the pipeline writes. `staging` holds one DAG run's intermediate rows (keyed by run_id, so
-- large data never goes through XCom); `reconciled` holds the current version of every loaded
-- period, replaced as a whole in one transaction.

CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS reconciled;

-- The governing source and eligibility facts of each site for a run's period (rules 1-5).
CREATE TABLE staging.site_plan (
    run_id           text NOT NULL,
    period_start     date NOT NULL,
    site_id          text NOT NULL,
    license_number   text NOT NULL,
    governing_source text NOT NULL,
    selected_method  text NOT NULL,
    -- Set when the plan already knows the site-period cannot be complete (e.g. unlinked license).
    incomplete_reason text,
    batch_no         integer NOT NULL,
    PRIMARY KEY (run_id, site_id)
);
CREATE INDEX site_plan_source_batch_idx ON staging.site_plan (run_id, governing_source, batch_no);

-- Canonical records that passed the voucher filter, from every source.
CREATE TABLE staging.source_record (
    record_no        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id           text NOT NULL,
    source           text NOT NULL,
    batch_no         integer NOT NULL,
    site_id          text NOT NULL,
    license_number   text NOT NULL,
    child_id         text NOT NULL,
    attendance_date  date NOT NULL,
    status           text NOT NULL,
    day_code         text,
    check_in         timestamptz,
    check_out        timestamptz,
    absence_reason   text,
    source_record_id text NOT NULL
);
CREATE INDEX source_record_run_idx ON staging.source_record (run_id, source, batch_no);

-- Per site and source: was the data actually retrieved? (Missing data must never read as absence.)
CREATE TABLE staging.site_extract (
    run_id              text NOT NULL,
    source              text NOT NULL,
    batch_no            integer NOT NULL,
    site_id             text NOT NULL,
    outcome             text NOT NULL,
    records             integer NOT NULL DEFAULT 0,
    dropped_non_voucher integer NOT NULL DEFAULT 0,
    rejected            integer NOT NULL DEFAULT 0,
    error               text,
    PRIMARY KEY (run_id, source, site_id),
    CONSTRAINT site_extract_outcome_valid CHECK (outcome IN ('retrieved', 'failed'))
);

-- Records that could not be used, with the reason; copied to reconciled.quarantine on load.
CREATE TABLE staging.quarantine (
    run_id           text NOT NULL,
    source           text NOT NULL,
    batch_no         integer NOT NULL,
    site_id          text,
    license_number   text,
    child_id         text,
    attendance_date  date,
    source_record_id text,
    reason           text NOT NULL
);
CREATE INDEX staging_quarantine_run_idx ON staging.quarantine (run_id, source, batch_no);

CREATE TABLE reconciled.daily_attendance (
    period_start     date NOT NULL,
    site_id          text NOT NULL,
    child_id         text NOT NULL,
    attendance_date  date NOT NULL,
    voucher_id       text NOT NULL,
    program          text NOT NULL,
    status           text NOT NULL,
    -- How the status was established: a source record said so, or a rule inferred it from the
    -- absence of a record (PPP: no absence entry = present; CCMS: no check-in = absent).
    basis            text NOT NULL,
    day_code         text,
    source           text NOT NULL,
    source_record_id text,
    check_in         timestamptz,
    check_out        timestamptz,
    run_id           text NOT NULL,
    PRIMARY KEY (site_id, child_id, attendance_date),
    CONSTRAINT daily_status_valid CHECK (status IN ('present', 'absent')),
    CONSTRAINT daily_basis_valid CHECK (basis IN ('recorded', 'no_absence_entry', 'no_check_in')),
    CONSTRAINT daily_recorded_has_reference CHECK (basis <> 'recorded' OR source_record_id IS NOT NULL),
    CONSTRAINT daily_source_valid CHECK (source IN ('PPP', 'ALLIANCE_CORE', 'BRIGHTWHEEL', 'PLAYGROUND')),
    CONSTRAINT daily_program_valid CHECK (program IN ('CCDF', 'OMW')),
    CONSTRAINT daily_date_in_period CHECK (attendance_date >= period_start)
);
CREATE INDEX daily_period_site_idx ON reconciled.daily_attendance (period_start, site_id);
CREATE INDEX daily_child_date_idx ON reconciled.daily_attendance (child_id, attendance_date);

CREATE TABLE reconciled.absence_summary (
    period_start   date NOT NULL,
    site_id        text NOT NULL,
    child_id       text NOT NULL,
    operating_days integer NOT NULL,
    enrolled_days  integer NOT NULL,
    absent_days    integer NOT NULL,
    absence_rate   numeric(5, 4),
    source         text NOT NULL,
    complete       boolean NOT NULL,
    run_id         text NOT NULL,
    PRIMARY KEY (period_start, site_id, child_id),
    CONSTRAINT summary_counts_consistent
        CHECK (0 <= absent_days AND absent_days <= enrolled_days AND enrolled_days <= operating_days)
);
CREATE INDEX summary_child_idx ON reconciled.absence_summary (child_id, period_start);

-- One row per site and period: which source governed it and whether its data is complete.
CREATE TABLE reconciled.site_period (
    period_start     date NOT NULL,
    site_id          text NOT NULL,
    governing_source text NOT NULL,
    selected_method  text NOT NULL,
    complete         boolean NOT NULL,
    incomplete_reason text,
    run_id           text NOT NULL,
    PRIMARY KEY (period_start, site_id),
    CONSTRAINT site_period_reason_when_incomplete CHECK (complete OR incomplete_reason IS NOT NULL)
);

CREATE TABLE reconciled.exception (
    exception_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period_start    date NOT NULL,
    run_id          text NOT NULL,
    kind            text NOT NULL,
    severity        text NOT NULL,
    site_id         text,
    child_id        text,
    attendance_date date,
    detail          text NOT NULL,
    CONSTRAINT exception_severity_valid CHECK (severity IN ('critical', 'warning', 'info'))
);
CREATE INDEX exception_period_kind_idx ON reconciled.exception (period_start, kind);

CREATE TABLE reconciled.quarantine (
    quarantine_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period_start     date NOT NULL,
    run_id           text NOT NULL,
    source           text NOT NULL,
    site_id          text,
    license_number   text,
    child_id         text,
    attendance_date  date,
    source_record_id text,
    reason           text NOT NULL
);
CREATE INDEX quarantine_period_idx ON reconciled.quarantine (period_start, source);

-- Every run of the pipeline, loaded or not: what it saw, what it produced, how long it took.
CREATE TABLE reconciled.run_audit (
    run_id       text PRIMARY KEY,
    dag_id       text NOT NULL,
    period_start date NOT NULL,
    status       text NOT NULL,
    -- Sites and sources the run was limited to by its Params (empty = the whole period).
    scope        jsonb NOT NULL DEFAULT '{}',
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    counts       jsonb NOT NULL DEFAULT '{}',
    checksums    jsonb NOT NULL DEFAULT '{}',
    timings      jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT run_audit_status_valid CHECK (status IN ('running', 'loaded', 'failed'))
);
CREATE INDEX run_audit_period_idx ON reconciled.run_audit (period_start, started_at);

-- Which run's version of each period is current.
CREATE TABLE reconciled.period_load (
    period_start date PRIMARY KEY REFERENCES ref.service_period,
    run_id       text NOT NULL REFERENCES reconciled.run_audit,
    loaded_at    timestamptz NOT NULL,
    checksum     text NOT NULL
);

-- A run's reconciled output waits here until the load step swaps it in as the period's version.
CREATE TABLE staging.daily_attendance (LIKE reconciled.daily_attendance INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE INDEX staging_daily_run_idx ON staging.daily_attendance (run_id);
CREATE TABLE staging.absence_summary (LIKE reconciled.absence_summary INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE INDEX staging_summary_run_idx ON staging.absence_summary (run_id);
CREATE TABLE staging.site_period (LIKE reconciled.site_period INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE INDEX staging_site_period_run_idx ON staging.site_period (run_id);
-- Exceptions raised by each step; `stage` names the task that owns them, so a retried task can
-- replace exactly its own rows.
CREATE TABLE staging.exception (
    period_start    date NOT NULL,
    run_id          text NOT NULL,
    stage           text NOT NULL,
    kind            text NOT NULL,
    severity        text NOT NULL,
    site_id         text,
    child_id        text,
    attendance_date date,
    detail          text NOT NULL
);
CREATE INDEX staging_exception_run_idx ON staging.exception (run_id, stage);
