-- Least privilege, per database (issue 17): V006's roles were server-wide, so one ccms_loader login
-- wrote to every ccms database of a server, and it could rewrite history. From here on each
-- database has roles of its own, named after it by meta.ccms_role (the same rule as
-- ccms_attendance.warehouse.target.role_name), and each holds exactly what the code does:
--
--   <db>_writer  (NOLOGIN)  the pipeline: reads ref, portal, staging, reconciled, history;
--                           staging: INSERT, DELETE (a run's scratch rows), UPDATE of site_extract
--                           (outcome, error) only; reconciled current-version tables: INSERT,
--                           DELETE (a load swaps a period's rows); reconciled audit tables
--                           (run_audit, period_load, validation_result, absence_limit_notice) and
--                           history.*: append-only, UPDATE only of the columns the code updates;
--                           ref.service_period: INSERT, UPDATE (submission_deadline).
--   <db>_reader  (NOLOGIN)  reads ref, reconciled, history; writes nothing.
--   <db>_intake  (NOLOGIN)  the reference/portal intake: reads, INSERTs and UPDATEs ref.* and
--                           portal.* (UPDATE closes a row's superseded_at), never DELETE/TRUNCATE.
--   <db>_loader   (LOGIN, in <db>_writer)   the DAG's ccms_warehouse connection.
--   <db>_reporter (LOGIN, in <db>_reader)   reporting users and tools.
--   <db>_sync     (LOGIN, in <db>_intake)   the intake DAG's connection.
--
-- Only these roles (and the owner) may connect to the database. V006's server-wide roles keep
-- whatever they hold in other databases but nothing here (docs/reliability.md says how an
-- administrator drops them once every database is past this migration). No role gets a password
-- here: an administrator sets one in production (ALTER ROLE ... PASSWORD), never in code.
--
-- Migrations (this one included) run as the database owner, who needs CREATEROLE.

-- The role of `kind` for database `dbname`: '<dbname>_<kind>'; when that is longer than a
-- PostgreSQL name (63 bytes) or is one of V006's server-wide names (a database called "ccms"),
-- the database name is cut and an 8-hex-digit SHA-256 of the whole name added, so that two
-- databases never share a role: '<cut dbname>_<hash>_<kind>'.
CREATE FUNCTION meta.ccms_role(kind text, dbname text DEFAULT current_database()) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT AS $fn$
DECLARE
    wanted text := dbname || '_' || kind;
    tail   text;
    cut    text := dbname;
BEGIN
    IF kind !~ '^[a-z]{1,16}$' THEN
        RAISE EXCEPTION 'role kind must be 1 to 16 lower-case letters, got %', kind;
    END IF;
    IF octet_length(wanted) <= 63
       AND wanted NOT IN ('ccms_writer', 'ccms_reader', 'ccms_loader', 'ccms_reporter') THEN
        RETURN wanted;
    END IF;
    tail := '_' || left(encode(sha256(convert_to(dbname, 'UTF8')), 'hex'), 8) || '_' || kind;
    WHILE octet_length(cut || tail) > 63 LOOP
        cut := left(cut, -1);
    END LOOP;
    RETURN cut || tail;
END
$fn$;
COMMENT ON FUNCTION meta.ccms_role(text, text) IS
    'This database''s role of a kind (writer, reader, intake, loader, reporter, sync); '
    'same rule as ccms_attendance.warehouse.target.role_name';

-- GRANT <privileges> ON <objects> TO this database's role of `kind` (later migrations use it too).
CREATE FUNCTION meta.ccms_grant(privileges text, objects text, kind text) RETURNS void
    LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('GRANT %s ON %s TO %I', privileges, objects, meta.ccms_role(kind));
END
$fn$;

-- The roles. A role of that name may be left over from a dropped database of the same name (it
-- carries this project's comment and is reused); a role without that comment is somebody else's
-- and is refused rather than granted this database.
DO $roles$
DECLARE
    wanted  record;
    name    text;
    comment text;
BEGIN
    FOR wanted IN
        SELECT * FROM (VALUES ('writer', false, NULL), ('reader', false, NULL), ('intake', false, NULL),
                              ('loader', true, 'writer'), ('reporter', true, 'reader'), ('sync', true, 'intake'))
                      AS r (kind, login, grp)
    LOOP
        name := meta.ccms_role(wanted.kind);
        comment := format('ccms-attendance: %s of database %s', wanted.kind, current_database());
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) THEN
            EXECUTE format('CREATE ROLE %I %s NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
                           name, CASE WHEN wanted.login THEN 'LOGIN' ELSE 'NOLOGIN' END);
            EXECUTE format('COMMENT ON ROLE %I IS %L', name, comment);
        ELSIF shobj_description((SELECT oid FROM pg_roles WHERE rolname = name), 'pg_authid')
              IS DISTINCT FROM comment THEN
            RAISE EXCEPTION 'role % exists but is not this database''s %: refusing to grant it anything',
                name, wanted.kind;
        END IF;
        IF wanted.grp IS NOT NULL AND NOT pg_has_role(name, meta.ccms_role(wanted.grp), 'MEMBER') THEN
            EXECUTE format('GRANT %I TO %I', meta.ccms_role(wanted.grp), name);
        END IF;
    END LOOP;
END
$roles$;

-- V006's server-wide roles lose everything in this database (they keep what other databases gave).
DO $legacy$
DECLARE
    old  text;
    dflt record;
BEGIN
    FOR old IN SELECT rolname FROM pg_roles
                WHERE rolname IN ('ccms_writer', 'ccms_reader', 'ccms_loader', 'ccms_reporter')
    LOOP
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA ref, portal, staging, reconciled, history FROM %I', old);
        EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA ref, portal, staging, reconciled, history FROM %I', old);
        EXECUTE format('REVOKE ALL ON SCHEMA ref, portal, staging, reconciled, history, meta FROM %I', old);
        EXECUTE format('REVOKE ALL ON DATABASE %I FROM %I', current_database(), old);
        FOR dflt IN
            SELECT DISTINCT d.defaclrole::regrole AS owner, n.nspname
              FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace
             WHERE EXISTS (SELECT 1 FROM aclexplode(d.defaclacl) a
                            WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = old))
        LOOP
            EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA %I REVOKE ALL ON TABLES FROM %I',
                           dflt.owner, dflt.nspname, old);
            EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA %I REVOKE ALL ON SEQUENCES FROM %I',
                           dflt.owner, dflt.nspname, old);
        END LOOP;
    END LOOP;
