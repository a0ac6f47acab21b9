"""The period DAG under CeleryExecutor: scheduler -> Redis -> `airflow celery worker` -> Execution API.

The same state is run twice: first in-process with `airflow dags test` (the reference), then by a
real stack whose tasks are executed by a Celery worker (Redis broker at 127.0.0.1:6379, results in
the PostgreSQL metadata database). The reconciled tables must be identical: same content checksums.

As on several hosts, the worker shares no folder with the api-server but the configured object store
(``CCMS_REPORTS_URL`` / ``CCMS_DATA_DOCS_URL``, here ``file://`` roots in the test's folder): it runs
in another working directory, and the UI plugin on the api-server serves the report and the data docs
the worker wrote there.
Needs ``apache-airflow-providers-celery`` and a Redis server; skipped when either is missing.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import secrets
import socket

import pytest
import requests
from support.airflow_runs import DAG_ID
from support.portal_state import PortalState, at
from support.vendor_scenario import VendorScenario

from ccms_attendance.paths import PROJECT_ROOT, run_folder
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.ui.links import report_url
from ccms_attendance.warehouse.target import LOADER_ROLE, WAREHOUSE_CONN_ENV
from devtools.stack.airflow_stack import airflow_stack

pytestmark = pytest.mark.e2e

REDIS = ("127.0.0.1", 6379)
P_1 = ServicePeriod(dt.date(2026, 9, 13), dt.date(2026, 9, 26))  # first portal submission, before PERIOD
P0 = ServicePeriod(dt.date(2026, 9, 27), dt.date(2026, 10, 10))
PERIOD = ServicePeriod(dt.date(2026, 10, 11), dt.date(2026, 10, 24))


def _redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def weekdays(period: ServicePeriod) -> list[dt.date]:
    return [d for d in period.days if d.isoweekday() <= 5]


def build_state() -> tuple[PortalState, VendorScenario]:
    """A PPP site, a brightwheel site and an Alliance CORE site (so mapped extracts run in their pools)."""
    portal = PortalState(PERIOD)
    vendors = VendorScenario()
    portal.site("S-P", "CC-P", provider_id="P-1").voucher("101", "S-P").voucher("102", "S-P", program="OMW")
    portal.absence("S-P", "101", dt.date(2026, 10, 13)).absence("S-P", "102", dt.date(2026, 10, 20))
    for site_id, license_number, vendor, child_id, classmate in (
        ("S-B", "CC-B", "BRIGHTWHEEL", "201", "202"),
        ("S-A", "CC-A", "ALLIANCE_CORE", "301", "302"),
    ):
        portal.site(site_id, license_number, provider_id="P-2").voucher(child_id, site_id).voucher(classmate, site_id)
        portal.selection(site_id, vendor, PERIOD.start, chosen_at=at(dt.date(2026, 9, 30)))
        vendors.site(vendor, license_number).child(license_number, child_id).child(license_number, classmate)
        for d in weekdays(PERIOD):
            # The classmate is there every day, so the site reported every day.
            vendors.present(license_number, classmate, d)
            if d == dt.date(2026, 10, 15):
                vendors.absent(license_number, child_id, d)
            elif d != dt.date(2026, 10, 21):  # no check-in: absent for the CCMS
                vendors.present(license_number, child_id, d)
    for site_id in ("S-P", "S-B", "S-A"):
        for period in (P_1, P0, PERIOD):
            portal.submission(site_id, period.start, submitted_at=at(period.end + dt.timedelta(days=2)))
    return portal, vendors


def current_version(conn) -> tuple[str, dict]:
    """(run id, content checksums per table) of the period's current version."""
    row = conn.execute(
        "SELECT a.run_id, a.checksums FROM reconciled.period_load l JOIN reconciled.run_audit a USING (run_id)"
        " WHERE l.period_start = %s",
        (PERIOD.start,),
    ).fetchone()
    return row[0], row[1]


