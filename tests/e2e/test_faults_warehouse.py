"""Warehouse faults under a real scheduler (api-server, dag-processor, scheduler, LocalExecutor).

* A load task process is SIGKILLed while it holds the load transaction (the period's rows already
  replaced inside it): the previous version stays visible and intact, the task's retry completes
  the load, and the period ends up equal to a clean run's (checksums).
* The sessions of a running task are terminated with ``pg_terminate_backend`` from another
  connection, during extraction: the task retries and finishes, nothing is staged or loaded twice.
* A rerun is triggered while a backfill of the same period runs: the two loads are serialized
  (never interleaved rows); both load the same content, the later one supersedes the earlier.
* The warehouse "restarts" during ``validate`` (its session terminated on every try): the run
  fails at reconcile and loads nothing; the period keeps its version (issue 17.2).
* A run whose load is SIGKILLed on every try stops without a word: the next plan of any run marks
  it ``abandoned`` (issue 17.6).

Tasks are caught mid-step with ordinary locks the test holds (``support.warehouse_faults``), so
every fault hits the same point every time.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psutil
import psycopg
import pytest
import requests
from support.airflow_runs import DAG_ID
from support.portal_state import PortalState
from support.warehouse_faults import holding, holds_write_locks, wait_backend_gone, wait_for_blocked

from ccms_attendance.periods import ServicePeriod
from ccms_attendance.warehouse.sql_files import fetch_one
from ccms_attendance.warehouse.target import LOADER_ROLE, WAREHOUSE_CONN_ENV, WarehouseTarget
from devtools.stack.airflow_stack import AirflowStack, airflow_stack

pytestmark = pytest.mark.e2e

PERIOD = ServicePeriod(dt.date(2026, 6, 7), dt.date(2026, 6, 20))
WEEKDAYS = [d for d in PERIOD.days if d.isoweekday() <= 5]


def build_state() -> PortalState:
    state = PortalState(PERIOD)
    for site_id, license_number, children in (
        ("S-A", "CC-F-1", ("1101", "1102", "1103")),
        ("S-B", "CC-F-2", ("1201",)),
    ):
        state.site(site_id, license_number).submission(site_id, PERIOD.start)
        for child_id in children:
            state.voucher(child_id, site_id)
    state.absence("S-A", "1101", WEEKDAYS[1]).absence("S-A", "1102", WEEKDAYS[4]).absence("S-B", "1201", WEEKDAYS[7])
    return state


@dataclass
class Env:
    stack: AirflowStack
    warehouse: WarehouseTarget
    check: psycopg.Connection  # the test's own autocommit connection (owner)
    clean_run: str
    clean: dict  # checksums of the clean run's version


def trigger(stack: AirflowStack, run_id: str, day: int) -> str:
    """A manual run for the period containing 2026-06-<day>, through the REST API as the UI does it.

    (Not ``airflow dags trigger -l``: in Airflow 3.3 the CLI infers the data interval from the
    moment of triggering, so it would run the current period whatever ``-l`` says.)
    """
    token = requests.get(f"{stack.api_url}/auth/token", timeout=10).json()["access_token"]
    response = requests.post(
        f"{stack.api_url}/api/v2/dags/{DAG_ID}/dagRuns",
        json={"dag_run_id": run_id, "logical_date": dt.datetime(2026, 6, day, 12, tzinfo=dt.UTC).isoformat()},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["data_interval_start"].startswith(
        PERIOD.start_instant().astimezone(dt.UTC).date().isoformat()
    )
    return run_id


def wait_idle(stack: AirflowStack, timeout: float = 240) -> None:
    """Until no run of the DAG is queued or running (e.g. the scheduled run of the latest period)."""
    deadline = time.monotonic() + timeout
    while any(r["state"] not in ("success", "failed") for r in stack.runs(DAG_ID)):
        stack.check_alive()
        if time.monotonic() > deadline:
            raise stack.fail("runs did not finish")
        time.sleep(1)


def finished(stack: AirflowStack, *run_ids: str) -> dict[str, dict]:
    runs = stack.wait_for_runs(DAG_ID, run_ids=list(run_ids), count=len(run_ids), timeout=240)
    states = {r["run_id"]: r for r in runs}
    for run_id, run in states.items():
        assert run["state"] == "success", (run_id, stack.task_states(DAG_ID, run_id), stack.diagnostics())
    return states


def checksums(conn: psycopg.Connection) -> dict:
    conn.execute("SET TimeZone = 'UTC'")  # as the load step computes them
    return fetch_one(conn, "period_checksums", {"period_start": PERIOD.start})


def loaded_run_ids(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT run_id FROM reconciled.daily_attendance WHERE period_start = %(p)s"
        " UNION SELECT run_id FROM reconciled.absence_summary WHERE period_start = %(p)s"
        " UNION SELECT run_id FROM reconciled.site_period WHERE period_start = %(p)s",
        {"p": PERIOD.start},
    ).fetchall()
    return {r[0] for r in rows}


def versions(conn: psycopg.Connection) -> list[tuple]:
    rows = conn.execute(
        "SELECT run_id, checksum, superseded_by_run FROM history.period_version WHERE period_start = %s"
        " ORDER BY version_no",
        (PERIOD.start,),
    ).fetchall()
    return [tuple(r) for r in rows]


def tries(stack: AirflowStack, run_id: str) -> dict[str, int]:
    rows = stack.query(
        "SELECT task_id, try_number FROM task_instance WHERE dag_id = %s AND run_id = %s AND map_index < 0",
        (DAG_ID, run_id),
    )
    return {r["task_id"]: r["try_number"] for r in rows}


def wait_process_dead(pid: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"task process {pid} survived SIGKILL for {timeout:.0f} s")
        time.sleep(0.1)


def wait_for_advisory_waiter(conn: psycopg.Connection, timeout: float = 180) -> int:
    """The backend of a pipeline session waiting for an advisory lock (the period's load lock)."""
    deadline = time.monotonic() + timeout
    while True:
        row = conn.execute(
            "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name LIKE 'ccms-attendance pid %%'"
        ).fetchone()
        if row:
            return row[0]
        if time.monotonic() > deadline:
            raise AssertionError("the second run's load never waited for the period's lock")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def env(pg_admin, warehouse, tmp_path_factory) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("faults_warehouse")
    with psycopg.connect(warehouse.conninfo, autocommit=True) as check:
        from conftest import truncate_data

        truncate_data(check)
        build_state().write(check)
        airflow_env = {
            WAREHOUSE_CONN_ENV: warehouse.as_role(LOADER_ROLE).airflow_uri,
            # One retry, quickly: the faults below must be survived by Airflow's own retry.
            "CCMS_TASK_RETRIES": "1",
            "CCMS_TASK_RETRY_DELAY_SECONDS": "1",
        }
        with airflow_stack(folder / "airflow_home", pg_admin, airflow_env) as stack:
            stack.wait_for_dag(DAG_ID)
            stack.unpause(DAG_ID)  # also queues the latest closed period's scheduled run; it touches another period
            clean_run = trigger(stack, "clean", 9)
            finished(stack, clean_run)
            wait_idle(stack)
            yield Env(stack, warehouse, check, clean_run, checksums(check))


def test_killed_load_and_terminated_sessions_are_retried_without_loss(env):
    stack, check = env.stack, env.check
    assert (env.clean["daily_rows"], env.clean["absences"]) == (4 * len(WEEKDAYS), 3)
    clean_daily = env.clean["daily_rows"]
    with holding(env.warehouse) as extract_hold, holding(env.warehouse) as load_hold:
        # Hold points: the PPP extract reads the portal's manual entries; the load updates the
        # period's row of reconciled.period_load after replacing the period's rows.
        extract_hold.conn.execute("LOCK TABLE portal.manual_entry IN ACCESS EXCLUSIVE MODE")
        load_hold.lock_period_load_row(PERIOD.start)
        run_id = trigger(stack, "faulted", 10)

        # 1. pg_terminate_backend on the extract task's session, from another connection.
        for session in wait_for_blocked(check, extract_hold):
            assert check.execute("SELECT pg_terminate_backend(%s)", (session.backend_pid,)).fetchone()[0]
        extract_hold.release()

        # 2. SIGKILL the load task's process while it holds the load transaction.
        load = wait_for_blocked(check, load_hold)[0]
        assert "reconciled.period_load" in load.query
        assert holds_write_locks(check, load.backend_pid, "reconciled.daily_attendance"), "not mid-load"
        assert checksums(check) == env.clean
        assert loaded_run_ids(check) == {env.clean_run}
        os.kill(load.task_pid, signal.SIGKILL)
        wait_process_dead(load.task_pid)
        load_hold.release()
        wait_backend_gone(check, load.backend_pid)  # its transaction is rolled back, not committed

        # The previous version is intact and consistent: same rows, same run, no new version.
        assert checksums(check) == env.clean
        assert loaded_run_ids(check) == {env.clean_run}
        assert (
            check.execute(
                "SELECT run_id FROM reconciled.period_load WHERE period_start = %s", (PERIOD.start,)
            ).fetchone()[0]
            == env.clean_run
        )
        assert versions(check) == [(env.clean_run, env.clean["daily_attendance"], None)]

    finished(stack, run_id)
    attempts = tries(stack, run_id)
    assert (attempts["ppp.extract_entries"], attempts["load"]) == (2, 2), attempts  # retried by Airflow
    # The retry completed the load: the period equals the clean run's, now under the faulted run.
    assert checksums(check) == env.clean
    assert loaded_run_ids(check) == {run_id}
    assert versions(check) == [
        (env.clean_run, env.clean["daily_attendance"], run_id),
        (run_id, env.clean["daily_attendance"], None),
    ]
    # Nothing duplicated: the replaced version is in history exactly once, staging holds one copy.
    kept = check.execute(
        "SELECT count(*), count(DISTINCT (site_id, child_id, attendance_date)) FROM history.daily_attendance"
        " WHERE period_start = %s AND superseded_by_run = %s",
        (PERIOD.start, run_id),
    ).fetchone()
    assert tuple(kept) == (clean_daily, clean_daily)
    staged = check.execute(
        "SELECT count(*), count(DISTINCT source_record_id) FROM staging.source_record WHERE run_id = %s", (run_id,)
    ).fetchone()
    assert tuple(staged) == (3, 3)
    audit = check.execute("SELECT status FROM reconciled.run_audit WHERE run_id = %s", (run_id,)).fetchone()
    assert audit[0] == "loaded"


def test_a_rerun_while_a_backfill_runs_is_serialized_never_interleaved(env):
    stack, check = env.stack, env.check
    before = versions(check)
    with holding(env.warehouse) as load_hold:
        load_hold.lock_period_load_row(PERIOD.start)
        stack.backfill(DAG_ID, PERIOD.start.isoformat(), PERIOD.end.isoformat())
        rerun = trigger(stack, "rerun", 11)
        first = wait_for_blocked(check, load_hold)[0]
        # The scheduler lets the backfill run and the manual run overlap (max_active_runs does not
        # hold a backfill back), so the second load really gets there: it waits for the period's
        # advisory lock, held by the first load's transaction, and writes nothing meanwhile.
        waiter = wait_for_advisory_waiter(check)
        assert waiter != first.backend_pid
        assert versions(check) == before, "a load committed while the period was held"
        assert loaded_run_ids(check) == {before[-1][0]}
    backfill_run = next(r["run_id"] for r in stack.runs(DAG_ID, run_type="backfill"))
    finished(stack, backfill_run, rerun)

    loads = versions(check)[len(before) :]
    assert len(loads) == 2, loads
    (first_run, first_sum, superseded_by), (second_run, second_sum, current) = loads
    assert {first_run, second_run} == {backfill_run, rerun}
    assert (superseded_by, current) == (second_run, None)
    assert first_sum == second_sum == env.clean["daily_attendance"]
    # Never interleaved: every row of the period is the later load's, and the earlier load's rows
    # moved to history as one complete version.
    assert checksums(check) == env.clean
    assert loaded_run_ids(check) == {second_run}
    kept = check.execute(
        "SELECT count(*), min(run_id), max(run_id) FROM history.daily_attendance"
        " WHERE period_start = %s AND superseded_by_run = %s",
        (PERIOD.start, second_run),
    ).fetchone()
    assert tuple(kept) == (env.clean["daily_rows"], first_run, first_run)


def ended(stack: AirflowStack, run_id: str) -> dict:
    """The run, once finished; it must have failed."""
    (run,) = stack.wait_for_runs(DAG_ID, run_ids=[run_id], count=1, timeout=240)
    assert run["state"] == "failed", (stack.task_states(DAG_ID, run_id), stack.diagnostics())
    return run


def audit(conn: psycopg.Connection, run_id: str) -> tuple:
    row = conn.execute("SELECT status, status_reason FROM reconciled.run_audit WHERE run_id = %s", (run_id,))
    return tuple(row.fetchone())


def test_a_database_outage_during_validation_fails_the_run_and_loads_nothing(env):
    stack, check = env.stack, env.check
    before = (versions(check), checksums(check), loaded_run_ids(check))
    with holding(env.warehouse) as hold:
        # validate records the sources' verdicts last, in one transaction: it waits there, and each
        # try's session is terminated, as a restart of PostgreSQL would (retries used up after the second).
        hold.conn.execute("LOCK TABLE reconciled.validation_result IN ACCESS EXCLUSIVE MODE")
        run_id = trigger(stack, "validate-outage", 12)
        for _try in (1, 2):
            (session,) = wait_for_blocked(check, hold)
            assert "validation_result" in session.query
            assert check.execute("SELECT pg_terminate_backend(%s)", (session.backend_pid,)).fetchone()[0]
            wait_backend_gone(check, session.backend_pid)
    ended(stack, run_id)
    states = stack.task_states(DAG_ID, run_id)
    assert (states["validate"], states["reconcile"], states["load"]) == ("failed", "failed", "upstream_failed")
    assert tries(stack, run_id)["validate"] == 2
    # Nothing loaded, no Asset published: the period keeps its version, no site made incomplete.
    assert (versions(check), checksums(check), loaded_run_ids(check)) == before
    assert not stack.query("SELECT 1 FROM asset_event WHERE source_run_id = %s", (run_id,))
    status, reason = audit(check, run_id)
    assert status == "failed"
    assert "reconcile failed" in reason
    assert "PPP: records were never validated" in reason


def test_a_killed_run_is_marked_abandoned_by_the_next_plan(env):
    stack, check = env.stack, env.check
    with holding(env.warehouse) as load_hold:
        load_hold.lock_period_load_row(PERIOD.start)
        killed = trigger(stack, "killed", 13)
        for _try in (1, 2):  # every try of the load is killed mid-transaction: no callback can run
            load = wait_for_blocked(check, load_hold)[0]
            os.kill(load.task_pid, signal.SIGKILL)
            wait_process_dead(load.task_pid)
            # Its backend would wait on the lock until released (holding the period's advisory lock
            # meanwhile): end it now, as the server does once it notices the client is gone.
            check.execute("SELECT pg_terminate_backend(%s)", (load.backend_pid,))
            wait_backend_gone(check, load.backend_pid)
    ended(stack, killed)
    assert audit(check, killed) == ("running", None)  # what a killed run used to leave forever
    assert check.execute("SELECT count(*) FROM staging.site_plan WHERE run_id = %s", (killed,)).fetchone()[0] == 2

    later = trigger(stack, "later", 14)  # any run: its plan settles the runs that stopped
    finished(stack, later)
    status, reason = audit(check, killed)
    assert status == "abandoned"
    assert f"Airflow reports DAG run {DAG_ID} {killed} failed" in reason
    assert audit(check, later)[0] == "loaded"
