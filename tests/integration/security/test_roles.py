"""Least privilege (migration V006): the DAG's loader role and the read-only reporting role.

Checked two ways: exhaustively with ``has_table_privilege`` over every table of every schema (so a
table added by a later migration is covered too), and by really running statements as each LOGIN
role and getting ``permission denied``.
"""

from __future__ import annotations

import psycopg
import pytest

from ccms_attendance.warehouse.sql_files import run_file
from ccms_attendance.warehouse.target import LOADER_ROLE, REPORTING_ROLE

WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")


def _tables(conn: psycopg.Connection, *schemas: str) -> list[str]:
    rows = conn.execute(
        "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables WHERE schemaname = ANY(%s) ORDER BY 1",
        (list(schemas),),
    ).fetchall()
    assert rows, schemas
    return [r[0] for r in rows]


def _granted(conn: psycopg.Connection, role: str, table: str, privilege: str) -> bool:
    return conn.execute("SELECT has_table_privilege(%s, %s, %s)", (role, table, privilege)).fetchone()[0]


@pytest.fixture
def as_role(warehouse):
    opened: list[psycopg.Connection] = []

    def _connect(role: str) -> psycopg.Connection:
        connection = psycopg.connect(warehouse.as_role(role).conninfo, autocommit=True)
        opened.append(connection)
        return connection

    yield _connect
    for connection in opened:
        connection.close()


def test_roles_exist_with_the_documented_attributes(conn):
    roles = conn.execute(
        "SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles"
        " WHERE rolname = ANY(%s) ORDER BY 1",
        # Only the documented roles: other roles on a shared server (another checkout's test runs,
        # an administrator's own) are not this schema's to judge.
        (["ccms_loader", "ccms_reader", "ccms_reporter", "ccms_writer"],),
    ).fetchall()
    assert [tuple(r) for r in roles] == [
        ("ccms_loader", True, False, False, False, False),
        ("ccms_reader", False, False, False, False, False),
        ("ccms_reporter", True, False, False, False, False),
        ("ccms_writer", False, False, False, False, False),
    ]
    members = conn.execute(
        "SELECT pg_has_role('ccms_loader', 'ccms_writer', 'MEMBER'),"
        " pg_has_role('ccms_reporter', 'ccms_reader', 'MEMBER'),"
        " pg_has_role('ccms_reporter', 'ccms_writer', 'MEMBER'),"
        " pg_has_role('ccms_loader', 'ccms_reader', 'MEMBER')"
    ).fetchone()
    assert tuple(members) == (True, True, False, False)


def test_loader_writes_only_staging_reconciled_and_history(conn):
    for table in _tables(conn, "staging", "reconciled"):
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            assert _granted(conn, LOADER_ROLE, table, privilege), (table, privilege)
        assert not _granted(conn, LOADER_ROLE, table, "TRUNCATE"), table
    for table in _tables(conn, "history"):
        assert all(_granted(conn, LOADER_ROLE, table, p) for p in ("SELECT", "INSERT", "UPDATE")), table
        # A replaced version is never destroyed: the loader cannot delete history.
        assert not any(_granted(conn, LOADER_ROLE, table, p) for p in ("DELETE", "TRUNCATE")), table
    for table in _tables(conn, "ref", "portal"):
        assert _granted(conn, LOADER_ROLE, table, "SELECT"), table
        allowed = {"INSERT"} if table == "ref.service_period" else set()  # plan records the period it runs
        assert {p for p in WRITES if _granted(conn, LOADER_ROLE, table, p)} == allowed, table
    assert not _granted(conn, LOADER_ROLE, "meta.schema_migration", "SELECT")


def test_reporting_role_reads_results_and_writes_nothing(conn):
    for table in _tables(conn, "ref", "reconciled", "history"):
        assert _granted(conn, REPORTING_ROLE, table, "SELECT"), table
    for table in _tables(conn, "ref", "portal", "staging", "reconciled", "history", "meta"):
        assert not any(_granted(conn, REPORTING_ROLE, table, p) for p in WRITES), table
    for table in _tables(conn, "portal", "staging", "meta"):
        assert not _granted(conn, REPORTING_ROLE, table, "SELECT"), table


STATEMENTS_DENIED = {
    REPORTING_ROLE: [
        "INSERT INTO reconciled.run_audit (run_id, dag_id, period_start, status, started_at)"
        " VALUES ('x', 'x', '2026-01-04', 'running', now())",
        "UPDATE reconciled.daily_attendance SET status = 'absent'",
        "DELETE FROM reconciled.absence_summary",
        "DELETE FROM history.period_version",
        "TRUNCATE reconciled.exception",
        "INSERT INTO staging.site_plan VALUES ('x', '2026-01-04', 's', 'l', 'PPP', 'PPP', NULL, 0)",
        "SELECT * FROM portal.manual_entry",
        "CREATE TABLE reconciled.sneaky (x int)",
    ],
    LOADER_ROLE: [
        "INSERT INTO portal.manual_entry (site_id, child_id, attendance_date, entered_at, entered_by)"
        " VALUES ('S', 'C', '2026-01-05', now(), 'x')",
        "UPDATE portal.data_entry_selection SET method = 'PPP'",
        "DELETE FROM portal.period_submission",
        "TRUNCATE portal.manual_entry",
        "UPDATE ref.voucher SET program = 'OMW'",
        "DELETE FROM ref.child",
        "DELETE FROM history.daily_attendance",
        "TRUNCATE reconciled.daily_attendance",
        "CREATE TABLE staging.sneaky (x int)",
        "CREATE TABLE public.sneaky (x int)",
        "DROP TABLE reconciled.quarantine",
        "ALTER TABLE reconciled.daily_attendance DROP CONSTRAINT daily_status_valid",
        "SELECT * FROM meta.schema_migration",
    ],
}


