"""``make stack`` as a newcomer uses it: the scheduled run, a backfill of three past periods, ``make stop-stack``.

The stack is started by ``devtools.stack.start`` — the code ``make stack`` runs — in a temporary
folder; the backfill is created with the CLI wrapper and the exact flags the README gives. The runs
are read back through the REST API the UI reads, logged in with the login ``make stack`` prints.
"""

from __future__ import annotations

import datetime as dt
import itertools
import signal
import subprocess
import time

import psycopg
import pytest
import requests
from psycopg.rows import dict_row

from ccms_attendance.warehouse.target import LOADER_ROLE, role_name
from devtools.stack import DAG_ID, StackInfo, start, stop
from devtools.stack.airflow_stack import _interrupt_on_sigterm
from devtools.stack.processes import recorded
from devtools.stack.run import AIRFLOW_PROCESSES

pytestmark = pytest.mark.e2e

RUN_TIMEOUT = 900  # three runs one after the other; a loaded 2-core machine takes 2-3 min per run


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def runs(info: StackInfo) -> list[dict]:
    with psycopg.connect(info.metadata.conninfo, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(
            "SELECT run_id, run_type, state, logical_date, data_interval_start, data_interval_end, start_date,"
            " end_date FROM dag_run WHERE dag_id = %s ORDER BY logical_date",
            (DAG_ID,),
        ).fetchall()


def wait_for(info: StackInfo, what: str, probe, timeout: float = RUN_TIMEOUT, on_poll=None):
    deadline = time.monotonic() + timeout
    while True:
        current = runs(info)
        if on_poll is not None:
            on_poll(current)
        if result := probe(current):
            return result
        dead = [r.name for r in recorded(info.paths.pids) if not r.alive()]
        assert not dead, f"{dead} died while waiting for {what}"
        assert time.monotonic() < deadline, (
            f"timed out waiting for {what}: {[(r['run_id'], r['state']) for r in current]}"
        )
        time.sleep(2)


def api_runs(info: StackInfo, password: str) -> dict[str, dict]:
    token = requests.post(f"{info.api_url}/auth/token", json={"username": info.login, "password": password}, timeout=10)
    assert token.status_code == 201, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    response = requests.get(f"{info.api_url}/api/v2/dags/{DAG_ID}/dagRuns", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return {run["dag_run_id"]: run for run in response.json()["dag_runs"]}


@pytest.fixture
def stopped_on_sigterm():
    """A SIGTERM (e.g. CI's timeout) interrupts the test like Ctrl-C, so its ``finally`` stops the stack."""
    previous = _interrupt_on_sigterm()
    yield
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.usefixtures("stopped_on_sigterm")
def test_make_stack_runs_the_schedule_and_backfills_three_periods_one_at_a_time(pg_admin, tmp_path):
    root = tmp_path / "stack"
    info = start(root, server=pg_admin, past_periods=3, extra_env={"CCMS_TASK_RETRIES": "0"})
    started = recorded(info.paths.pids)
    try:
        assert {r.name for r in started} == {*AIRFLOW_PROCESSES, "sandboxes"}
        periods = info.service_periods
        assert len(periods) == 4
        assert all(b.start == a.end + dt.timedelta(days=1) for a, b in itertools.pairwise(periods))
        latest, backfilled = periods[-1], periods[:3]

        # The unpaused DAG's schedule runs the latest closed period by itself.
        scheduled = wait_for(
            info,
            "the scheduled run",
            lambda rs: [r for r in rs if r["run_type"] == "scheduled"],
            timeout=120,
        )
        assert [r["run_id"] for r in scheduled] == [f"provisional__{latest.start}"]

        # The README's backfill: three past periods, one at a time.
        command = [str(info.paths.airflow_cli), "backfill", "create", "--dag-id", DAG_ID]
        command += ["--from-date", str(backfilled[0].start), "--to-date", str(backfilled[-1].end)]
        command += ["--max-active-runs", "1"]
        created = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
        assert created.returncode == 0, created.stdout[-3000:] + created.stderr[-3000:]

        most_at_once = []

        def count_running(current: list[dict]) -> None:
            most_at_once.append(sum(r["run_type"] == "backfill" and r["state"] == "running" for r in current))

        def backfill_done(current: list[dict]) -> list[dict] | None:
            done = [r for r in current if r["run_type"] == "backfill"]
            return done if len(done) == 3 and all(r["state"] in {"success", "failed"} for r in done) else None

        done = wait_for(info, "the three backfill runs", backfill_done, on_poll=count_running)
        assert [r["state"] for r in done] == ["success"] * 3, [(r["run_id"], r["state"]) for r in done]
        assert max(most_at_once) == 1
        for earlier, later in itertools.pairwise(done):
            assert later["start_date"] >= earlier["end_date"], "two backfill runs overlapped"

        # Each run names its period: run id, logical date and data interval (as the UI's API shows them).
        expected_ids = [f"backfill__{utc(p.start_instant()).isoformat()}" for p in backfilled]
        assert [r["run_id"] for r in done] == expected_ids
        for run, period in zip(done, backfilled, strict=True):
            assert (run["logical_date"], run["data_interval_start"]) == (period.start_instant(),) * 2
            assert run["data_interval_end"] == period.end_instant()
        shown = api_runs(info, info.password)
        for run_id, period in zip(expected_ids, backfilled, strict=True):
            assert dt.datetime.fromisoformat(shown[run_id]["logical_date"]) == period.start_instant()
            assert dt.datetime.fromisoformat(shown[run_id]["run_after"]) == period.start_instant()
        wrong = requests.post(f"{info.api_url}/auth/token", json={"username": "admin", "password": "x"}, timeout=10)
        assert wrong.status_code == 401

        # The scheduled run started first and ran beside the backfill; it has finished by now.
        finished = {"success", "failed"}
        final = wait_for(
            info,
            "the scheduled run to finish",
            lambda rs: [r for r in rs if r["run_type"] == "scheduled" and r["state"] in finished],
            timeout=120,
        )
        assert final[0]["state"] == "success"
        with psycopg.connect(info.warehouse.conninfo) as wh:
            loaded = wh.execute("SELECT period_start, run_id FROM reconciled.period_load ORDER BY 1").fetchall()
        assert [tuple(r) for r in loaded] == [
            *((p.start, run_id) for p, run_id in zip(backfilled, expected_ids, strict=True)),
            (latest.start, f"provisional__{latest.start}"),
        ]
    finally:
        stopped = stop(root, drop_databases=True)
    assert sorted(stopped) == sorted({*AIRFLOW_PROCESSES, "sandboxes"})
    for record in started:
        assert not record.alive(), f"{record.name} ({record.pid}) still runs"
        assert not record.group_alive(), f"a process of {record.name}'s group ({record.pid}) still runs"
    assert not list(info.paths.pids.glob("*.pid"))
    with psycopg.connect(pg_admin.conninfo) as admin:
        left = admin.execute(
            "SELECT datname FROM pg_database WHERE datname = ANY(%s)", ([info.warehouse_db, info.metadata_db],)
        ).fetchall()
        roles = admin.execute(
            "SELECT rolname FROM pg_roles WHERE rolname = %s", (role_name(info.warehouse_db, LOADER_ROLE),)
        ).fetchall()
    assert left == []
    assert roles == [], "the warehouse's own roles must go with it"
