"""Least privilege (migration V010): this database's loader, reporter and sync roles hold exactly
what the code does, history and audit tables are append-only, and V006's server-wide roles hold
nothing here.

Checked two ways: exhaustively over every table of every schema with ``has_table_privilege`` /
``has_column_privilege`` (a table added by a later migration falls under its schema's default), and
by really running each refused statement as each LOGIN role and getting ``permission denied``.
"""

from __future__ import annotations

import psycopg
import pytest

from ccms_attendance.warehouse.sql_files import run_file
from ccms_attendance.warehouse.target import LOADER_ROLE, REPORTING_ROLE, ROLE_KINDS, SYNC_ROLE, role_name

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
SCHEMAS = ("ref", "portal", "staging", "reconciled", "history", "meta")
LEGACY = ("ccms_writer", "ccms_reader", "ccms_loader", "ccms_reporter")
HISTORY = ("history.period_version", "history.daily_attendance", "history.absence_summary", "history.exception")
AUDIT = (
    "reconciled.run_audit",
    "reconciled.period_load",
    "reconciled.validation_result",
    "reconciled.absence_limit_notice",
    # the ledger of letters sent (V013): what was sent is never deleted or rewritten
    "reconciled.notice_delivery",
)
SELECT_INSERT_DELETE = frozenset({"SELECT", "INSERT", "DELETE"})

# role kind -> (privileges by schema, privileges of tables that differ from their schema's)
EXPECTED: dict[str, tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]] = {
    LOADER_ROLE: (
        {
            "ref": frozenset({"SELECT"}),
            "portal": frozenset({"SELECT"}),
            "staging": SELECT_INSERT_DELETE,
            "reconciled": frozenset({"SELECT", "INSERT"}),  # audit tables: append-only
            "history": frozenset({"SELECT", "INSERT"}),
            "meta": frozenset(),
        },
        {
            "ref.service_period": frozenset({"SELECT", "INSERT"}),
            **{
                f"reconciled.{table}": SELECT_INSERT_DELETE  # the current version, swapped by a load
                for table in ("daily_attendance", "absence_summary", "site_period", "exception", "quarantine")
            },
            "reconciled.absence_tally": SELECT_INSERT_DELETE,  # recomputed per child
            "reconciled.absence_limit_state": SELECT_INSERT_DELETE,  # V015: recomputed per child
        },
    ),
    REPORTING_ROLE: (
        {s: frozenset({"SELECT"} if s in ("ref", "reconciled", "history") else ()) for s in SCHEMAS},
        {},
    ),
    SYNC_ROLE: (
        {s: frozenset({"SELECT", "INSERT", "UPDATE"} if s in ("ref", "portal") else ()) for s in SCHEMAS},
        {},
    ),
}
# The columns the loader updates (column grants): exactly the UPDATEs of sql/queries.
LOADER_UPDATES = {
    "ref.service_period": {"submission_deadline"},
    "staging.site_extract": {"outcome", "error"},
    "reconciled.run_audit": {
        "status",
        "status_reason",
        "scope",
        "started_at",
        "finished_at",
        "as_of",
        "as_known_at",  # V011: a run planned again records it again
        "staging_pruned_at",
        "counts",
        "checksums",
        "timings",
    },
    "reconciled.period_load": {"run_id", "loaded_at", "checksum", "lifecycle"},
    "reconciled.validation_result": {
        "period_start",
        "success",
        "evaluated",
        "failed_critical",
        "failed_warning",
        "quarantined_rows",
        "result",
        "validated_at",
    },
    "reconciled.absence_limit_notice": {"withdrawn_at", "withdrawn_by_run"},
    "history.period_version": {"superseded_at", "superseded_by_run"},
}


def _tables(conn: psycopg.Connection, *schemas: str) -> list[str]:
    rows = conn.execute(
        "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables WHERE schemaname = ANY(%s) ORDER BY 1",
        (list(schemas),),
    ).fetchall()
    assert rows, schemas
    return [r[0] for r in rows]


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (table,),
        )
    ]


def _granted(conn: psycopg.Connection, role: str, table: str, privilege: str) -> bool:
    return conn.execute("SELECT has_table_privilege(%s, %s, %s)", (role, table, privilege)).fetchone()[0]


