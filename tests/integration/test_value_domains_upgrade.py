"""Upgrading a loaded warehouse to V017 (value lists as domains) changes no period checksum, and a
rerun of the same inputs afterwards loads the very checksum recorded before."""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
from pathlib import Path

import psycopg
import pytest
from support.period_steps import run_ppp_period
from support.portal_state import PortalState

from ccms_attendance.periods import ServicePeriod
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.warehouse.migrate import apply_migrations, discover
from ccms_attendance.warehouse.sql_files import fetch_one
from ccms_attendance.warehouse.target import drop_database

DOMAINS_VERSION = 17
PERIOD = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
MONDAY = dt.date(2026, 11, 9)
RETYPED = (
    "reconciled.daily_attendance.status",
    "history.daily_attendance.day_code",
    "reconciled.absence_summary.lifecycle",
    "ref.voucher.program",
)


#: Later migrations the current code needs to write the "before" state, independent of V017: the
#: validate task's record of judged sources (V020, a staging table), applied before V017 here.
NEEDED_BY_THE_CODE = (20,)


def migrations_through(version: int, folder: Path, plus: tuple[int, ...] = ()) -> Path:
    """A folder holding the migrations up to ``version`` (the later ones change other things) and ``plus``."""
    folder.mkdir()
    for migration in discover():
        if migration.version <= version or migration.version in plus:
            shutil.copy(migration.path, folder / migration.path.name)
    return folder


@pytest.fixture
def before_domains(pg_admin, tmp_path):
    """A new warehouse migrated up to (not including) V017, and the directory of those migrations."""
    name = f"ccms_domains_{secrets.token_hex(4)}"
    with psycopg.connect(pg_admin.conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    target = pg_admin.with_database(name)
    apply_migrations(target.conninfo, migrations_through(DOMAINS_VERSION - 1, tmp_path / "before", NEEDED_BY_THE_CODE))
    yield target
    drop_database(pg_admin.conninfo, name)  # and its roles


def _state() -> PortalState:
    """A submitted site (absences, an off day, a closure) and one that never submitted (pending days)."""
    state = PortalState(PERIOD)
    state.site("S-1", "CC-1").submission("S-1", PERIOD.start).closure("S-1", MONDAY + dt.timedelta(days=3))
    state.voucher("101", "S-1").voucher("102", "S-1", program="OMW", scheduled_weekdays=(1, 3, 5))
    state.absence("S-1", "101", MONDAY).absence("S-1", "102", MONDAY + dt.timedelta(days=7), code="OD")
    state.site("S-2", "CC-2").voucher("201", "S-2")
    return state


def _snapshot(conn: psycopg.Connection) -> dict:
    checksums = fetch_one(conn, "period_checksums", {"period_start": PERIOD.start})
    recorded = conn.execute("SELECT checksum, lifecycle FROM reconciled.period_load").fetchall()
    versions = conn.execute("SELECT checksum, lifecycle FROM history.period_version ORDER BY version_no").fetchall()
    views = conn.execute(
        "SELECT c.oid::regclass::text, pg_get_viewdef(c.oid), c.relacl::text[] FROM pg_class c"
        " WHERE c.relkind = 'v' AND c.relnamespace::regnamespace::text IN ('ref', 'portal') ORDER BY 1"
    ).fetchall()
    return {"checksums": checksums, "recorded": recorded, "versions": versions, "views": views}


def _types(conn: psycopg.Connection) -> list[str]:
    return [
        conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
            column.rsplit(".", 1),
        ).fetchone()[0]
        for column in RETYPED
    ]


def test_v017_keeps_every_period_checksum_and_a_rerun_loads_the_same_one(before_domains, tmp_path):
    with psycopg.connect(before_domains.conninfo, autocommit=True) as conn:
        _state().write(conn)
        first = run_ppp_period(conn, RunContext(run_id="before-v017", dag_id="ccms_attendance_period", period=PERIOD))
        # A second version, so history holds a superseded one too.
        run_ppp_period(conn, RunContext(run_id="before-v017-again", dag_id="ccms_attendance_period", period=PERIOD))
        assert _types(conn) == ["text"] * len(RETYPED)
        before = _snapshot(conn)
        daily = conn.execute(
            "SELECT status, day_code, basis, count(*) FROM reconciled.daily_attendance"
            " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ).fetchall()
    # The inputs cover what the domains hold: codes, a closure, an off day, pending days, two programs.
    assert {status for status, *_ in daily} == {"absent", "closed", "off_day", "pending", "present"}
    assert before["checksums"]["exceptions"] > 0
    assert before["recorded"] == [(first["daily_attendance"], "final")]

    applied = apply_migrations(before_domains.conninfo, migrations_through(DOMAINS_VERSION, tmp_path / "with"))
    assert applied == [DOMAINS_VERSION]

    with psycopg.connect(before_domains.conninfo, autocommit=True) as conn:
        assert _types(conn) == [
            "meta.attendance_status",
            "meta.day_code",
            "meta.period_lifecycle",
            "meta.reported_program",
        ]
        assert _snapshot(conn) == before  # the same checksums, versions, views and view privileges
    apply_migrations(before_domains.conninfo)  # the later ones, which the code running the rerun expects
    with psycopg.connect(before_domains.conninfo, autocommit=True) as conn:
        rerun = run_ppp_period(conn, RunContext(run_id="after-v017", dag_id="ccms_attendance_period", period=PERIOD))
        assert {k: rerun[k] for k in ("daily_attendance", "absence_summary", "exception")} == {
            k: before["checksums"][k] for k in ("daily_attendance", "absence_summary", "exception")
        }
        assert conn.execute("SELECT checksum FROM reconciled.period_load").fetchone()[0] == before["recorded"][0][0]
        audited = dict(conn.execute("SELECT run_id, checksums FROM reconciled.run_audit").fetchall())
        assert audited["after-v017"] == audited["before-v017"]
