-- Least privilege. Migrations keep running as the warehouse owner; the DAG connects as
-- `ccms_loader`, readers (reports, payments, audits) as `ccms_reporter`.
--
--   ccms_writer   (group, NOLOGIN)  what the pipeline needs and nothing more:
--                 read ref.* and portal.* (the state's systems of record; never written),
--                 plus INSERT on ref.service_period (plan records the period it runs);
--                 read/write staging.* and reconciled.*;
--                 read/insert/update history.* but no DELETE: a replaced version is never destroyed.
--   ccms_reader   (group, NOLOGIN)  read-only on ref, reconciled and history.
--   ccms_loader   (LOGIN, in ccms_writer)   the DAG's `ccms_warehouse` connection.
--   ccms_reporter (LOGIN, in ccms_reader)   reporting users/tools.
--
-- The LOGIN roles get no password here: locally they authenticate by pg_hba (trust/peer); in
-- production an administrator sets one (`ALTER ROLE ccms_loader PASSWORD ...`) and puts it in the
-- Airflow connection, never in code.
--
-- Roles are cluster-wide while this file runs once per database, possibly in several databases
-- of one server at the same moment (test runs): every CREATE ROLE / GRANT ROLE tolerates the role
-- or membership already existing, also when a concurrent transaction created it a moment ago.
-- Privileges on tables are per database: ON ALL TABLES covers what earlier migrations created,
-- ALTER DEFAULT PRIVILEGES what later migrations (run by this same owner) will create.

DO $roles$
DECLARE
    wanted record;
BEGIN
    FOR wanted IN
        SELECT * FROM (VALUES ('ccms_writer', false), ('ccms_reader', false),
                              ('ccms_loader', true), ('ccms_reporter', true)) AS r (name, login)
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = wanted.name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I %s NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
                               wanted.name, CASE WHEN wanted.login THEN 'LOGIN' ELSE 'NOLOGIN' END);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created concurrently by a migration of another database
            END;
        END IF;
    END LOOP;
    FOR wanted IN
        SELECT * FROM (VALUES ('ccms_writer', 'ccms_loader'), ('ccms_reader', 'ccms_reporter')) AS m (grp, member)
    LOOP
        IF NOT pg_has_role(wanted.member, wanted.grp, 'MEMBER') THEN
            BEGIN
                EXECUTE format('GRANT %I TO %I', wanted.grp, wanted.member);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
END
$roles$;

-- Nobody but the owner creates objects in the data schemas.
REVOKE CREATE ON SCHEMA ref, portal, staging, reconciled, history FROM PUBLIC;
REVOKE ALL ON SCHEMA meta FROM PUBLIC;

-- ccms_writer --------------------------------------------------------------------------------------
GRANT USAGE ON SCHEMA ref, portal, staging, reconciled, history TO ccms_writer;

GRANT SELECT ON ALL TABLES IN SCHEMA ref, portal TO ccms_writer;
GRANT INSERT ON ref.service_period TO ccms_writer;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA staging, reconciled TO ccms_writer;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA history TO ccms_writer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA staging, reconciled, history TO ccms_writer;

ALTER DEFAULT PRIVILEGES IN SCHEMA ref, portal GRANT SELECT ON TABLES TO ccms_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA staging, reconciled GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ccms_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA history GRANT SELECT, INSERT, UPDATE ON TABLES TO ccms_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA staging, reconciled, history GRANT USAGE, SELECT ON SEQUENCES TO ccms_writer;

-- ccms_reader --------------------------------------------------------------------------------------
GRANT USAGE ON SCHEMA ref, reconciled, history TO ccms_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA ref, reconciled, history TO ccms_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA ref, reconciled, history GRANT SELECT ON TABLES TO ccms_reader;