def _name(conn: psycopg.Connection, kind: str) -> str:
    return role_name(conn.info.dbname, kind)


@pytest.fixture
def as_role(warehouse):
    opened: list[psycopg.Connection] = []

    def _connect(kind: str) -> psycopg.Connection:
        connection = psycopg.connect(warehouse.as_role(kind).conninfo, autocommit=True)
        opened.append(connection)
        return connection

    yield _connect
    for connection in opened:
        connection.close()


@pytest.fixture(scope="module")
def logins(warehouse):
    """One autocommit session per LOGIN role, shared by the refusal tests (a refused statement
    leaves its session usable)."""
    sessions = {k: psycopg.connect(warehouse.as_role(k).conninfo, autocommit=True) for k in REFUSED}
    yield sessions
    for session in sessions.values():
        session.close()


def test_roles_exist_with_the_documented_attributes(conn):
    names = {kind: _name(conn, kind) for kind in ROLE_KINDS}
    roles = conn.execute(
        "SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,"
        " shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = ANY(%s)",
        (list(names.values()),),
    ).fetchall()
    db = conn.info.dbname
    assert {r[0]: tuple(r[1:]) for r in roles} == {
        names[kind]: (kind in (LOADER_ROLE, REPORTING_ROLE, SYNC_ROLE), False, False, False, False, False,
                      f"ccms-attendance: {kind} of database {db}")
        for kind in ROLE_KINDS
    }  # fmt: skip
    memberships = {
        (login, group)
        for login in (LOADER_ROLE, REPORTING_ROLE, SYNC_ROLE)
        for group in ROLE_KINDS
        if login != group
        and conn.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", (names[login], names[group])).fetchone()[0]
    }
    assert memberships == {(LOADER_ROLE, "writer"), (REPORTING_ROLE, "reader"), (SYNC_ROLE, "intake")}


def test_role_names_follow_the_one_rule_in_sql_and_python(conn):
    """``meta.ccms_role`` (SQL) and ``role_name`` (Python) agree, fit PostgreSQL's 63 bytes and never
    give two databases (nor V006's server-wide roles) one name."""
    databases = [conn.info.dbname, "ccms", "warehouse", "x" * 63, "x" * 62 + "y", "é" * 31, "Ærø-prod db", "a" * 55]
    names = set()
    for db in databases:
        for kind in ROLE_KINDS:
            name = role_name(db, kind)
            assert conn.execute("SELECT meta.ccms_role(%s, %s)", (kind, db)).fetchone()[0] == name
            assert len(name.encode()) <= 63
            assert name.endswith("_" + kind)
            names.add(name)
    assert len(names) == len(databases) * len(ROLE_KINDS)
    assert not names & set(LEGACY)
    assert role_name("warehouse", LOADER_ROLE) == "warehouse_loader"  # the plain case, as documented
    assert conn.execute("SELECT meta.ccms_role('loader')").fetchone()[0] == _name(conn, LOADER_ROLE)


@pytest.mark.parametrize("kind", [LOADER_ROLE, REPORTING_ROLE, SYNC_ROLE])
def test_privilege_matrix_over_every_table(conn, kind):
    """Every privilege on every table and column is what V010 documents, nothing more."""
    role = _name(conn, kind)
    by_schema, by_table = EXPECTED[kind]
    updates = LOADER_UPDATES if kind == LOADER_ROLE else {}
    for table in _tables(conn, *SCHEMAS):
        expected = by_table.get(table, by_schema[table.split(".")[0]])
        granted = {p for p in TABLE_PRIVILEGES if _granted(conn, role, table, p)}
        assert granted == expected, table
        columns = _columns(conn, table)
        updatable = {
            c
            for c in columns
            if conn.execute("SELECT has_column_privilege(%s, %s, %s, 'UPDATE')", (role, table, c)).fetchone()[0]
        }
        assert updatable == (set(columns) if "UPDATE" in expected else updates.get(table, set())), table
        for privilege in ("SELECT", "INSERT", "REFERENCES"):  # no column grants beside the UPDATEs above
            any_column = conn.execute(
                "SELECT has_any_column_privilege(%s, %s, %s)", (role, table, privilege)
            ).fetchone()[0]
            assert any_column == (privilege in expected), (table, privilege)


