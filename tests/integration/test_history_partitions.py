"""Issue 20: history's big tables are partitioned by period (migration V016).

The migration converts existing history with its data, indexes, checks and grants; a load adds its
period's partitions and writes the replaced version into them; a period-scoped query reads one
partition; the load ANALYZEs what it swapped after it committed; partitions are append-only for the
loader like their parents.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
from pathlib import Path

import psycopg
import pytest
from support.period_steps import run_ppp_period
from support.portal_state import PortalState
from support.roles import acting_as

from ccms_attendance.periods import ServicePeriod
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.warehouse.migrate import MIGRATIONS_DIR, apply_migrations
from ccms_attendance.warehouse.sql_files import query
from ccms_attendance.warehouse.target import LOADER_ROLE, REPORTING_ROLE, drop_database, role_name

PERIOD = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
NEXT = dt.date(2026, 11, 22)
PARTITIONED = ("daily_attendance", "absence_summary", "exception")
INDEXES = {
    "daily_attendance": "history_daily_version_idx",
    "absence_summary": "history_summary_version_idx",
    "exception": "history_exception_version_idx",
}
OLD_PERIODS = [dt.date(2026, 8, 2), dt.date(2026, 8, 16), dt.date(2026, 8, 30)]


def _partitions(conn: psycopg.Connection, table: str) -> dict[str, str]:
    """Partition name -> its bound, of history.<table>."""
    rows = conn.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = %s::regclass ORDER BY 1",
        (f"history.{table}",),
    ).fetchall()
    return dict(rows)


def _fill_pre_v016_history(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    """Rows of three periods in the unpartitioned tables, as V004..V015 left them."""
    for number, period in enumerate(OLD_PERIODS, start=1):
        params = {"p": period, "n": 10 * number}
        conn.execute(
            "INSERT INTO history.daily_attendance (period_start, site_id, child_id, attendance_date, voucher_id,"
            " program, status, basis, day_code, source, source_record_id, run_id, superseded_by_run)"
            " SELECT %(p)s, 'S-' || (i %% 3), 'C' || i, %(p)s + 1, 'V' || i, 'CCDF', 'present', 'recorded', 'PR',"
            " 'PPP', 'R' || i, 'run-a', 'run-b' FROM generate_series(1, %(n)s) i",
            params,
        )
        conn.execute(
            "INSERT INTO history.absence_summary (period_start, site_id, child_id, operating_days, enrolled_days,"
            " absent_days, source, complete, run_id, superseded_by_run, lifecycle)"
            " SELECT %(p)s, 'S-1', 'C' || i, 10, 10, 1, 'PPP', true, 'run-a', 'run-b', 'final'"
            " FROM generate_series(1, %(n)s / 2) i",
            params,
        )
        conn.execute(
            "INSERT INTO history.exception (period_start, run_id, kind, severity, site_id, detail, superseded_by_run)"
            " SELECT %(p)s, 'run-a', 'source_disagreement', 'info', 'S-1', 'd' || i, 'run-b'"
            " FROM generate_series(1, %(n)s / 5) i",
            params,
        )
    return {table: _contents(conn, table) for table in PARTITIONED}


def _contents(conn: psycopg.Connection, table: str) -> list[tuple]:
    return conn.execute(f"SELECT to_jsonb(t)::text FROM history.{table} t ORDER BY 1").fetchall()


def _migrations_through(version: int, folder: Path) -> Path:
    shutil.copytree(MIGRATIONS_DIR, folder)
    for later in folder.glob("V*.sql"):
        if int(later.name[1:4]) > version:
            later.unlink()
    return folder


@pytest.fixture
def migrated_before_v016(pg_admin, tmp_path):
    name = f"ccms_v016_conversion_{secrets.token_hex(4)}"  # private: the server is shared
    with psycopg.connect(pg_admin.conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    target = pg_admin.with_database(name)
    apply_migrations(target.conninfo, _migrations_through(15, tmp_path / "before"))
    yield target
    drop_database(pg_admin.conninfo, name)


def test_the_migration_moves_existing_history_into_period_partitions(migrated_before_v016, tmp_path):
    target = migrated_before_v016
    with psycopg.connect(target.conninfo, autocommit=True) as conn:
        rows = _fill_pre_v016_history(conn)
        constraints = _check_constraints(conn)
    assert apply_migrations(target.conninfo, _migrations_through(16, tmp_path / "v016")) == [16]
    with psycopg.connect(target.conninfo, autocommit=True) as conn:
        loader, reporter = (role_name(conn.info.dbname, kind) for kind in (LOADER_ROLE, REPORTING_ROLE))
        for table in PARTITIONED:
            assert conn.execute(
                "SELECT relkind FROM pg_class WHERE oid = %s::regclass", (f"history.{table}",)
            ).fetchone() == ("p",)
            assert _contents(conn, table) == rows[table], table  # every row, every column, unchanged
            assert _partitions(conn, table) == {
                f"{table}_p{p:%Y%m%d}": f"FOR VALUES IN ('{p.isoformat()}')" for p in OLD_PERIODS
            }
            # each row in its period's partition, and a period's count unchanged
            placed = conn.execute(
                f"SELECT tableoid::regclass::text, period_start, count(*) FROM history.{table} GROUP BY 1, 2 ORDER BY 2"
            ).fetchall()
            assert [(part, p) for part, p, _ in placed] == [(f"history.{table}_p{p:%Y%m%d}", p) for p in OLD_PERIODS]
            # the index (partitioned, so on every partition) and the grants of V010
            assert (
                conn.execute(
                    "SELECT indexdef FROM pg_indexes WHERE schemaname = 'history' AND indexname = %s", (INDEXES[table],)
                )
                .fetchone()[0]
                .endswith(f"ON ONLY history.{table} USING btree (period_start, run_id)")
            )
            for relation in (f"history.{table}", *(f"history.{p}" for p in _partitions(conn, table))):
                assert _privileges(conn, loader, relation) == {"SELECT", "INSERT"}, relation
                assert _privileges(conn, reporter, relation) == {"SELECT"}, relation
                assert conn.execute(
                    "SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", (relation,)
                ).fetchone() == (1,)
        assert _check_constraints(conn) == constraints
        assert conn.execute("SELECT to_regclass('history.daily_attendance_v015')").fetchone() == (None,)
    # Later migrations change a partitioned table and its partitions alike (V017 drops checks).
    apply_migrations(target.conninfo)
    with psycopg.connect(target.conninfo, autocommit=True) as conn:
        after = _check_constraints(conn)
        for table in PARTITIONED:
            for part in _partitions(conn, table):
                name = f"history.{part}"
                assert _check_constraints(conn, name)[name] == after[f"history.{table}"], part
            assert _contents(conn, table) == rows[table], table


def _check_constraints(conn: psycopg.Connection, *tables: str) -> dict[str, list[tuple]]:
    return {
        table: conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY 1",
            (table,),
        ).fetchall()
        for table in tables or [f"history.{t}" for t in PARTITIONED]
    }


def _privileges(conn: psycopg.Connection, role: str, relation: str) -> set[str]:
    return {
        p
        for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
        if conn.execute("SELECT has_table_privilege(%s, %s, %s)", (role, relation, p)).fetchone()[0]
    }


@pytest.fixture
def state(conn):
    PortalState(PERIOD).site("S-1", "CC-1").voucher("111", "S-1").voucher("112", "S-1").absence(
        "S-1", "111", dt.date(2026, 11, 9)
    ).write(conn)


def _run(run_id: str) -> RunContext:
    return RunContext(run_id=run_id, dag_id="ccms_attendance_period", period=PERIOD)


def test_a_rerun_writes_the_replaced_version_into_its_period_partition_and_analyzes(conn, state):
    first = run_ppp_period(conn, _run("run-1"))
    assert {"partitions", "analyze"} <= set(first["timings"])
    rerun = run_ppp_period(conn, _run("run-2"))
    for table in PARTITIONED:
        assert f"{table}_p20261108" in _partitions(conn, table)
    placed = conn.execute(
        "SELECT tableoid::regclass::text, run_id, superseded_by_run, count(*)"
        " FROM history.daily_attendance GROUP BY 1, 2, 3"
    ).fetchall()
    assert [row[:3] for row in placed] == [("history.daily_attendance_p20261108", "run-1", "run-2")]
    assert placed[0][3] == conn.execute("SELECT count(*) FROM reconciled.daily_attendance").fetchone()[0] > 0
    # ANALYZE ran after the load (as the loader, through the owner's function): statistics exist
    # for the reconciled tables and for the period's history partition, and the audit timed it.
    for table in ("reconciled.daily_attendance", "reconciled.absence_summary", "history.daily_attendance_p20261108"):
        schema, name = table.split(".")
        assert (
            conn.execute(
                "SELECT count(*) FROM pg_stats WHERE schemaname = %s AND tablename = %s", (schema, name)
            ).fetchone()[0]
            > 0
        ), table
    # ... and the statistics count each row once (the load's counts reached them before ANALYZE's).
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT 1")
    for table in ("reconciled.daily_attendance", "history.daily_attendance_p20261108"):
        live, dead = conn.execute(
            "SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables WHERE relid = %s::regclass", (table,)
        ).fetchone()
        assert live == placed[0][3], table  # (autovacuum, where on, may have vacuumed the dead rows)
        assert dead <= (0 if table.startswith("history") else placed[0][3]), table
    audited = conn.execute("SELECT timings FROM reconciled.run_audit WHERE run_id = 'run-2'").fetchone()[0]
    assert audited == rerun["timings"]
    assert audited["analyze"] >= 0


def test_a_period_query_on_history_reads_only_its_partition(conn, state):
    run_ppp_period(conn, _run("run-1"))
    run_ppp_period(conn, _run("run-2"))
    # A period no other test loads: partitions are tables, which outlive the rows a test leaves.
    unused = dt.date(2031, 3, 2)
    with acting_as(conn):
        assert conn.execute(query("add_history_partitions"), {"period_start": unused}).fetchone() == (3,)
        assert conn.execute(query("add_history_partitions"), {"period_start": unused}).fetchone() == (0,)
    assert len(_partitions(conn, "absence_summary")) >= 2
    params = {"period_start": PERIOD.start, "run_id": "run-2"}
    # as the load sends it (server-side parameters), and as a generic plan of a prepared statement
    plans = [conn.execute("EXPLAIN (FORMAT JSON) " + query("children_changed_by_load"), params).fetchone()[0]]
    with conn.transaction():
        conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        conn.execute(
            "PREPARE changed(date, text) AS "
            + query("children_changed_by_load").replace("%(period_start)s", "$1").replace("%(run_id)s", "$2")
        )
        plans.append(conn.execute(f"EXPLAIN (FORMAT JSON) EXECUTE changed('{PERIOD.start}', 'run-2')").fetchone()[0])
        conn.execute("DEALLOCATE changed")
    for plan in plans:
        text = json.dumps(plan)
        history = {name for name in _relations(plan) if name.startswith("absence_summary_p")}
        assert history == {"absence_summary_p20261108"}, text
    # and the rows it finds are the ones the rerun replaced
    changed = conn.execute(query("children_changed_by_load"), params).fetchall()
    assert changed == [("111",), ("112",)]


def _relations(plan: object) -> set[str]:
    """Every relation a JSON plan scans."""
    found: set[str] = set()
    if isinstance(plan, dict):
        if "Relation Name" in plan:
            found.add(plan["Relation Name"])
        for value in plan.values():
            found |= _relations(value)
    elif isinstance(plan, list):
        for item in plan:
            found |= _relations(item)
    return found


def test_partitions_are_append_only_and_only_the_loader_may_add_or_analyze(conn, warehouse):
    with acting_as(conn):
        conn.execute(query("add_history_partitions"), {"period_start": NEXT})
    partition = f"history.daily_attendance_p{NEXT:%Y%m%d}"
    loader = psycopg.connect(warehouse.as_role(LOADER_ROLE).conninfo, autocommit=True)
    reporter = psycopg.connect(warehouse.as_role(REPORTING_ROLE).conninfo, autocommit=True)
    with loader, reporter:
        loader.execute("SELECT reconciled.analyze_after_load(%s)", (NEXT,))
        refused = [f"DELETE FROM {partition}", f"TRUNCATE {partition}", f"UPDATE {partition} SET run_id = ''"]
        refused += [f"DROP TABLE {partition}", f"ALTER TABLE history.daily_attendance DETACH PARTITION {partition}"]
        for statement in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                loader.execute(statement)
        for statement in (
            "SELECT history.add_period_partitions('2027-01-03')",
            "SELECT reconciled.analyze_after_load('2026-11-08')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reporter.execute(statement)
        assert reporter.execute(f"SELECT count(*) FROM {partition}").fetchone() == (0,)
