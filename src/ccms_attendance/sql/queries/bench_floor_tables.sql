-- The benchmark floor's empty look-alike tables (same columns, defaults, constraints and indexes as
-- the tables the pipeline writes; identity columns become plain columns so COPY can carry their values).
DROP SCHEMA IF EXISTS bench_floor CASCADE;
CREATE SCHEMA bench_floor;
CREATE TABLE bench_floor.staging_source_record
    (LIKE staging.source_record INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE bench_floor.reconciled_daily_attendance
    (LIKE reconciled.daily_attendance INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE bench_floor.reconciled_absence_summary
    (LIKE reconciled.absence_summary INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE bench_floor.reconciled_exception
    (LIKE reconciled.exception INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE bench_floor.reconciled_site_period
    (LIKE reconciled.site_period INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
