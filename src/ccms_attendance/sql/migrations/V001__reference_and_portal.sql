-- The state's side of the world: reference data (I-LEAD) and the provider portal (PPP).
-- Calendar days are DATE values meaning a day in America/Indiana/Indianapolis; instants are
-- TIMESTAMPTZ.

CREATE SCHEMA IF NOT EXISTS ref;
CREATE SCHEMA IF NOT EXISTS portal;

CREATE TABLE ref.service_period (
    period_start date PRIMARY KEY,
    period_end   date NOT NULL,
    CONSTRAINT service_period_ordered CHECK (period_end >= period_start)
);

CREATE TABLE ref.provider (
    provider_id   text PRIMARY KEY,
    provider_name text NOT NULL
);

-- A provider site. The license number (hyphens included) is how CCMS data is matched to it.
CREATE TABLE ref.site (
    site_id            text PRIMARY KEY,
    provider_id        text NOT NULL REFERENCES ref.provider,
    site_name          text NOT NULL,
    license_number     text NOT NULL UNIQUE,
    -- ISO weekdays (1 = Monday .. 7 = Sunday) the site is normally open.
    operating_weekdays smallint[] NOT NULL DEFAULT '{1,2,3,4,5}',
    CONSTRAINT site_weekdays_valid CHECK (operating_weekdays <@ '{1,2,3,4,5,6,7}'::smallint[]),
    CONSTRAINT site_license_not_blank CHECK (btrim(license_number) <> '')
);
CREATE INDEX site_provider_idx ON ref.site (provider_id);

-- Whether a license number is linked to the program, as a history: a run uses the linkage in
-- force at its period's start, so a backfill sees the past, not today.
CREATE TABLE ref.license_link (
    license_number text NOT NULL,
    linked_from    timestamptz NOT NULL,
    linked_until   timestamptz,
    PRIMARY KEY (license_number, linked_from),
    CONSTRAINT license_link_ordered CHECK (linked_until IS NULL OR linked_until > linked_from)
);

-- Days a site is closed although it normally operates.
CREATE TABLE ref.site_closure (
    site_id      text NOT NULL REFERENCES ref.site,
    closure_date date NOT NULL,
    closure_kind text NOT NULL DEFAULT 'NP',
    reason       text,
    PRIMARY KEY (site_id, closure_date),
    CONSTRAINT site_closure_kind_valid CHECK (closure_kind IN ('PC', 'NP'))
);

-- Only children with a CCDF or On My Way Pre-K voucher exist on the state's side at all.
CREATE TABLE ref.child (
    child_id text PRIMARY KEY,
    CONSTRAINT child_id_not_blank CHECK (btrim(child_id) <> '')
);

CREATE TABLE ref.voucher (
    voucher_id       text PRIMARY KEY,
    child_id         text NOT NULL REFERENCES ref.child,
    site_id          text NOT NULL REFERENCES ref.site,
    program          text NOT NULL,
    schedule         text NOT NULL DEFAULT 'full_time',
    authorized_start date NOT NULL,
    authorized_end   date,
    CONSTRAINT voucher_program_valid CHECK (program IN ('CCDF', 'OMW')),
    CONSTRAINT voucher_schedule_valid CHECK (schedule IN ('full_time', 'part_time')),
    CONSTRAINT voucher_dates_ordered CHECK (authorized_end IS NULL OR authorized_end >= authorized_start)
);
CREATE INDEX voucher_site_dates_idx ON ref.voucher (site_id, authorized_start, authorized_end);
CREATE INDEX voucher_child_idx ON ref.voucher (child_id);

-- Data Entry Settings: every selection a site ever saved, never overwritten. The selection in
-- force for a period is the latest one chosen before the period's start with that start.
CREATE TABLE portal.data_entry_selection (
    selection_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id         text NOT NULL REFERENCES ref.site,
    method          text NOT NULL,
    effective_start date NOT NULL,
    chosen_at       timestamptz NOT NULL,
    chosen_by       text NOT NULL,
    CONSTRAINT selection_method_valid
        CHECK (method IN ('PPP', 'ALLIANCE_CORE', 'BRIGHTWHEEL', 'PLAYGROUND')),
    CONSTRAINT selection_once_per_instant UNIQUE (site_id, chosen_at)
);
CREATE INDEX selection_site_effective_idx ON portal.data_entry_selection (site_id, effective_start, chosen_at);

-- A site's submission of a period in the portal (rule: a CCMS only after the first one).
CREATE TABLE portal.period_submission (
    site_id      text NOT NULL REFERENCES ref.site,
    period_start date NOT NULL,
    submitted_at timestamptz NOT NULL,
    submitted_by text NOT NULL,
    PRIMARY KEY (site_id, period_start)
);

-- What providers typed by hand: one entry per child-day. Codes follow the state's day codes.
CREATE TABLE portal.manual_entry (
    entry_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id         text NOT NULL REFERENCES ref.site,
    child_id        text NOT NULL,
    attendance_date date NOT NULL,
    day_code        text NOT NULL DEFAULT 'AB',
    entered_at      timestamptz NOT NULL,
    entered_by      text NOT NULL,
    CONSTRAINT manual_entry_code_valid CHECK (day_code IN ('AB', 'OD', 'PC', 'NP')),
    CONSTRAINT manual_entry_one_per_child_day UNIQUE (site_id, child_id, attendance_date)
);
CREATE INDEX manual_entry_date_idx ON portal.manual_entry (attendance_date, site_id);
