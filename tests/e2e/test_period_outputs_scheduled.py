"""The outputs DAG started by the scheduler itself, from a load's Asset events (no Param).

A real stack (api-server, dag-processor, scheduler, LocalExecutor). Unpausing
`ccms_attendance_period_final` makes the scheduler run the latest period whose deadline has passed
(its scheduled "final" appointment); its load publishes the reconciled tables with
`{"period_start", "lifecycle"}` on each event; the scheduler then starts `ccms_period_outputs`
(run type `asset_triggered`), which reads the period from the events and e-mails the notice.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from support.outputs_state import weekdays
from support.portal_state import PortalState

from ccms_attendance.timetables import Phase, ServicePeriodTimetable
from ccms_attendance.warehouse.target import LOADER_ROLE, WAREHOUSE_CONN_ENV
from devtools.smtp_sink import SmtpSink
from devtools.stack.airflow_stack import airflow_stack

pytestmark = pytest.mark.e2e

OUTPUTS_DAG = "ccms_period_outputs"
FINAL_DAG = "ccms_attendance_period_final"
#: The period the final DAG's scheduled run covers once unpaused (catchup off: the latest one due).
DUE = ServicePeriodTimetable.from_config(Phase.FINAL)._latest_due(dt.datetime.now(dt.UTC))


def test_a_load_starts_the_outputs_dag_through_its_asset_events(conn, pg_admin, warehouse, sandbox_fleet, tmp_path):
    wh = conn
    state = PortalState(DUE).site("S-A", "CC-OUT-1", provider_id="P-OUT").submission("S-A", DUE.start)
    state.voucher("1001", "S-A", eligibility_start=DUE.start - dt.timedelta(days=30))
    for d in weekdays(DUE):
        state.absence("S-A", "1001", d)
    with SmtpSink() as sink:
        state.write(wh)
        wh.execute("UPDATE ref.provider SET email = 'director@oak.example'")
        env = {
            WAREHOUSE_CONN_ENV: warehouse.as_role(LOADER_ROLE).airflow_uri,
            "CCMS_TASK_RETRIES": "0",
            "CCMS_OUTPUTS_URL": (tmp_path / "outputs").as_uri(),
            "AIRFLOW_CONN_CCMS_OUTPUTS_SMTP": sink.airflow_conn_uri(),
            **sandbox_fleet.airflow_conn_env({"max_attempts": 2, "backoff_base_seconds": 0.1}),
        }
        with airflow_stack(tmp_path / "airflow_home", pg_admin, env, executor="LocalExecutor") as stack:
            stack.wait_for_dag(FINAL_DAG)
            stack.wait_for_dag(OUTPUTS_DAG)
            stack.unpause(OUTPUTS_DAG)
            stack.unpause(FINAL_DAG)
            (period_run,) = stack.wait_for_runs(FINAL_DAG, run_type="scheduled", count=1, timeout=420)
            assert period_run["state"] == "success", stack.task_states(FINAL_DAG, period_run["run_id"])
            assert period_run["run_id"] == f"final__{DUE.start.isoformat()}"

            # The load queued an outputs run; wait until it ran.
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                runs = stack.runs(OUTPUTS_DAG)
                if runs and all(r["state"] in ("success", "failed") for r in runs) and sink.received():
                    break
                time.sleep(2)
            runs = stack.runs(OUTPUTS_DAG)
            assert runs, f"no outputs run was started by the Asset events\n{stack.diagnostics()}"
            assert {r["run_type"] for r in runs} == {"asset_triggered"}
            assert {r["state"] for r in runs} == {"success"}, stack.diagnostics()

        time.sleep(5)  # nothing else arrives late
        (mail,) = sink.received()  # the 10-absence notice of the period, once
        assert f"service period starting {DUE.start}: 1 notice(s), 0 withdrawal(s)" in mail.message["Subject"]
        ledger = wh.execute("SELECT DISTINCT period_start, run_id FROM reconciled.notice_delivery").fetchall()
        assert [(p, r.split("__")[0]) for p, r in ledger] == [(DUE.start, "asset_triggered")]
