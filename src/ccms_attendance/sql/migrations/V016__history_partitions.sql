-- Bounded history (issue 20): history.daily_attendance, history.absence_summary and
-- history.exception (the tables every rerun appends a period's replaced rows to) are partitioned by
-- LIST (period_start), one partition per period, so that a period's history is one table: a
-- period-scoped query reads only it, ANALYZE after a load reads only it, and an old period is
-- detached and archived as a whole (docs/operations.md, "Table bloat, VACUUM and ANALYZE").
-- history.period_version (one row per load) stays one table.
--
-- No default partition: a row of a period without its partition is an error, never a row parked
-- where a later partition could not be attached. The load adds the period's partitions before its
-- transaction (history.add_period_partitions, called by pipeline.load), in a short transaction of
-- its own: ATTACH PARTITION locks the parent SHARE UPDATE EXCLUSIVE, which readers and writers of
-- other periods do not wait for (CREATE TABLE ... PARTITION OF would lock it ACCESS EXCLUSIVE).
--
-- The loader holds no CREATE on any schema and does not own the tables (V010), so both things it
-- needs the owner for go through SECURITY DEFINER functions owned by the owner that runs this
-- migration, which only its writer role may execute: add_period_partitions (create and attach a
-- period's partitions, with the same grants as their parents: append-only for the writer) and
-- reconciled.analyze_after_load (ANALYZE the tables a load swapped rows in; PostgreSQL 15 lets only
-- a table's owner ANALYZE it).

-- A period's partition of a history table: '<table>_p<YYYYMMDD>' (the period's first day).
CREATE FUNCTION history.partition_name(parent text, for_period date) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    RETURN parent || '_p' || to_char(for_period::timestamp, 'YYYYMMDD');

CREATE FUNCTION history.add_period_partitions(for_period date) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    parent text;
    part   text;
    added  integer := 0;
BEGIN
    IF for_period IS NULL THEN
        RAISE EXCEPTION 'history.add_period_partitions needs a period start';
    END IF;
    -- One caller at a time, so that two loads of one period do not both create its partitions.
    PERFORM pg_advisory_xact_lock(hashtext('ccms-attendance history partitions'));
    FOREACH parent IN ARRAY ARRAY['daily_attendance', 'absence_summary', 'exception'] LOOP
        part := history.partition_name(parent, for_period);
        CONTINUE WHEN to_regclass(format('history.%I', part)) IS NOT NULL;
        EXECUTE format('CREATE TABLE history.%I (LIKE history.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                       part, parent);
        EXECUTE format('ALTER TABLE history.%I ATTACH PARTITION history.%I FOR VALUES IN (%L)',
                       parent, part, for_period);
        EXECUTE format('GRANT SELECT, INSERT ON history.%I TO %I', part, meta.ccms_role('writer'));
        EXECUTE format('GRANT SELECT ON history.%I TO %I', part, meta.ccms_role('reader'));
        added := added + 1;
    END LOOP;
    RETURN added;
END
$fn$;
COMMENT ON FUNCTION history.add_period_partitions(date) IS
    'Create and attach a period''s partitions of history.daily_attendance, absence_summary and exception '
    'if missing; returns how many it added (V016)';

-- After a load commits: fresh statistics for the tables whose rows it swapped, so that the next
-- period's plans see them (autovacuum's analyze may come much later, or never where it is off).
-- ANALYZE samples at most 300 x default_statistics_target rows of a table, so its cost does not
-- grow with the year; of history it reads only the period's partitions.
CREATE FUNCTION reconciled.analyze_after_load(for_period date) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    parent text;
    part   regclass;
BEGIN
    ANALYZE reconciled.daily_attendance, reconciled.absence_summary, reconciled.exception,
            reconciled.site_period, reconciled.quarantine;
    FOREACH parent IN ARRAY ARRAY['daily_attendance', 'absence_summary', 'exception'] LOOP
        part := to_regclass(format('history.%I', history.partition_name(parent, for_period)));
        IF part IS NOT NULL THEN
            EXECUTE format('ANALYZE %s', part);
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION reconciled.analyze_after_load(date) IS
    'ANALYZE the reconciled tables a load swaps rows in and the period''s history partitions (V016)';

REVOKE EXECUTE ON FUNCTION history.add_period_partitions(date), reconciled.analyze_after_load(date) FROM PUBLIC;
SELECT meta.ccms_grant('EXECUTE',
                       'FUNCTION history.add_period_partitions(date), reconciled.analyze_after_load(date)',
                       'writer');

-- The three tables again, partitioned, with their data, indexes and grants: same columns in the
-- same order (load_period.sql inserts `d.*` and the run), defaults, NOT NULLs and checks.
ALTER TABLE history.daily_attendance RENAME TO daily_attendance_v015;
ALTER TABLE history.absence_summary RENAME TO absence_summary_v015;
ALTER TABLE history.exception RENAME TO exception_v015;
ALTER INDEX history.history_daily_version_idx RENAME TO history_daily_version_idx_v015;
ALTER INDEX history.history_summary_version_idx RENAME TO history_summary_version_idx_v015;
ALTER INDEX history.history_exception_version_idx RENAME TO history_exception_version_idx_v015;

CREATE TABLE history.daily_attendance
    (LIKE history.daily_attendance_v015 INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY LIST (period_start);
CREATE TABLE history.absence_summary
    (LIKE history.absence_summary_v015 INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY LIST (period_start);
CREATE TABLE history.exception
    (LIKE history.exception_v015 INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY LIST (period_start);
CREATE INDEX history_daily_version_idx ON history.daily_attendance (period_start, run_id);
CREATE INDEX history_summary_version_idx ON history.absence_summary (period_start, run_id);
CREATE INDEX history_exception_version_idx ON history.exception (period_start, run_id);

-- V010's grants (also this schema's defaults): append-only for the writer, read for the reader.
SELECT meta.ccms_grant('SELECT, INSERT', 'history.daily_attendance, history.absence_summary, history.exception',
                       'writer');
SELECT meta.ccms_grant('SELECT', 'history.daily_attendance, history.absence_summary, history.exception', 'reader');

SELECT history.add_period_partitions(period_start)
  FROM (SELECT period_start FROM history.daily_attendance_v015
        UNION SELECT period_start FROM history.absence_summary_v015
        UNION SELECT period_start FROM history.exception_v015) AS periods
 ORDER BY period_start;

INSERT INTO history.daily_attendance SELECT * FROM history.daily_attendance_v015;
INSERT INTO history.absence_summary SELECT * FROM history.absence_summary_v015;
INSERT INTO history.exception SELECT * FROM history.exception_v015;

DROP TABLE history.daily_attendance_v015, history.absence_summary_v015, history.exception_v015;

-- Each load deletes one period's rows of these (about 1/26 of them by the end of a year); vacuum
-- them once 5 % are dead rather than PostgreSQL's default 20 %, so that autovacuum keeps their dead
-- rows to about one period's (docs/operations.md).
ALTER TABLE reconciled.daily_attendance SET (autovacuum_vacuum_scale_factor = 0.05);
ALTER TABLE reconciled.absence_summary SET (autovacuum_vacuum_scale_factor = 0.05);
ALTER TABLE reconciled.exception SET (autovacuum_vacuum_scale_factor = 0.05);
