"""The outputs DAG started by the scheduler itself, from a load's Asset events (no Param).

A real stack (api-server, dag-processor, scheduler, LocalExecutor): a period run loads the final
period P2 and publishes the reconciled tables with `{"period_start", "lifecycle"}` on each event;
the scheduler starts `ccms_period_outputs` (run type `asset_triggered`), which reads the period from
the events and e-mails the notice. Unpausing the period DAG also schedules the latest period due
(P2 again, or the provisional one after it, depending on the hour): its outputs run sends nothing.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from support.airflow_runs import DAG_ID
from support.airflow_stack import airflow_stack
from support.outputs_state import P2, portal
from support.smtp_sink import SmtpSink

from ccms_attendance.warehouse.target import LOADER_ROLE, WAREHOUSE_CONN_ENV

pytestmark = pytest.mark.e2e

OUTPUTS_DAG = "ccms_period_outputs"


def test_a_load_starts_the_outputs_dag_through_its_asset_events(conn, pg_admin, warehouse, sandbox_fleet, tmp_path):
    wh = conn
    with SmtpSink() as sink:
        portal().write(wh)
        wh.execute("UPDATE ref.provider SET email = 'director@oak.example'")
        env = {
            WAREHOUSE_CONN_ENV: warehouse.as_role(LOADER_ROLE).airflow_uri,
            "CCMS_TASK_RETRIES": "0",
            "CCMS_OUTPUTS_URL": (tmp_path / "outputs").as_uri(),
            "AIRFLOW_CONN_CCMS_OUTPUTS_SMTP": sink.airflow_conn_uri(),
            **sandbox_fleet.airflow_conn_env({"max_attempts": 2, "backoff_base_seconds": 0.1}),
        }
        with airflow_stack(tmp_path / "airflow_home", pg_admin, env, executor="LocalExecutor") as stack:
            stack.wait_for_dag(DAG_ID)
            stack.wait_for_dag(OUTPUTS_DAG)
            stack.unpause(OUTPUTS_DAG)
            stack.unpause(DAG_ID)
            # A day inside P2 (its start may be the scheduled run's logical date).
            inside = P2.start_instant() + dt.timedelta(days=3)
            stack.airflow("dags", "trigger", DAG_ID, "--logical-date", inside.isoformat())
            periods = stack.wait_for_runs(DAG_ID, count=2, timeout=420)
            assert {r["state"] for r in periods} == {"success"}, stack.diagnostics()

            # Each load queued an outputs run; wait until they all ran.
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
        (mail,) = sink.received()  # P2's 10-absence notice, once; the other run sends nothing
        assert f"service period starting {P2.start}: 1 notice(s), 0 withdrawal(s)" in mail.message["Subject"]
        ledger = wh.execute("SELECT DISTINCT period_start, run_id FROM reconciled.notice_delivery").fetchall()
        assert [(p, r.split("__")[0]) for p, r in ledger] == [(P2.start, "asset_triggered")]
