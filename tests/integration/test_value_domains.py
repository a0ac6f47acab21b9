"""Value lists as domains (migration V017): each list is written once in SQL, agrees with every Python
list of the same values, types every column holding it, and hashes as text, so period checksums
recorded before V017 still match the same rows after it."""

from __future__ import annotations

import re
from collections.abc import Iterable

import psycopg
import pytest
from psycopg import sql

from ccms_attendance.canonical import REPORTED_PROGRAMS, Source
from ccms_attendance.intake.contract import ENTITIES, METHODS
from ccms_attendance.rules.day_codes import CLOSURE_CODES, STATUS_BY_CODE, DayCode
from ccms_attendance.rules.exception_kinds import Severity
from ccms_attendance.rules.lifecycle import Lifecycle, PendingBasis
from ccms_attendance.rules.missing_data import PENDING_STATUS
from ccms_attendance.validation import suite_definitions as suites
from ccms_attendance.warehouse.target import LOADER_ROLE, REPORTING_ROLE, SYNC_ROLE

DATA_SCHEMAS = ("ref", "portal", "staging", "reconciled", "history")

#: Every Python list of a domain's values (they must all equal the domain's CHECK).
PYTHON_LISTS: dict[str, list[Iterable[str]]] = {
    "attendance_source": [Source, METHODS, suites.SOURCES],
    "reported_program": [REPORTED_PROGRAMS, suites.PROGRAMS],
    "attendance_status": [suites.DAILY_STATUSES, {*STATUS_BY_CODE.values(), PENDING_STATUS}],
    "attendance_basis": [suites.BASES],
    "day_code": [DayCode, suites.DAY_CODES],
    "pending_basis": [PendingBasis, suites.PENDING_BASES],
    "period_lifecycle": [[stage for stage in Lifecycle if stage is not Lifecycle.OPEN]],  # open is never loaded
    "severity": [Severity],
}

#: The columns of each domain (partitions, if a table has them, follow their parent).
COLUMNS = {
    "attendance_source": {
        *(f"{s}.daily_attendance.source" for s in ("staging", "reconciled", "history")),
        "portal.data_entry_selection.method",
        "ref.site_closure.reported_via",
    },
    "reported_program": {
        *(f"{s}.daily_attendance.program" for s in ("staging", "reconciled", "history")),
        "ref.voucher.program",
    },
    "attendance_status": {f"{s}.daily_attendance.status" for s in ("staging", "reconciled", "history")},
    "attendance_basis": {f"{s}.daily_attendance.basis" for s in ("staging", "reconciled", "history")},
    "day_code": {
        *(f"{s}.daily_attendance.day_code" for s in ("staging", "reconciled", "history")),
        "portal.manual_entry.day_code",
        "ref.site_closure.closure_kind",
    },
    "pending_basis": {"staging.site_period.incomplete_kind", "reconciled.site_period.incomplete_kind"},
    "period_lifecycle": {
        "staging.site_period.lifecycle",
        "reconciled.site_period.lifecycle",
        *(f"{s}.absence_summary.lifecycle" for s in ("staging", "reconciled", "history")),
        "reconciled.period_load.lifecycle",
        "history.period_version.lifecycle",
    },
    "severity": {f"{s}.exception.severity" for s in ("staging", "reconciled", "history")},
}

_LITERAL = re.compile(r"'((?:[^']|'')*)'::text")


def _literals(definition: str) -> set[str]:
    return {value.replace("''", "'") for value in _LITERAL.findall(definition)}


def domain_values(conn: psycopg.Connection) -> dict[str, set[str]]:
    """Each meta domain's values, read from its CHECK in pg_catalog."""
    rows = conn.execute(
        "SELECT t.typname, pg_get_constraintdef(c.oid) FROM pg_type t JOIN pg_constraint c ON c.contypid = t.oid"
        " WHERE t.typtype = 'd' AND t.typnamespace = 'meta'::regnamespace AND c.contype = 'c'"
    ).fetchall()
    values: dict[str, set[str]] = {}
    for name, definition in rows:
        assert name not in values, f"meta.{name}: one CHECK per domain, its list"
        values[name] = _literals(definition)
    return values


def accepted(conn: psycopg.Connection, table: str, column: str, candidates: Iterable[str]) -> set[str]:
    """Which ``candidates`` the column takes: its type (a domain's CHECK) and its table's CHECKs on it alone."""
    schema, name = table.split(".")
    column_type, checks = conn.execute(
        "SELECT format_type(a.atttypid, a.atttypmod),"
        "       array_agg(pg_get_expr(c.conbin, c.conrelid)) FILTER (WHERE c.oid IS NOT NULL)"
        "  FROM pg_attribute a LEFT JOIN pg_constraint c"
        "    ON c.conrelid = a.attrelid AND c.contype = 'c' AND c.conkey = ARRAY[a.attnum]"
        " WHERE a.attrelid = %s::regclass AND a.attname = %s GROUP BY 1",
        (f"{schema}.{name}", column),
    ).fetchone()
    probe = sql.SQL("SELECT {} FROM (SELECT CAST(%s AS {}) AS {}) AS candidate").format(
        sql.SQL(" AND ".join(f"({check})" for check in checks or ["true"])),
        sql.SQL(column_type),
        sql.Identifier(column),
    )
    taken = set()
    for value in candidates:
        try:
            if conn.execute(probe, (value,)).fetchone()[0]:
                taken.add(value)
        except psycopg.errors.CheckViolation:
            pass
    return taken


