"""Both runs of a period created by the schedule itself: a real scheduler, dag-processor, api-server.

The deployment's calendar is a file listing one past period whose submission deadline has passed
(`CCMS_PIPELINE_CONFIG` names the test's pipeline.toml, as a deployment would name its own). Once the
two DAGs are unpaused, with nobody triggering anything, the scheduler creates the provisional run
(`ccms_attendance_period`, due when the period closed) and the final run (`ccms_attendance_period_final`,
due at its submission deadline) of that period; both load it, and the current version is final.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from support.portal_state import PortalState

from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.periods import load_calendar
from ccms_attendance.warehouse.target import LOADER_ROLE, WAREHOUSE_CONN_ENV
from devtools.stack.airflow_stack import airflow_stack

pytestmark = pytest.mark.e2e

PROVISIONAL_DAG, FINAL_DAG = "ccms_attendance_period", "ccms_attendance_period_final"
_calendar = load_calendar()
_latest = _calendar.previous_period(_calendar.period_containing(dt.datetime.now(STATE_TIMEZONE).date()))
PERIOD = _calendar.previous_period(_latest)  # its deadline (its end + 14 days) is before today


def pipeline_config(folder: Path) -> Path:
    """The project's pipeline.toml with a one-period calendar file and no grace."""
    (folder / "calendar.csv").write_text(f"period_start,period_end\n{PERIOD.start},{PERIOD.end}\n")
    config = folder / "pipeline.toml"
    text = (Path(__file__).resolve().parents[2] / "src/ccms_attendance/config/pipeline.toml").read_text()
    text = text.replace('calendar_file = ""', 'calendar_file = "calendar.csv"').replace(
        "grace_hours = 24", "grace_hours = 0"
    )
    assert 'calendar_file = "calendar.csv"' in text
    assert "grace_hours = 0" in text
    config.write_text(text)
    return config


def test_the_schedule_creates_the_provisional_and_the_final_run_of_a_period(pg_admin, warehouse, conn, tmp_path):
    state = PortalState(PERIOD)
    state.site("S-1", "CC-SCHED-1").voucher("951", "S-1").submission("S-1", PERIOD.start)
    state.absence("S-1", "951", PERIOD.start + dt.timedelta(days=2))
    state.write(conn)
    env = {
        WAREHOUSE_CONN_ENV: warehouse.as_role(LOADER_ROLE).airflow_uri,
        "CCMS_TASK_RETRIES": "0",
        "CCMS_PIPELINE_CONFIG": str(pipeline_config(tmp_path)),
        "CCMS_REPORTS_DIR": str(tmp_path / "reports"),
        "CCMS_DATA_DOCS_DIR": str(tmp_path / "data_docs"),
    }
    with airflow_stack(tmp_path / "airflow_home", pg_admin, env, executor="LocalExecutor") as stack:
        for dag_id in (PROVISIONAL_DAG, FINAL_DAG):
            stack.wait_for_dag(dag_id)
            stack.unpause(dag_id)
        [provisional] = stack.wait_for_runs(PROVISIONAL_DAG, run_type="scheduled", count=1, timeout=240)
        [final] = stack.wait_for_runs(FINAL_DAG, run_type="scheduled", count=1, timeout=240)
        for run in (provisional, final):
            assert run["state"] == "success", (
                f"{stack.task_states(run['dag_id'], run['run_id'])}\n{stack.diagnostics()}"
            )
        assert stack.runs(PROVISIONAL_DAG) == [provisional]  # nobody else created a run
        assert stack.runs(FINAL_DAG) == [final]

    assert provisional["run_id"] == f"provisional__{PERIOD.start}"
    assert final["run_id"] == f"final__{PERIOD.start}"
    start = PERIOD.start_instant().astimezone(dt.UTC)
    assert provisional["data_interval_start"] == final["data_interval_start"] == start
    # The final phase is due at the deadline: midnight after its last day, 14 days after the period.
    assert final["run_after"] == _calendar.deadline_instant(PERIOD).astimezone(dt.UTC)
    assert provisional["run_after"] == PERIOD.end_instant().astimezone(dt.UTC)

    loads = conn.execute(
        "SELECT run_id, status FROM reconciled.run_audit WHERE period_start = %s ORDER BY run_id", (PERIOD.start,)
    ).fetchall()
    assert [tuple(r) for r in loads] == [(final["run_id"], "loaded"), (provisional["run_id"], "loaded")]
    current = conn.execute(
        "SELECT lifecycle FROM reconciled.period_load WHERE period_start = %s", (PERIOD.start,)
    ).fetchone()
    assert current == ("final",)  # the deadline has passed: both runs found the period final
    versions = conn.execute(
        "SELECT count(*) FROM history.period_version WHERE period_start = %s", (PERIOD.start,)
    ).fetchone()
    assert versions == (2,)