def test_database_and_schema_privileges(conn):
    db = conn.info.dbname

    def has(kind_or_role: str, check: str, obj: str, privilege: str) -> bool:
        role = kind_or_role if kind_or_role in LEGACY else _name(conn, kind_or_role)
        return conn.execute(f"SELECT has_{check}_privilege(%s, %s, %s)", (role, obj, privilege)).fetchone()[0]

    assert [has(k, "database", db, "CONNECT") for k in (LOADER_ROLE, REPORTING_ROLE, SYNC_ROLE)] == [True] * 3
    assert [has(k, "database", db, "TEMPORARY") for k in (LOADER_ROLE, REPORTING_ROLE, SYNC_ROLE)] == [
        True,  # prune_old_staging.sql uses a temporary table
        False,
        True,
    ]
    assert not any(has(k, "database", db, "CREATE") for k in (LOADER_ROLE, REPORTING_ROLE, SYNC_ROLE))
    usage = {
        LOADER_ROLE: {"ref", "portal", "staging", "reconciled", "history"},
        REPORTING_ROLE: {"ref", "reconciled", "history"},
        SYNC_ROLE: {"ref", "portal"},
    }
    for kind, schemas in usage.items():
        assert {s for s in SCHEMAS if has(kind, "schema", s, "USAGE")} == schemas, kind
        assert not any(has(kind, "schema", s, "CREATE") for s in (*SCHEMAS, "public")), kind
    sequences = [r[0] for r in conn.execute("SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences")]
    assert sequences
    for sequence in sequences:
        # identity columns need no sequence grant; only the intake may draw from ref/portal sequences
        in_intake = sequence.split(".")[0] in ("ref", "portal")
        assert has(SYNC_ROLE, "sequence", sequence, "USAGE") == in_intake, sequence
        assert not has(LOADER_ROLE, "sequence", sequence, "USAGE"), sequence
        assert not has(REPORTING_ROLE, "sequence", sequence, "USAGE"), sequence


def test_the_server_wide_roles_of_v006_hold_nothing_here(conn):
    db = conn.info.dbname
    present = [r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (list(LEGACY),))]
    assert sorted(present) == sorted(LEGACY)  # V006 ran here too; V010 took everything back
    for role in LEGACY:
        assert not conn.execute("SELECT has_database_privilege(%s, %s, 'CONNECT')", (role, db)).fetchone()[0]
        for schema in SCHEMAS:
            assert not conn.execute("SELECT has_schema_privilege(%s, %s, 'USAGE')", (role, schema)).fetchone()[0]
        for table in _tables(conn, *SCHEMAS):
            for privilege in ("SELECT", "INSERT", "UPDATE", "REFERENCES"):
                assert not conn.execute(
                    "SELECT has_any_column_privilege(%s, %s, %s)", (role, table, privilege)
                ).fetchone()[0], (role, table, privilege)
    defaults = conn.execute(
        "SELECT count(*) FROM pg_default_acl d, aclexplode(d.defaclacl) a JOIN pg_roles r ON r.oid = a.grantee"
        " WHERE r.rolname = ANY(%s)",
        (list(LEGACY),),
    ).fetchone()[0]
    assert defaults == 0


def test_the_refusal_lists_cover_every_history_and_audit_table(conn):
    # A period's partition of a history table (V016, added by loads) is refused what its parent is:
    # the privilege matrix above checks every partition present, test_history_partitions runs the refusals.
    partitions = dict(
        conn.execute(
            "SELECT format('%I.%I', n.nspname, c.relname), i.inhparent::regclass::text FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'history' AND c.relkind IN ('r', 'p')"  # tables: their indexes inherit too
        ).fetchall()
    )
    assert set(partitions.values()) <= set(HISTORY)
    assert set(HISTORY) == set(_tables(conn, "history")) - set(partitions)
    # audit: the reconciled tables nobody may delete from
    assert set(AUDIT) == {t for t in _tables(conn, "reconciled") if t not in EXPECTED[LOADER_ROLE][1]}


