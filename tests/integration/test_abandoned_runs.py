"""Issue 17.6: runs that stopped without loading are made visible, and staging does not grow forever.

Real plans against a real warehouse; Airflow's side (a DAG run it reports finished) is proven in
``tests/e2e/test_faults_warehouse.py``. Here the runs are unknown to Airflow (as runs of another
deployment, or after its metadata was cleaned), and their ages are set in the audit table.
"""

from __future__ import annotations

import datetime as dt

import pytest
from support.period_steps import AFTER_DEADLINES, run_ppp_period
from support.portal_state import PortalState

from ccms_attendance.canonical import Source
from ccms_attendance.periods import ServicePeriod, load_calendar
from ccms_attendance.pipeline.abandoned_runs import mark_run_failed, settle_runs, unknown_to_airflow
from ccms_attendance.pipeline.extract import extract_ppp
from ccms_attendance.pipeline.load import load_period
from ccms_attendance.pipeline.plan import plan_period
from ccms_attendance.pipeline.reconcile import reconcile_run, stage_reconciled
from ccms_attendance.pipeline.run_context import RunContext, RunStagingPrunedError
from ccms_attendance.pipeline.validate import validate_source
from ccms_attendance.warehouse.sql_files import fetch_one

PERIOD = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
DAY = dt.timedelta(days=1)
STAGING = ("site_plan", "source_record", "site_extract", "exception", "daily_attendance", "absence_summary",
           "site_period", "source_judged")  # fmt: skip


def _run(run_id: str) -> RunContext:
    return RunContext(run_id=run_id, dag_id="ccms_attendance_period", period=PERIOD)


def _settle(conn, by: str = "run-next"):
    return settle_runs(
        conn, _run(by), unknown_to_airflow, abandon_unknown_after=dt.timedelta(hours=24), staging_retention=7 * DAY
    )


def _audit(conn, run_id: str) -> tuple:
    row = conn.execute(
        "SELECT status, status_reason, finished_at IS NOT NULL, staging_pruned_at IS NOT NULL"
        " FROM reconciled.run_audit WHERE run_id = %s",
        (run_id,),
    ).fetchone()
    return tuple(row)


def _staged(conn, run_id: str) -> dict[str, int]:
    return {
        t: conn.execute(f"SELECT count(*) FROM staging.{t} WHERE run_id = %s", (run_id,)).fetchone()[0] for t in STAGING
    }


def _age(conn, run_id: str, column: str, days: float) -> None:
    conn.execute(
        f"UPDATE reconciled.run_audit SET {column} = now() - %s WHERE run_id = %s", (dt.timedelta(days=days), run_id)
    )


@pytest.fixture
def state(conn):
    PortalState(PERIOD).site("S-1", "CC-1").voucher("111", "S-1").absence("S-1", "111", dt.date(2026, 11, 9)).write(
        conn
    )


def test_a_run_left_running_is_marked_abandoned_by_a_later_plan(conn, state):
    for run_id in ("run-killed", "run-recent"):
        plan_period(conn, _run(run_id), load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
    _age(conn, "run-killed", "started_at", 2)  # e.g. its load task was SIGKILLed two days ago

    settled = _settle(conn)
    assert list(settled.abandoned) == ["run-killed"]
    status, reason, finished, pruned = _audit(conn, "run-killed")
    assert (status, finished, pruned) == ("abandoned", True, False)
    assert "still running in the warehouse since" in reason
    assert "Airflow does not know DAG run ccms_attendance_period run-killed" in reason
    # A run that may still be going on (started an hour ago) is left alone.
    assert _audit(conn, "run-recent")[0] == "running"
    # Its staging rows stay for the retention period (a cleared task may still use them).
    assert _staged(conn, "run-killed")["site_plan"] == 1


def test_staging_of_runs_finished_long_ago_is_pruned_and_their_tasks_refuse_to_go_on(conn, state):
    run_ppp_period(conn, _run("run-old"))
    run_ppp_period(conn, _run("run-new"))
    plan_period(conn, _run("run-failed"), load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
    mark_run_failed(conn, "run-failed", "reconcile failed: boom")
    assert _audit(conn, "run-failed")[:3] == ("failed", "reconcile failed: boom", True)
    assert all(_staged(conn, "run-old").values())
    before = fetch_one(conn, "period_checksums", {"period_start": PERIOD.start})
    for run_id in ("run-old", "run-failed"):
        _age(conn, run_id, "finished_at", 8)

    assert _settle(conn).pruned_runs == 2
    for run_id in ("run-old", "run-failed"):
        assert set(_staged(conn, run_id).values()) == {0}, run_id
        assert _audit(conn, run_id)[3], run_id
    assert _staged(conn, "run-new")["daily_attendance"] > 0  # loaded a moment ago: kept

    # The old run's load cleared by mistake refuses, instead of loading an empty period over the current one.
    with pytest.raises(RunStagingPrunedError, match="staging rows were pruned"):
        load_period(conn, _run("run-old"))
    with pytest.raises(RunStagingPrunedError, match=r"clear the whole run \(from plan_period\)"):
        reconcile_run(conn, _run("run-failed"))
    assert fetch_one(conn, "period_checksums", {"period_start": PERIOD.start}) == before
    # Planned again, the run starts afresh.
    plan_period(conn, _run("run-failed"), load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
    assert _audit(conn, "run-failed") == ("running", None, False, False)


def test_marking_a_run_failed_never_overrides_a_load(conn, state):
    run_ppp_period(conn, _run("run-1"))
    mark_run_failed(conn, "run-1", "report failed")
    assert _audit(conn, "run-1")[0] == "loaded"


def test_a_failed_run_whose_load_is_cleared_and_run_again_is_loaded(conn, state):
    run = _run("run-1")
    plan_period(conn, run, load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
    extract_ppp(conn, run)
    validate_source(conn, run, Source.PPP)
    stage_reconciled(conn, run, reconcile_run(conn, run))
    mark_run_failed(conn, "run-1", "load failed: connection refused")  # its load failed for good
    load_period(conn, run)  # the load task cleared and run again
    assert _audit(conn, "run-1")[:2] == ("loaded", None)