@pytest.mark.skipif(importlib.util.find_spec("airflow.providers.celery") is None, reason="no Celery provider")
@pytest.mark.skipif(not _redis_answers(), reason=f"no Redis answers at {REDIS[0]}:{REDIS[1]}")
def test_celery_executor_loads_the_same_period_as_dags_test(
    conn, period_runner, pg_admin, warehouse, sandbox_fleet, tmp_path
):
    portal, vendors = build_state()
    portal.write(conn)
    sandbox_fleet.reload_scenario(vendors.write(tmp_path / "scenario.json"))

    period_runner.run(PERIOD.start + dt.timedelta(days=3))
    reference_run, reference = current_version(conn)
    assert reference_run.startswith("manual__")
    counts = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE status = 'absent') FROM reconciled.daily_attendance"
        " WHERE period_start = %s",
        (PERIOD.start,),
    ).fetchone()
    assert tuple(counts) == (60, 6)  # 6 children x 10 days; 2 PPP + 2 x (1 absent + 1 no check-in)

    queue = f"ccms_{secrets.token_hex(4)}"  # a queue of its own: nothing else on this Redis takes our tasks
    store = tmp_path / "object_store"  # the only storage the worker and the api-server share
    worker_dir = tmp_path / "worker_host"
    worker_dir.mkdir()
    env = {
        "CCMS_REPORTS_URL": f"file://{store}/reports",
        "CCMS_DATA_DOCS_URL": f"file://{store}/data_docs",
        WAREHOUSE_CONN_ENV: warehouse.as_role(LOADER_ROLE).airflow_uri,
        "CCMS_TASK_RETRIES": "0",
        **sandbox_fleet.airflow_conn_env({"max_attempts": 2, "backoff_base_seconds": 0.1}),
        "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "8",
    }
    # The Celery result backend is the stack's own metadata database (airflow_stack sets it).
    with airflow_stack(tmp_path / "airflow_home", pg_admin, env, executor="CeleryExecutor") as stack:
        worker = ["celery", "worker", "--queues", queue, "--concurrency", "8", "--celery-hostname", f"{queue}@%h"]
        options = ["--skip-serve-logs", "--without-gossip", "--without-mingle"]
        stack.start_process("celery-worker", [*worker, *options], cwd=worker_dir)  # the api-server's: the checkout
        stack.wait_for_dag(DAG_ID)
        stack.unpause(DAG_ID)
        stack.backfill(DAG_ID, PERIOD.start.isoformat(), PERIOD.end.isoformat())  # logical dates: 04:00 UTC
        [run] = stack.wait_for_runs(DAG_ID, run_type="backfill", count=1, timeout=180)
        assert run["state"] == "success", f"{stack.task_states(DAG_ID, run['run_id'])}\n{stack.diagnostics()}"
        queues = stack.query(
            "SELECT DISTINCT queue FROM task_instance WHERE run_id = %s AND state = 'success'", (run["run_id"],)
        )
        assert queues == [{"queue": queue}]
        worker_log = (stack.log_dir / "celery-worker.log").read_text(errors="replace")
        assert run["run_id"] in worker_log, "the Celery worker ran none of the run's tasks"
        _ui_serves_what_the_worker_stored(stack.api_url, run["run_id"], store, worker_dir)

    celery_run, checksums = current_version(conn)
    assert celery_run == run["run_id"]
    assert checksums == reference


def _ui_serves_what_the_worker_stored(api_url: str, run_id: str, store, worker_dir) -> None:
    """The run's report (through the run's "Period report" link) and its reconciled data docs, read
    by the api-server's plugin from the object store the worker wrote; nothing in a local build/."""
    folder = f"{PERIOD.start.isoformat()}/{run_folder(run_id)}"
    assert (store / "reports" / folder / "report.html").is_file()
    for kind in ("reports", "data_docs"):
        assert not (PROJECT_ROOT / "build" / kind / folder).exists()
    assert list(worker_dir.iterdir()) == []  # nothing written relative to the worker's directory

    report = requests.get(report_url(DAG_ID, run_id, base_url=api_url), timeout=30)
    assert report.status_code == 200, report.text[:500]
    assert report.url == f"{api_url}/ccms/reports/{folder}/report.html"
    assert f"<code id='run-id'>{run_id}</code>" in report.text
    assert f"href='../../../data_docs/{folder}/reconciled/index.html'" in report.text
    docs = requests.get(f"{api_url}/ccms/data_docs/{folder}/reconciled/index.html", timeout=30)
    assert docs.status_code == 200, docs.text[:500]
    assert docs.headers["content-type"] == "text/html; charset=utf-8"
    assert "CCMS attendance - data quality" in docs.text