@pytest.mark.parametrize("domain", sorted(PYTHON_LISTS))
def test_each_python_list_is_its_domains_list(conn, domain):
    in_sql = domain_values(conn)[domain]
    assert in_sql
    for python in PYTHON_LISTS[domain]:
        assert {str(value) for value in python} == in_sql


def test_every_domain_has_its_python_lists_and_its_columns(conn):
    assert set(domain_values(conn)) == set(PYTHON_LISTS) == set(COLUMNS)


def test_every_column_of_a_value_list_is_of_its_domain(conn):
    rows = conn.execute(
        "SELECT t.typname, n.nspname || '.' || c.relname || '.' || a.attname"
        "  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        "  JOIN pg_type t ON t.oid = a.atttypid"
        " WHERE t.typtype = 'd' AND t.typnamespace = 'meta'::regnamespace AND c.relkind IN ('r', 'p')"
        "   AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped"
    ).fetchall()
    found: dict[str, set[str]] = {}
    for domain, column in rows:
        found.setdefault(domain, set()).add(column)
    assert found == COLUMNS


def test_no_table_check_copies_a_domains_list(conn):
    """A CHECK listing exactly a domain's values is a copy that would drift: use the domain."""
    lists = {frozenset(values): name for name, values in domain_values(conn).items()}
    checks = conn.execute(
        "SELECT format('%%s.%%s', conrelid::regclass, conname), pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'c' AND connamespace::regnamespace::text = ANY(%s)",
        (list(DATA_SCHEMAS),),
    ).fetchall()
    assert checks
    copies = {name: lists[frozenset(_literals(text))] for name, text in checks if frozenset(_literals(text)) in lists}
    assert copies == {}


def test_the_intake_contract_allows_what_each_column_takes(conn):
    lists = domain_values(conn)
    compared = 0
    for entity in ENTITIES:
        for column in entity.columns:
            if not column.allowed:
                continue
            candidates = {*column.allowed, *(v for values in lists.values() for v in values), "", "bogus"}
            assert accepted(conn, entity.table, column.name, candidates) == set(column.allowed), (entity.table, column)
            compared += 1
    assert compared >= 5


def test_the_portal_and_the_closure_register_take_their_day_codes_only(conn):
    every_code = {str(code) for code in DayCode}
    assert accepted(conn, "portal.manual_entry", "day_code", every_code) == set(suites.PPP_DAY_CODES)
    assert accepted(conn, "ref.site_closure", "closure_kind", every_code) == set(CLOSURE_CODES)


def test_a_value_outside_its_list_is_refused_by_the_domain(conn):
    with pytest.raises(psycopg.errors.CheckViolation, match="attendance_status_valid"):
        conn.execute(
            "INSERT INTO reconciled.daily_attendance (period_start, site_id, child_id, attendance_date, voucher_id,"
            " program, status, basis, day_code, source, run_id) VALUES ('2026-11-08', 'S', 'C', '2026-11-09', 'V',"
            " 'CCDF', 'late', 'recorded', 'PR', 'PPP', 'r')"
        )
    with pytest.raises(psycopg.errors.CheckViolation, match="severity_valid"):
        conn.execute(
            "INSERT INTO history.exception (period_start, run_id, kind, severity, detail, superseded_by_run)"
            " VALUES ('2026-11-08', 'r', 'k', 'fatal', 'x', 'r2')"
        )


def test_a_domain_hashes_as_its_text_where_an_enum_would_not(conn):
    """Why domains and not enums: period_checksums.sql hashes records of these columns."""
    statuses = sorted(domain_values(conn)["attendance_status"])
    with conn.transaction(force_rollback=True):
        conn.execute(
            sql.SQL("CREATE TYPE pg_temp.status_enum AS ENUM ({})").format(
                sql.SQL(", ").join(map(sql.Literal, statuses))
            )
        )
        hashes = conn.execute(
            "SELECT hash_record_extended(ROW(s, s), 0),"
            "       hash_record_extended(ROW(s::meta.attendance_status, s::meta.attendance_status), 0),"
            "       hash_record_extended(ROW(s::pg_temp.status_enum, s::pg_temp.status_enum), 0)"
            "  FROM unnest(%s::text[]) AS s",
            (statuses,),
        ).fetchall()
    assert len(hashes) == 5
    assert all(as_text == as_domain for as_text, as_domain, _ in hashes)
    assert all(as_text != as_enum for as_text, _, as_enum in hashes)


def test_every_role_may_use_the_domains_and_clients_read_them_as_text(conn, warehouse):
    """USAGE on a type is PUBLIC's by default; no role needs a grant to write or read a domain column."""
    domains = sorted(domain_values(conn))
    for kind in (LOADER_ROLE, REPORTING_ROLE, SYNC_ROLE):
        role = warehouse.as_role(kind).user
        for domain in domains:
            assert conn.execute("SELECT has_type_privilege(%s, %s, 'USAGE')", (role, f"meta.{domain}")).fetchone()[0]
    conn.execute(
        "INSERT INTO reconciled.exception (period_start, run_id, kind, severity, detail)"
        " VALUES ('2026-11-08', 'r', 'k', 'warning', 'x')"
    )
    with psycopg.connect(warehouse.as_role(REPORTING_ROLE).conninfo) as reporter:
        cursor = reporter.execute("SELECT severity FROM reconciled.exception WHERE severity = 'warning'")
        assert cursor.fetchall() == [("warning",)]
        assert cursor.description[0].type_code == 25  # text: a domain column is described by its base type