# A column of each history/audit table that no role may update (the loader's column grants included).
NEVER_UPDATED = {
    "history.period_version": "checksum",
    "reconciled.run_audit": "run_id",
    "reconciled.validation_result": "suite_name",
    "reconciled.absence_limit_notice": "child_id",
}


REFUSED = {
    kind: [f"DELETE FROM {t}" for t in (*HISTORY, *AUDIT)]
    + [f"TRUNCATE {t}" for t in (*HISTORY, *AUDIT)]
    + [f"UPDATE {t} SET {c} = {c}" for t in (*HISTORY, *AUDIT) for c in [NEVER_UPDATED.get(t, "period_start")]]
    for kind in (LOADER_ROLE, REPORTING_ROLE, SYNC_ROLE)
}
REFUSED[LOADER_ROLE] += [
    "INSERT INTO portal.manual_entry (site_id, child_id, attendance_date, entered_at, entered_by)"
    " VALUES ('S', 'C', '2026-01-05', now(), 'x')",
    "UPDATE portal.data_entry_selection SET method = 'PPP'",
    "DELETE FROM portal.period_submission",
    "TRUNCATE portal.manual_entry",
    "UPDATE ref.voucher SET program = 'OMW'",
    "INSERT INTO ref.child (child_id) VALUES ('C')",
    "DELETE FROM ref.child",
    "DELETE FROM ref.service_period",
    "UPDATE ref.service_period SET period_end = period_end",
    "UPDATE reconciled.daily_attendance SET status = 'absent'",
    "UPDATE reconciled.absence_summary SET absent_days = 0",
    "UPDATE reconciled.exception SET detail = ''",
    "UPDATE reconciled.absence_tally SET absences = 0",
    "UPDATE staging.source_record SET site_id = site_id",
    "UPDATE staging.site_extract SET site_id = site_id",
    "TRUNCATE reconciled.daily_attendance",
    "TRUNCATE staging.source_record",
    "CREATE TABLE staging.sneaky (x int)",
    "CREATE TABLE public.sneaky (x int)",
    "DROP TABLE reconciled.quarantine",
    "ALTER TABLE reconciled.daily_attendance DROP CONSTRAINT daily_day_code_matches_status",
    "ALTER DOMAIN meta.attendance_status DROP CONSTRAINT attendance_status_valid",
    "SELECT * FROM meta.schema_migration",
    "SELECT meta.ccms_role('loader')",
]
REFUSED[REPORTING_ROLE] += [
    "INSERT INTO reconciled.run_audit (run_id, dag_id, period_start, status, started_at)"
    " VALUES ('x', 'x', '2026-01-04', 'running', now())",
    "INSERT INTO history.period_version (period_start, run_id, dag_id, loaded_at, loaded_by, checksum)"
    " VALUES ('2026-01-04', 'r', 'd', now(), 'x', 'x')",
    "UPDATE reconciled.daily_attendance SET status = 'absent'",
    "DELETE FROM reconciled.absence_summary",
    "INSERT INTO staging.site_plan VALUES ('x', '2026-01-04', 's', 'l', 'PPP', 'PPP', NULL, 0)",
    "INSERT INTO ref.child (child_id) VALUES ('C')",
    "SELECT * FROM portal.manual_entry",
    "SELECT * FROM staging.source_record",
    "CREATE TABLE reconciled.sneaky (x int)",
    "CREATE TEMP TABLE sneaky (x int)",
]
REFUSED[SYNC_ROLE] += [
    "DELETE FROM ref.child",
    "DELETE FROM portal.manual_entry",
    "TRUNCATE ref.voucher",
    "TRUNCATE portal.period_submission",
    "SELECT * FROM reconciled.daily_attendance",
    "SELECT * FROM staging.source_record",
    "INSERT INTO reconciled.exception (period_start, run_id, kind, severity, detail)"
    " VALUES ('2026-01-04', 'r', 'k', 'warning', 'x')",
    "CREATE TABLE ref.sneaky (x int)",
    "ALTER TABLE portal.manual_entry ADD COLUMN sneaky int",
    "SELECT * FROM meta.schema_migration",
]


