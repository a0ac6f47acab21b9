-- History on every reference (ref.*) and portal (portal.*) row: nothing is overwritten any more.
-- The model in full: docs/history.md. In short:
--
-- Recorded time (when the warehouse knew a fact), on every row:
--   recorded_at    the instant the row was written (default now(); rows that existed before this
--                  migration: 1970-01-01 00:00 UTC, "known since always": their earlier versions are
--                  lost, and every run before this migration saw them as they are);
--   superseded_at  the instant a later write replaced or withdrew it (NULL: still current).
--   A row is known at instant T when recorded_at <= T AND (superseded_at IS NULL OR superseded_at > T).
--
-- Valid time (when a fact holds in the world), where the fact has one:
--   ref.site, ref.voucher   valid_from (date, inclusive; default 1970-01-01 = always) and
--                           valid_until (date, exclusive; NULL = open): the days a version of the
--                           site's attributes (license number, operating weekdays, name, provider) or
--                           of the voucher's attributes (schedule, scheduled weekdays, program, site,
--                           authorized_start/authorized_end) applies. A voucher's authorization is
--                           still [authorized_start, authorized_end]; a day counts when it is inside
--                           both ranges.
--   ref.license_link        linked_from / linked_until (instants), as before.
--   ref.site_closure        closure_date; portal.manual_entry attendance_date; portal.period_submission
--                           period_start; portal.data_entry_selection effective_start (as before).
--
-- How a writer records a change (one transaction, one recorded_at instant for the whole change;
-- ccms_attendance.warehouse.reference_history.apply_entity_rows does exactly this):
--   * an entity's key (the natural key below) is given with ALL its current valid-time versions;
--   * a current row (superseded_at IS NULL) whose version is given unchanged stays as it is;
--   * a current row whose version is given with other values gets superseded_at = T, and the new
--     values are inserted with recorded_at = T;
--   * a current row whose version is no longer given (or whose key is withdrawn) gets
--     superseded_at = T and no successor;
--   * a new version is inserted with recorded_at = T.
--   Applying the same rows again changes nothing. Never UPDATE anything but superseded_at (from NULL),
--   never DELETE.
--
-- Keys (natural key, then the valid-time column that tells versions apart, then recorded_at):
--   ref.provider (provider_id, recorded_at)                ref.child (child_id, recorded_at)
--   ref.site (site_id, valid_from, recorded_at)            ref.voucher (voucher_id, valid_from, recorded_at)
--   ref.license_link (license_number, linked_from, recorded_at)
--   ref.site_closure (site_id, closure_date, recorded_at)
--   portal.period_submission (site_id, period_start, recorded_at)
--   portal.data_entry_selection (site_id, chosen_at, recorded_at), selection_id its surrogate
--   portal.manual_entry (site_id, child_id, attendance_date) with one current row, entry_id its
--     surrogate: a provider's correction is a new row (its own entered_at), the old one superseded.
-- A partial unique index per table allows one current row per (natural key, valid-time column).
--
-- Foreign keys to ref.site/ref.child/ref.provider are dropped: their keys are no longer unique.
-- The reference sync checks that every site/child/provider a row names exists.
--
-- ref.service_period is not part of this: it is the pipeline's own record of the calendar it ran.

-- Foreign keys on keys that stop being unique.
ALTER TABLE ref.site DROP CONSTRAINT site_provider_id_fkey;
ALTER TABLE ref.site_closure DROP CONSTRAINT site_closure_site_id_fkey;
ALTER TABLE ref.voucher DROP CONSTRAINT voucher_child_id_fkey, DROP CONSTRAINT voucher_site_id_fkey;
ALTER TABLE portal.data_entry_selection DROP CONSTRAINT data_entry_selection_site_id_fkey;
ALTER TABLE portal.period_submission DROP CONSTRAINT period_submission_site_id_fkey;
ALTER TABLE portal.manual_entry DROP CONSTRAINT manual_entry_site_id_fkey;
-- Two versions of a site carry the same license number.
ALTER TABLE ref.site DROP CONSTRAINT site_license_number_key;

