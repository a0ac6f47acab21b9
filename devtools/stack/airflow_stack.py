"""A real Airflow stack for the end-to-end tests and the scheduler bench: api-server, dag-processor,
scheduler (and workers).

Unlike ``airflow dags test`` (one run in-process), this runs the project the way a deployment does:
the scheduler creates and queues runs (scheduled, backfill, cleared), the executor starts the tasks,
the tasks talk to the Execution API of the api-server. The metadata database is a PostgreSQL
database of its own (``airflow_meta_<random>``, dropped afterwards), because backfills on SQLite
are not reliable.

    with airflow_stack(home, admin, env) as stack:
        stack.wait_for_dag(DAG_ID)
        stack.unpause(DAG_ID)
        stack.backfill(DAG_ID, "2026-08-30", "2026-09-28")
        runs = stack.wait_for_runs(DAG_ID, run_type="backfill", count=3)

Every process runs in its own process group with its log under ``home/logs-stack/``; all of them
are stopped (the whole group) when the context exits, whatever happened. The environment is
``make stack``'s (``devtools/stack/config.py``); ``devtools.stack.start`` is ``make stack`` itself,
used by ``tests/e2e/test_local_stack.py``. Every wait is bounded and
fails with the tail of the processes' logs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests
from psycopg.rows import dict_row

from ccms_attendance.paths import PROJECT_ROOT
from ccms_attendance.warehouse.target import WarehouseTarget
from devtools.local_airflow import AIRFLOW_BIN, POOLS_FILE, run_airflow
from devtools.stack.config import WIDEST_STEP, stack_env
from devtools.stack.processes import free_port

TERMINAL_RUN_STATES = frozenset({"success", "failed"})
DEFAULT_TIMEOUT = 240.0


class AirflowStackError(RuntimeError):
    """The stack did not start, a process died, or a wait ran out; the message carries the log tails."""


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


@dataclass
class AirflowStack:
    home: Path
    env: dict[str, str]
    metadata: WarehouseTarget
    api_url: str
    log_dir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    # --- processes -------------------------------------------------------------------------------

    def start_process(self, name: str, args: Sequence[str], cwd: Path | None = None) -> subprocess.Popen:
        """Start ``airflow <args>`` in its own process group, output to ``log_dir/<name>.log``; in
        ``cwd`` (default the checkout, e.g. a worker "on another host" elsewhere)."""
        log = (self.log_dir / f"{name}.log").open("ab")
        try:
            process = subprocess.Popen(
                [str(AIRFLOW_BIN), *args],
                env=self.env,
                cwd=cwd or PROJECT_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        self.processes[name] = process
        return process

    def stop(self, grace_seconds: float = 20) -> None:
        """Stop every process this stack started (its whole process group): TERM, then KILL."""
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self.processes.values():
            # Task and worker children may outlive their parent: kill whatever is left of each group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)

    def diagnostics(self, lines: int = 40) -> str:
        """The tail of every process's log, to put in a failure message."""
        parts = []
        for name, process in self.processes.items():
            state = "running" if process.poll() is None else f"exited {process.returncode}"
            parts.append(f"--- {name} ({state}), last {lines} lines of {self.log_dir / (name + '.log')}:")
            parts.append(_tail(self.log_dir / f"{name}.log", lines))
        return "\n".join(parts)

    def fail(self, message: str) -> AirflowStackError:
        return AirflowStackError(f"{message}\n{self.diagnostics()}")

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise self.fail(f"airflow {name} exited with code {process.returncode}")

    def airflow(self, *args: str, timeout: float = 300) -> str:
        """Run one ``airflow`` CLI command against this stack; raise with its output on failure."""
        return run_airflow(list(args), self.env, timeout=timeout)

    # --- metadata database -----------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with psycopg.connect(self.metadata.conninfo, autocommit=True, row_factory=dict_row) as conn:
            return conn.execute(sql, params).fetchall()

    def _poll(self, what: str, probe, timeout: float, interval: float = 1.0):
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            result = probe()
            if result:
                return result
            if time.monotonic() > deadline:
                raise self.fail(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(interval)

    def wait_api_server(self, timeout: float = 90) -> None:
        def healthy() -> bool:
            try:
                return requests.get(f"{self.api_url}/api/v2/monitor/health", timeout=3).status_code == 200
            except requests.RequestException:
                return False

        self._poll(f"the api-server at {self.api_url}", healthy, timeout, interval=0.5)

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        """Until the dag-processor has parsed and serialized ``dag_id`` (and it is not stale)."""
        self._poll(
            f"the dag-processor to serialize {dag_id}",
            lambda: self.query(
                "SELECT 1 FROM dag d JOIN serialized_dag s USING (dag_id) WHERE d.dag_id = %s AND NOT d.is_stale",
                (dag_id,),
            ),
            timeout,
        )

    def unpause(self, dag_id: str) -> None:
        self.airflow("dags", "unpause", dag_id)

    def backfill(self, dag_id: str, from_date: str, to_date: str, max_active_runs: int | None = None) -> str:
        args = ["backfill", "create", "--dag-id", dag_id, "--from-date", from_date, "--to-date", to_date]
        if max_active_runs is not None:
            args += ["--max-active-runs", str(max_active_runs)]
        return self.airflow(*args)

    def runs(self, dag_id: str, run_type: str | None = None) -> list[dict[str, Any]]:
        """The DAG's runs (oldest logical date first): run_id, run_type, state, dates, clear_number."""
        return self.query(
            "SELECT dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, run_after,"
            " clear_number, backfill_id, start_date, end_date FROM dag_run"
            " WHERE dag_id = %s AND (%s::text IS NULL OR run_type = %s::text) ORDER BY logical_date, run_id",
            (dag_id, run_type, run_type),
        )

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        rows = self.query(
            "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = %s AND run_id = %s ORDER BY 1, 2",
            (dag_id, run_id),
        )
        return {f"{r['task_id']}[{r['map_index']}]" if r["map_index"] >= 0 else r["task_id"]: r["state"] for r in rows}

    def wait_for_runs(
        self,
        dag_id: str,
        *,
        run_type: str | None = None,
        count: int,
        timeout: float = DEFAULT_TIMEOUT,
        run_ids: Sequence[str] | None = None,
        min_clear_number: int = 0,
    ) -> list[dict[str, Any]]:
        """Until ``count`` runs (of ``run_type``, or exactly ``run_ids``) exist and all finished.

        ``min_clear_number`` waits for runs cleared at least that many times to finish again.
        Returns the runs; a run that failed does not raise here (the caller asserts on states).
        """

        def finished() -> list[dict[str, Any]] | None:
            runs = [r for r in self.runs(dag_id, run_type) if run_ids is None or r["run_id"] in run_ids]
            if len(runs) < count:
                return None
            if all(r["state"] in TERMINAL_RUN_STATES and r["clear_number"] >= min_clear_number for r in runs):
                return runs
            return None

        try:
            return self._poll(f"{count} {run_type or ''} run(s) of {dag_id} to finish", finished, timeout, interval=2)
        except AirflowStackError as error:
            states = [
                (r["run_id"], r["state"], r["clear_number"], self.task_states(dag_id, r["run_id"]))
                for r in self.runs(dag_id)
            ]
            raise AirflowStackError(f"{error}\nruns now: {states}") from None

    def clear_run(self, dag_id: str, logical_date: dt.datetime) -> int:
        """Clear every task of the run at ``logical_date`` (as "Clear" on the whole run does); the
        scheduler then runs it again under the same run id. Returns the run's clear number before."""
        before = self.query(
            "SELECT clear_number FROM dag_run WHERE dag_id = %s AND logical_date = %s", (dag_id, logical_date)
        )
        if len(before) != 1:
            raise self.fail(f"expected one run of {dag_id} at {logical_date}, found {len(before)}")
        moment = logical_date.astimezone(dt.UTC).isoformat()
        self.airflow("tasks", "clear", dag_id, "--start-date", moment, "--end-date", moment, "--yes")
        return before[0]["clear_number"]


@contextlib.contextmanager
def airflow_stack(
    home: Path,
    admin: WarehouseTarget,
    env: Mapping[str, str] | None = None,
    *,
    executor: str = "LocalExecutor",
    workers: Mapping[str, Sequence[str]] | None = None,
    startup_timeout: float = 120,
) -> Iterator[AirflowStack]:
    """Create and migrate a metadata database on ``admin``'s server, import the pools, start
    api-server, dag-processor, scheduler (and ``workers``: name -> airflow args, e.g. a Celery
    worker); stop them all and drop the database on exit."""
    home.mkdir(parents=True, exist_ok=True)
    log_dir = home / "logs-stack"
    log_dir.mkdir(exist_ok=True)
    dbname = f"airflow_meta_{secrets.token_hex(4)}"
    with psycopg.connect(admin.conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    api_port = free_port()
    previous_sigterm = _interrupt_on_sigterm()
    stack = AirflowStack(
        home=home,
        # A free port for the scheduler's (or worker's) log server too: parallel stacks never clash on 8793.
        env=stack_env(
            home,
            admin.with_database(dbname),
            api_port,
            executor,
            env,
            log_server_port=free_port(),
            parallelism=WIDEST_STEP,
        ),
        metadata=admin.with_database(dbname),
        api_url=f"http://127.0.0.1:{api_port}",
        log_dir=log_dir,
    )
    try:
        run_airflow(["db", "migrate"], stack.env, log_file=log_dir / "db-migrate.log")
        run_airflow(["pools", "import", str(POOLS_FILE)], stack.env, log_file=log_dir / "pools-import.log")
        stack.start_process("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(api_port)])
        stack.wait_api_server(timeout=startup_timeout)
        stack.start_process("dag-processor", ["dag-processor"])
        stack.start_process("scheduler", ["scheduler"])
        for name, args in (workers or {}).items():
            stack.start_process(name, args)
        yield stack
    finally:
        try:
            stack.stop()
            with psycopg.connect(admin.conninfo, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        finally:
            if previous_sigterm is not None:
                signal.signal(signal.SIGTERM, previous_sigterm)


def _interrupt_on_sigterm():
    """Make SIGTERM (e.g. ``timeout pytest ...``) interrupt the test like Ctrl-C, so the stack's
    processes (in their own sessions, out of reach of the terminal) are still stopped. Returns the
    previous handler, or None when not on the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    return signal.signal(signal.SIGTERM, interrupt)
