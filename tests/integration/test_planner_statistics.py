"""Issue 20: each step that finishes a bulk write analyzes it (migration V019), as its own role.

Without it the planner saw a run's 3,000 planned sites as 8 rows and compared every planned site
with every voucher (15.9 s at 120,000 children, 23 ms analyzed; docs/performance.md). Counted with
``pg_stat_user_tables.analyze_count``: manual ANALYZEs only, never autovacuum's.
"""

from __future__ import annotations

import datetime as dt
import logging

import psycopg
import pytest
from support.period_steps import run_ppp_period
from support.portal_state import PortalState

from ccms_attendance.periods import ServicePeriod
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.warehouse import statistics
from ccms_attendance.warehouse.target import LOADER_ROLE, REPORTING_ROLE, SYNC_ROLE

PERIOD = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
RUN_TABLES = ("staging.site_plan", "staging.site_extract", "staging.quarantine", "reconciled.daily_attendance")


def _analyze_counts(conn: psycopg.Connection, tables: tuple[str, ...]) -> dict[str, int]:
    rows = conn.execute(
        "SELECT relid::regclass::text, analyze_count FROM pg_stat_user_tables WHERE relid = ANY(%s::regclass[])",
        (list(tables),),
    ).fetchall()
    return dict(rows)


def test_a_period_run_analyzes_its_plan_and_extract_outcomes_as_the_loader(conn):
    PortalState(PERIOD).site("S-1", "CC-1").voucher("111", "S-1").absence("S-1", "111", dt.date(2026, 11, 9)).write(
        conn
    )
    before = _analyze_counts(conn, RUN_TABLES)
    run_ppp_period(conn, RunContext(run_id="run-1", dag_id="ccms_attendance_period", period=PERIOD))
    after = _analyze_counts(conn, RUN_TABLES)
    assert {table: after[table] - before[table] for table in RUN_TABLES} == dict.fromkeys(RUN_TABLES, 1)
    # The planner now knows the run's plan holds one row (never analyzed, reltuples is -1).
    assert conn.execute("SELECT reltuples FROM pg_class WHERE oid = 'staging.site_plan'::regclass").fetchone() == (1,)


def test_only_the_writer_analyzes_staging_and_only_the_intake_ref(conn, warehouse):
    roles = {kind: warehouse.as_role(kind).conninfo for kind in (LOADER_ROLE, REPORTING_ROLE, SYNC_ROLE)}
    with (
        psycopg.connect(roles[LOADER_ROLE], autocommit=True) as loader,
        psycopg.connect(roles[REPORTING_ROLE], autocommit=True) as reporter,
        psycopg.connect(roles[SYNC_ROLE], autocommit=True) as sync,
    ):
        tables = ("staging.site_plan", "ref.voucher", "portal.manual_entry")
        before = _analyze_counts(conn, tables)
        loader.execute("SELECT staging.analyze_tables(ARRAY['site_plan'])")
        sync.execute("SELECT ref.analyze_after_intake()")
        after = _analyze_counts(conn, tables)
        assert {table: after[table] - before[table] for table in tables} == dict.fromkeys(tables, 1)
        for role, statement in (
            (reporter, "SELECT staging.analyze_tables(ARRAY['site_plan'])"),
            (reporter, "SELECT ref.analyze_after_intake()"),
            (sync, "SELECT staging.analyze_tables(ARRAY['site_plan'])"),
            (loader, "SELECT ref.analyze_after_intake()"),
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                role.execute(statement)
        # A name is a table of staging, never resolved elsewhere (the owner's function runs it).
        for name in ("voucher", "ref.voucher", 'site_plan"; DROP TABLE staging.site_plan; --'):
            with pytest.raises(psycopg.errors.RaiseException, match="no table staging"):
                loader.execute("SELECT staging.analyze_tables(%s)", ([name],))
    assert conn.execute("SELECT to_regclass('staging.site_plan') IS NOT NULL").fetchone() == (True,)


def test_an_analyze_that_cannot_get_its_lock_is_a_warning_and_the_step_goes_on(conn, warehouse, monkeypatch, caplog):
    monkeypatch.setattr(statistics, "LOCK_TIMEOUT", "200ms")
    with psycopg.connect(warehouse.conninfo) as holder:
        holder.execute("LOCK TABLE staging.site_plan IN SHARE UPDATE EXCLUSIVE MODE")  # as a running ANALYZE does
        with caplog.at_level(logging.WARNING, logger=statistics.__name__):
            assert not statistics.analyze_staging(conn, ["site_plan"], "run-x: planned")
    assert "run-x: planned: committed, but ANALYZE failed" in caplog.text
    assert "lock timeout" in caplog.text
    assert conn.execute("SELECT 1").fetchone() == (1,)  # the connection is usable: the step goes on
    assert statistics.analyze_staging(conn, ["site_plan"], "run-x: planned")