-- Recorded time everywhere: existing rows are known since the epoch, new ones from when written.
DO $recorded$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['ref.provider', 'ref.site', 'ref.license_link', 'ref.site_closure', 'ref.child',
                             'ref.voucher', 'portal.data_entry_selection', 'portal.period_submission',
                             'portal.manual_entry']
    LOOP
        EXECUTE format('ALTER TABLE %s ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT %L,'
                       ' ADD COLUMN superseded_at timestamptz', t, '1970-01-01 00:00:00+00');
        EXECUTE format('ALTER TABLE %s ALTER COLUMN recorded_at SET DEFAULT now()', t);
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %s CHECK (superseded_at IS NULL OR superseded_at > recorded_at)',
                       t, split_part(t, '.', 2) || '_superseded_after_recorded');
    END LOOP;
END
$recorded$;

-- Valid time of site and voucher attributes.
ALTER TABLE ref.site
    ADD COLUMN valid_from date NOT NULL DEFAULT '1970-01-01',
    ADD COLUMN valid_until date,
    ADD CONSTRAINT site_valid_ordered CHECK (valid_until IS NULL OR valid_until > valid_from);
ALTER TABLE ref.voucher
    ADD COLUMN valid_from date NOT NULL DEFAULT '1970-01-01',
    ADD COLUMN valid_until date,
    ADD CONSTRAINT voucher_valid_ordered CHECK (valid_until IS NULL OR valid_until > valid_from);

-- Keys: (natural key, valid time, recorded_at); one current row per (natural key, valid time).
ALTER TABLE ref.provider DROP CONSTRAINT provider_pkey, ADD PRIMARY KEY (provider_id, recorded_at);
CREATE UNIQUE INDEX provider_one_current ON ref.provider (provider_id) WHERE superseded_at IS NULL;

ALTER TABLE ref.site DROP CONSTRAINT site_pkey, ADD PRIMARY KEY (site_id, valid_from, recorded_at);
CREATE UNIQUE INDEX site_one_current ON ref.site (site_id, valid_from) WHERE superseded_at IS NULL;
CREATE INDEX site_license_idx ON ref.site (license_number);

ALTER TABLE ref.license_link DROP CONSTRAINT license_link_pkey,
    ADD PRIMARY KEY (license_number, linked_from, recorded_at);
CREATE UNIQUE INDEX license_link_one_current ON ref.license_link (license_number, linked_from)
    WHERE superseded_at IS NULL;

ALTER TABLE ref.site_closure DROP CONSTRAINT site_closure_pkey,
    ADD PRIMARY KEY (site_id, closure_date, recorded_at);
CREATE UNIQUE INDEX site_closure_one_current ON ref.site_closure (site_id, closure_date) WHERE superseded_at IS NULL;

ALTER TABLE ref.child DROP CONSTRAINT child_pkey, ADD PRIMARY KEY (child_id, recorded_at);
CREATE UNIQUE INDEX child_one_current ON ref.child (child_id) WHERE superseded_at IS NULL;

ALTER TABLE ref.voucher DROP CONSTRAINT voucher_pkey, ADD PRIMARY KEY (voucher_id, valid_from, recorded_at);
CREATE UNIQUE INDEX voucher_one_current ON ref.voucher (voucher_id, valid_from) WHERE superseded_at IS NULL;

ALTER TABLE portal.data_entry_selection DROP CONSTRAINT selection_once_per_instant,
    ADD CONSTRAINT selection_once_per_instant UNIQUE (site_id, chosen_at, recorded_at);
CREATE UNIQUE INDEX data_entry_selection_one_current ON portal.data_entry_selection (site_id, chosen_at)
    WHERE superseded_at IS NULL;

ALTER TABLE portal.period_submission DROP CONSTRAINT period_submission_pkey,
    ADD PRIMARY KEY (site_id, period_start, recorded_at);
CREATE UNIQUE INDEX period_submission_one_current ON portal.period_submission (site_id, period_start)
    WHERE superseded_at IS NULL;