@pytest.mark.parametrize(
    ("role", "statement"), [(role, sql) for role, sqls in STATEMENTS_DENIED.items() for sql in sqls]
)
def test_statements_outside_a_roles_rights_are_refused(conn, as_role, role, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_role(role).execute(statement)


def test_loader_can_do_what_the_load_step_does(conn, as_role):
    loader = as_role(LOADER_ROLE)
    with loader.transaction():
        period = {"period_start": "2026-01-04", "period_end": "2026-01-17"}
        run_file(loader, "upsert_service_period", {**period, "submission_deadline": "2026-01-31"})
        # A changed deadline (configuration) is recorded: only that column may change.
        run_file(loader, "upsert_service_period", {**period, "submission_deadline": "2026-02-06"})
        with pytest.raises(psycopg.errors.InsufficientPrivilege), loader.transaction():
            loader.execute("UPDATE ref.service_period SET period_end = '2026-01-18'")
        loader.execute(
            "INSERT INTO reconciled.run_audit (run_id, dag_id, period_start, status, started_at)"
            " VALUES ('r1', 'd', '2026-01-04', 'running', now())"
        )
        loader.execute(
            "INSERT INTO history.period_version (period_start, run_id, dag_id, loaded_at, loaded_by, checksum)"
            " VALUES ('2026-01-04', 'r1', 'd', now(), 'test', 'x')"
        )  # an identity column: the loader may use its sequence
        loader.execute("UPDATE history.period_version SET superseded_at = now(), superseded_by_run = 'r2'")
        loader.execute("DELETE FROM reconciled.run_audit WHERE run_id = 'r1'")
        loader.execute("SELECT pg_advisory_xact_lock(1, 2)")


def test_tables_added_by_later_migrations_get_the_same_rights(conn, as_role):
    """Migrations after V006 (e.g. new ref/reconciled/history tables) are covered by default privileges."""
    conn.execute("CREATE TABLE reconciled.zz_later_table (x int)")
    conn.execute("CREATE TABLE ref.zz_later_table (x int)")
    conn.execute("CREATE TABLE history.zz_later_table (x int)")
    try:
        as_role(LOADER_ROLE).execute("INSERT INTO reconciled.zz_later_table VALUES (1)")
        as_role(LOADER_ROLE).execute("INSERT INTO history.zz_later_table VALUES (1)")
        assert as_role(REPORTING_ROLE).execute("SELECT count(*) FROM reconciled.zz_later_table").fetchone()[0] == 1
        assert as_role(LOADER_ROLE).execute("SELECT count(*) FROM ref.zz_later_table").fetchone()[0] == 0
        for role, statement in [
            (LOADER_ROLE, "INSERT INTO ref.zz_later_table VALUES (1)"),
            (LOADER_ROLE, "DELETE FROM history.zz_later_table"),
            (REPORTING_ROLE, "INSERT INTO reconciled.zz_later_table VALUES (2)"),
        ]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                as_role(role).execute(statement)
    finally:
        conn.execute("DROP TABLE reconciled.zz_later_table, ref.zz_later_table, history.zz_later_table")


def test_role_migration_is_safe_in_several_databases_at_once(pg_admin, tmp_path):
    """Roles are cluster-wide: V006 applied to fresh databases concurrently must succeed everywhere.

    A copy of the migrations with role names unique to this test makes the roles really new, so the
    CREATE ROLE / GRANT race is exercised (the real names exist already on a shared server).
    """
    import secrets
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    from ccms_attendance.warehouse.migrate import MIGRATIONS_DIR, apply_migrations

    suffix = secrets.token_hex(3)
    names = ("ccms_writer", "ccms_reader", "ccms_loader", "ccms_reporter")
    copied = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copied)
    v006 = copied / "V006__roles.sql"
    text = v006.read_text()
    for name in names:
        text = text.replace(name, f"{name}_{suffix}")
    v006.write_text(text)
    databases = [f"ccms_roles_{suffix}_{n}" for n in range(3)]
    with psycopg.connect(pg_admin.conninfo, autocommit=True) as admin:
        for db in databases:
            admin.execute(f'CREATE DATABASE "{db}"')
        try:
            with ThreadPoolExecutor(len(databases)) as pool:
                applied = list(
                    pool.map(lambda db: apply_migrations(pg_admin.with_database(db).conninfo, copied), databases)
                )
            assert all(6 in versions for versions in applied), applied
            created = admin.execute(
                "SELECT count(*) FROM pg_roles WHERE rolname = ANY(%s)", ([f"{n}_{suffix}" for n in names],)
            ).fetchone()[0]
            assert created == len(names)
        finally:
            for db in databases:
                admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            for name in ("ccms_loader", "ccms_reporter", "ccms_writer", "ccms_reader"):
                admin.execute(f'DROP ROLE IF EXISTS "{name}_{suffix}"')