@pytest.mark.parametrize(("kind", "statement"), [(k, sql) for k, sqls in REFUSED.items() for sql in sqls])
def test_statements_outside_a_roles_rights_are_refused(logins, kind, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=r"permission denied|must be owner"):
        logins[kind].execute(statement)


def test_loader_can_do_what_the_load_step_does(conn, as_role):
    loader = as_role(LOADER_ROLE)
    with loader.transaction():
        period = {"period_start": "2026-01-04", "period_end": "2026-01-17"}
        run_file(loader, "upsert_service_period", {**period, "submission_deadline": "2026-01-31"})
        # A changed deadline (configuration) is recorded: only that column may change.
        run_file(loader, "upsert_service_period", {**period, "submission_deadline": "2026-02-06"})
        for run_id in ("r1", "r2"):
            audit = {"dag_id": "d", "period_start": "2026-01-04", "scope": "{}", "as_of": None, "as_known_at": None}
            run_file(loader, "start_run_audit", {**audit, "run_id": run_id})
        run_file(loader, "end_run_audit", {"ended_run_id": "r1", "status": "failed", "reason": "x"})
        run_file(loader, "record_period_load", {**period, "run_id": "r1", "checksum": "c", "lifecycle": "final"})
        run_file(loader, "record_period_load", {**period, "run_id": "r2", "checksum": "d", "lifecycle": "final"})
        version = {**period, "dag_id": "d", "loaded_by": "t", "scope": "{}", "checksum": "c", "lifecycle": "final"}
        run_file(loader, "record_period_version", {**version, "run_id": "r1", "kept_sites_json": "[]"})
        run_file(loader, "record_period_version", {**version, "run_id": "r2", "kept_sites_json": "[]"})
        loader.execute("DROP TABLE IF EXISTS pg_temp.pruned_run")
        run_file(loader, "prune_old_staging", {"retention": "-1 days"})  # a temporary table, then deletes
        loader.execute("SELECT pg_advisory_xact_lock(1, 2)")
    assert conn.execute("SELECT count(*) FROM history.period_version WHERE superseded_at IS NOT NULL").fetchone() == (
        1,
    )
    assert conn.execute("SELECT run_id FROM reconciled.run_audit WHERE staging_pruned_at IS NOT NULL").fetchall() == [
        ("r1",)
    ]


def test_tables_added_by_later_migrations_get_each_schemas_least_default(conn, as_role):
    """A table a later migration creates: SELECT for its readers, and of the writes only what every
    table of its schema needs (more is granted in that migration, with meta.ccms_grant)."""
    later = ("ref", "staging", "reconciled", "history")
    for schema in later:
        conn.execute(f"CREATE TABLE {schema}.zz_later_table (x int)")
    try:
        loader, reporter, sync = as_role(LOADER_ROLE), as_role(REPORTING_ROLE), as_role(SYNC_ROLE)
        for schema in ("staging", "reconciled", "history"):
            loader.execute(f"INSERT INTO {schema}.zz_later_table VALUES (1)")
        loader.execute("DELETE FROM staging.zz_later_table")
        sync.execute("INSERT INTO ref.zz_later_table VALUES (1)")
        sync.execute("UPDATE ref.zz_later_table SET x = 2")
        assert reporter.execute("SELECT count(*) FROM reconciled.zz_later_table").fetchone()[0] == 1
        assert loader.execute("SELECT x FROM ref.zz_later_table").fetchall() == [(2,)]
        for role, statement in [
            (loader, "INSERT INTO ref.zz_later_table VALUES (1)"),
            (loader, "DELETE FROM reconciled.zz_later_table"),
            (loader, "UPDATE reconciled.zz_later_table SET x = 2"),
            (loader, "DELETE FROM history.zz_later_table"),
            (loader, "UPDATE history.zz_later_table SET x = 2"),
            (loader, "UPDATE staging.zz_later_table SET x = 2"),
            (sync, "DELETE FROM ref.zz_later_table"),
            (reporter, "INSERT INTO reconciled.zz_later_table VALUES (2)"),
        ]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                role.execute(statement)
    finally:
        conn.execute(f"DROP TABLE {', '.join(f'{s}.zz_later_table' for s in later)}")