ALTER TABLE portal.manual_entry DROP CONSTRAINT manual_entry_one_per_child_day,
    ADD CONSTRAINT manual_entry_version_unique UNIQUE (site_id, child_id, attendance_date, recorded_at);
CREATE UNIQUE INDEX manual_entry_one_current ON portal.manual_entry (site_id, child_id, attendance_date)
    WHERE superseded_at IS NULL;

-- What the warehouse knew at an instant: one function per table, inlined by the planner (a single
-- STABLE SQL SELECT). The pipeline reads ref/portal only through these, at its run's as_known_at.
DO $known$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['ref.provider', 'ref.site', 'ref.license_link', 'ref.site_closure', 'ref.child',
                             'ref.voucher', 'portal.data_entry_selection', 'portal.period_submission',
                             'portal.manual_entry']
    LOOP
        EXECUTE format(
            'CREATE FUNCTION %1$s_known(at timestamptz) RETURNS SETOF %1$s LANGUAGE sql STABLE AS '
            '$f$ SELECT * FROM %1$s WHERE recorded_at <= at AND (superseded_at IS NULL OR superseded_at > at) $f$',
            t);
        -- Readers of the current state (reports, people): superseded_at IS NULL.
        EXECUTE format('CREATE VIEW %1$s_current AS SELECT * FROM %1$s WHERE superseded_at IS NULL', t);
    END LOOP;
END
$known$;

-- Valid time for a period's days [first_day, last_day], as known at `at`:
-- the site version a period uses: of its versions valid on some day of the period, the one valid on
-- the earliest such day (the period start for a site known since before it; a site onboarded
-- mid-period from its first day). One set of site attributes per site-period.
CREATE FUNCTION ref.site_for_period(at timestamptz, first_day date, last_day date) RETURNS SETOF ref.site
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (site_id) *
      FROM ref.site_known(at)
     WHERE valid_from <= last_day AND (valid_until IS NULL OR valid_until > first_day)
     ORDER BY site_id, valid_from
$$;

-- Voucher versions covering some day of the period, each with its authorization clipped to the
-- version's valid days: a schedule changed from the 1st is two non-overlapping pieces of one voucher.
CREATE FUNCTION ref.voucher_for_period(at timestamptz, first_day date, last_day date)
RETURNS TABLE (voucher_id text, child_id text, site_id text, program text, schedule text,
               scheduled_weekdays smallint[], authorized_start date, authorized_end date)
LANGUAGE sql STABLE AS $$
    SELECT voucher_id, child_id, site_id, program, schedule, scheduled_weekdays, piece_start, piece_end
      FROM (SELECT v.*, greatest(v.authorized_start, v.valid_from) AS piece_start,
                   least(v.authorized_end, v.valid_until - 1) AS piece_end
              FROM ref.voucher_known(at) v) p
     WHERE piece_start <= last_day
       AND (piece_end IS NULL OR (piece_end >= first_day AND piece_end >= piece_start))
$$;

-- One row per site for display: the current version valid today (else the latest valid one).
CREATE VIEW ref.site_latest AS
SELECT DISTINCT ON (site_id) *
  FROM ref.site
 WHERE superseded_at IS NULL
 ORDER BY site_id, (valid_from <= current_date AND (valid_until IS NULL OR valid_until > current_date)) DESC,
          valid_from DESC;

-- The instant a run reads ref/portal as known at (Param as_known_at; default the instant it planned),
-- and, per planned site, the instant from which its portal entries are ignored because the site
-- connected a CCMS (NULL: never, as known to the run).
ALTER TABLE reconciled.run_audit ADD COLUMN as_known_at timestamptz;
ALTER TABLE staging.site_plan ADD COLUMN portal_read_only_from timestamptz;

-- V010 grants the writer UPDATE of run_audit column by column: plan records as_known_at again
-- when a run is planned again.
SELECT meta.ccms_grant('UPDATE (as_known_at)', 'reconciled.run_audit', 'writer');