END
$legacy$;

-- Only this database's roles connect; only the batch roles create temporary tables
-- (prune_old_staging.sql uses one).
DO $connect$
BEGIN
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I, %I, %I', current_database(),
                   meta.ccms_role('writer'), meta.ccms_role('reader'), meta.ccms_role('intake'));
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO %I, %I', current_database(),
                   meta.ccms_role('writer'), meta.ccms_role('intake'));
END
$connect$;

-- What each group may do, table by table (docs/reliability.md, "Least privilege").
SELECT meta.ccms_grant(g.privileges, g.objects, g.kind)
  FROM (VALUES
    ('writer', 'USAGE', 'SCHEMA ref, portal, staging, reconciled, history'),
    ('writer', 'SELECT', 'ALL TABLES IN SCHEMA ref, portal, staging, reconciled, history'),
    -- plan records the period it runs, and a changed submission deadline (configuration)
    ('writer', 'INSERT, UPDATE (submission_deadline)', 'ref.service_period'),
    -- a run's scratch rows: written by its steps, deleted by a retry of a step and by pruning
    ('writer', 'INSERT, DELETE', 'ALL TABLES IN SCHEMA staging'),
    ('writer', 'UPDATE (outcome, error)', 'staging.site_extract'),  -- mark_source_unusable.sql
    -- the current version of a period: a load deletes the rows it replaces (after copying them to
    -- history) and inserts the new ones; absence_tally is recomputed the same way
    ('writer', 'INSERT, DELETE',
     'reconciled.daily_attendance, reconciled.absence_summary, reconciled.site_period, '
     'reconciled.exception, reconciled.quarantine, reconciled.absence_tally'),
    -- audit tables: never deleted; only the columns the code updates
    ('writer', 'INSERT, UPDATE (status, status_reason, scope, started_at, finished_at, as_of, staging_pruned_at, '
               'counts, checksums, timings)', 'reconciled.run_audit'),
    ('writer', 'INSERT, UPDATE (run_id, loaded_at, checksum, lifecycle)', 'reconciled.period_load'),
    ('writer', 'INSERT, UPDATE (period_start, success, evaluated, failed_critical, failed_warning, '
               'quarantined_rows, result, validated_at)', 'reconciled.validation_result'),
    ('writer', 'INSERT, UPDATE (withdrawn_at, withdrawn_by_run)', 'reconciled.absence_limit_notice'),
    -- history is append-only; a version is only ever marked superseded
    ('writer', 'INSERT', 'ALL TABLES IN SCHEMA history'),
    ('writer', 'UPDATE (superseded_at, superseded_by_run)', 'history.period_version'),

    ('reader', 'USAGE', 'SCHEMA ref, reconciled, history'),
    ('reader', 'SELECT', 'ALL TABLES IN SCHEMA ref, reconciled, history'),

    ('intake', 'USAGE', 'SCHEMA ref, portal'),
    ('intake', 'SELECT, INSERT, UPDATE', 'ALL TABLES IN SCHEMA ref, portal'),
    ('intake', 'USAGE, SELECT', 'ALL SEQUENCES IN SCHEMA ref, portal')
  ) AS g (kind, privileges, objects);

-- Tables (and sequences) that later migrations create, as this same owner, get each schema's
-- least default; a table that needs more (DELETE in reconciled, an UPDATE) grants it in its
-- migration with meta.ccms_grant.
DO $defaults$
DECLARE
    d record;
BEGIN
    FOR d IN
        SELECT * FROM (VALUES
            ('writer', 'ref, portal', 'SELECT', 'TABLES'),
            ('writer', 'staging', 'SELECT, INSERT, DELETE', 'TABLES'),
            ('writer', 'reconciled, history', 'SELECT, INSERT', 'TABLES'),
            ('reader', 'ref, reconciled, history', 'SELECT', 'TABLES'),
            ('intake', 'ref, portal', 'SELECT, INSERT, UPDATE', 'TABLES'),
            ('intake', 'ref, portal', 'USAGE, SELECT', 'SEQUENCES')
        ) AS t (kind, schemas, privileges, objects)
    LOOP
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %s GRANT %s ON %s TO %I',
                       d.schemas, d.privileges, d.objects, meta.ccms_role(d.kind));
    END LOOP;
END
$defaults$;
