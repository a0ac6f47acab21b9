"""``make stack`` / ``make stop-stack``: the real Airflow stack on this machine, in the background.

``start(folder)`` brings up, all under ``folder`` (``.stack/`` for ``make stack``):

1. PostgreSQL: the machine's server at 127.0.0.1:5432 if it answers, else the embedded one the
   demo uses (``.pgdata/``); on it a warehouse database and an Airflow metadata database named
   after the folder, so checkouts sharing a server never meet. The warehouse is migrated; the DAG
   connects as its own loader role (``<warehouse db>_loader``, migration V010).
2. The demo state over the latest closed period and ``past_periods`` before it
   (``devtools/stack/state.py``), served by the three vendor sandboxes (a background process).
3. ``airflow api-server``, ``dag-processor`` and ``scheduler`` (LocalExecutor, parallelism 4) with
   ``AIRFLOW_HOME=folder/home``, logs in ``folder/logs/``, pid files in ``folder/pids/``, free ports
   for the API and the scheduler's log server, a login (``admin`` and a generated password), and
   the project's ``airflow_local_settings.py`` in ``folder/home/config/`` (the scheduler and the
   dag-processor preload what the processes they fork would import again, ``preload.py``).
4. ``ccms_attendance_period`` unpaused: the scheduler runs the latest closed period at once.

``folder/airflow`` runs the Airflow CLI against the stack (``folder/env`` holds its environment).
``stop(folder)`` stops exactly the processes the pid files name (and, for tests, drops the databases).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg
import requests

from ccms_attendance.paths import PROJECT_ROOT
from ccms_attendance.periods import ServicePeriod, load_calendar
from ccms_attendance.timetables import ServicePeriodTimetable
from ccms_attendance.warehouse.migrate import apply_migrations
from ccms_attendance.warehouse.target import (
    EMBEDDED_PGDATA,
    LOADER_ROLE,
    MACHINE_SERVER,
    WAREHOUSE_CONN_ENV,
    WarehouseTarget,
    answers,
    drop_database,
    start_embedded,
)
from devtools.demo.state import write_state
from devtools.local_airflow import AIRFLOW_BIN, POOLS_FILE, install_local_settings, run_airflow
from devtools.stack.config import StackPaths, stack_env
from devtools.stack.processes import Recorded, free_port, recorded, start_detached, stop_recorded
from devtools.stack.state import generate_periods

DAG_ID = "ccms_attendance_period"
AIRFLOW_PROCESSES = ("api-server", "dag-processor", "scheduler")
#: Stopped in this order: nothing new is scheduled while the rest goes down.
STOP_ORDER = ("scheduler", "dag-processor", "api-server", "sandboxes")


class StackError(RuntimeError):
    """The stack did not come up; the message carries the tails of the processes' logs."""


@dataclass(frozen=True)
class StackInfo:
    """What a started stack is: where to reach it and what it holds (``folder/stack.json``)."""

    root: str
    api_url: str
    api_port: int
    log_server_port: int
    login: str
    password: str
    server: dict[str, Any]  # the PostgreSQL server: host, port, user (no password)
    warehouse_db: str
    metadata_db: str
    periods: list[list[str]]  # [start, end] of every period with demo data, oldest first

    @property
    def paths(self) -> StackPaths:
        return StackPaths(Path(self.root))

    def target(self, dbname: str) -> WarehouseTarget:
        return WarehouseTarget(dbname=dbname, **self.server)

    @property
    def metadata(self) -> WarehouseTarget:
        return self.target(self.metadata_db)

    @property
    def warehouse(self) -> WarehouseTarget:
        return self.target(self.warehouse_db)

    @property
    def service_periods(self) -> list[ServicePeriod]:
        return [ServicePeriod(dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for a, b in self.periods]

    def env(self) -> dict[str, str]:
        """The stack's environment, read back from ``folder/env`` (for CLI commands against it)."""
        return read_env_file(self.paths.env_file)


def read_env_file(path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0] if value else ""
    return env


def load_info(root: Path) -> StackInfo | None:
    path = StackPaths(root).info
    return StackInfo(**json.loads(path.read_text())) if path.exists() else None


def demo_periods(past_periods: int, now: dt.datetime | None = None) -> list[ServicePeriod]:
    """The latest period the schedule has already run, and ``past_periods`` before it, oldest first."""
    timetable = ServicePeriodTimetable.from_config()
    latest = timetable.latest_due(now or dt.datetime.now(tz=dt.UTC))
    if latest is None:
        raise StackError("no service period has closed yet: nothing to run")
    periods = [latest]
    for _ in range(past_periods):
        previous = timetable.calendar.previous_period(periods[0])
        if previous is None:
            break
        periods.insert(0, previous)
    return periods


def _server(explicit: WarehouseTarget | None) -> WarehouseTarget:
    if explicit is not None:
        return explicit
    if answers(MACHINE_SERVER):
        return MACHINE_SERVER
    return start_embedded(EMBEDDED_PGDATA, dbname="postgres")


def _create_database(server: WarehouseTarget, dbname: str) -> None:
    with psycopg.connect(server.conninfo, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            conn.execute(f'CREATE DATABASE "{dbname}"')


def _tails(paths: StackPaths, lines: int = 30) -> str:
    parts = []
    for record in recorded(paths.pids):
        state = "running" if record.alive() else "not running"
        try:
            tail = "\n".join(record.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            tail = "(no log)"
        parts.append(f"--- {record.name} ({state}), last {lines} lines of {record.log}:\n{tail}")
    return "\n".join(parts)


def _wait(paths: StackPaths, what: str, probe, timeout: float, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        dead = [r.name for r in recorded(paths.pids) if not r.alive()]
        if dead:
            raise StackError(f"{', '.join(dead)} exited while waiting for {what}\n{_tails(paths)}")
        if result := probe():
            return result
        if time.monotonic() > deadline:
            raise StackError(f"timed out after {timeout:.0f} s waiting for {what}\n{_tails(paths)}")
        time.sleep(interval)


def _start_sandboxes(paths: StackPaths, scenario: dict) -> dict[str, str]:
    """The sandboxes as a background ``serve`` process; returns their ``AIRFLOW_CONN_*`` variables."""
    paths.sandboxes.mkdir(parents=True, exist_ok=True)
    scenario_file = paths.sandboxes / "scenario.json"
    scenario_file.write_text(json.dumps(scenario))
    endpoints = paths.sandboxes / "endpoints.json"
    endpoints.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "devtools.vendor_sandboxes", "serve", "--scenario", str(scenario_file)]
    argv += ["--state-dir", str(paths.sandboxes)]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    start_detached("sandboxes", argv, env=env, cwd=PROJECT_ROOT, log_dir=paths.logs, pid_dir=paths.pids)
    _wait(paths, "the vendor sandboxes", endpoints.exists, timeout=60)
    time.sleep(0.1)  # written in one call; give the write its moment
    return json.loads(endpoints.read_text())["env"]


def _write_cli(paths: StackPaths, env: Mapping[str, str]) -> None:
    """``folder/env`` (the variables that differ from the caller's) and the ``folder/airflow`` wrapper."""
    own = {
        k: v
        for k, v in env.items()
        if os.environ.get(k) != v or k.startswith(("AIRFLOW", "CCMS", "GX_")) or k == "NO_PROXY"
    }
    own["PYTHONPATH"] = str(PROJECT_ROOT)
    paths.env_file.write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(own.items())))
    paths.env_file.chmod(0o600)
    paths.airflow_cli.write_text(
        "#!/bin/sh\n# The Airflow CLI against the stack in this folder (written by `make stack`).\n"
        f'. "$(dirname "$0")/env"\ncd {shlex.quote(str(PROJECT_ROOT))}\nexec {shlex.quote(str(AIRFLOW_BIN))} "$@"\n'
    )
    paths.airflow_cli.chmod(0o700)


def _password(paths: StackPaths) -> str:
    """The UI login's password: generated once per stack folder, kept where the auth manager reads it."""
    paths.airflow_home.mkdir(parents=True, exist_ok=True)
    if paths.passwords.exists():
        with_password = json.loads(paths.passwords.read_text())
        if with_password.get("admin"):
            return with_password["admin"]
    password = os.urandom(9).hex()
    paths.passwords.write_text(json.dumps({"admin": password}))
    paths.passwords.chmod(0o600)
    return password


def running(root: Path) -> list[Recorded]:
    return [r for r in recorded(StackPaths(root).pids) if r.alive()]


def start(
    root: Path,
    *,
    server: WarehouseTarget | None = None,
    past_periods: int = 4,
    extra_env: Mapping[str, str] | None = None,
    startup_timeout: float = 180,
) -> StackInfo:
    """Bring the stack up under ``root`` (see the module docstring); raise :class:`StackError` if it
    does not come up (what it started is stopped again)."""
    paths = StackPaths(root.resolve())
    if alive := running(paths.root):
        names = ", ".join(r.name for r in alive)
        raise StackError(f"a stack is already running from {paths.root} ({names}): stop it first (make stop-stack)")
    paths.root.mkdir(parents=True, exist_ok=True)
    server = _server(server)
    warehouse_db, metadata_db = paths.database_names()
    for dbname in (warehouse_db, metadata_db):
        _create_database(server, dbname)
    warehouse = server.with_database(warehouse_db)
    apply_migrations(warehouse.conninfo)
    periods = demo_periods(past_periods)
    state = generate_periods(load_calendar(), periods)
    with psycopg.connect(warehouse.conninfo, autocommit=True) as conn:
        write_state(conn, state)
    try:
        vendor_env = _start_sandboxes(paths, state.scenario)
        api_port, log_port = free_port(), free_port()
        env = stack_env(
            paths.airflow_home,
            server.with_database(metadata_db),
            api_port,
            extra={
                WAREHOUSE_CONN_ENV: warehouse.as_role(LOADER_ROLE, os.environ.get("CCMS_LOADER_PASSWORD")).airflow_uri,
                "CCMS_REPORTS_DIR": str(paths.root / "reports"),
                "CCMS_DATA_DOCS_DIR": str(paths.root / "data_docs"),
                "PYTHONPATH": str(PROJECT_ROOT),
                **vendor_env,
                **(extra_env or {}),
            },
            log_server_port=log_port,
            all_admins=False,
        )
        password = _password(paths)
        install_local_settings(paths.airflow_home)
        _write_cli(paths, env)
        run_airflow(["db", "migrate"], env, log_file=paths.logs / "db-migrate.log")
        run_airflow(["pools", "import", str(POOLS_FILE)], env, log_file=paths.logs / "pools-import.log")
        launch = {"env": env, "cwd": PROJECT_ROOT, "log_dir": paths.logs, "pid_dir": paths.pids}
        api = ["api-server", "--host", "127.0.0.1", "--port", str(api_port)]
        start_detached("api-server", [str(AIRFLOW_BIN), *api], **launch)
        api_url = f"http://127.0.0.1:{api_port}"
        _wait(paths, f"the api-server at {api_url}", lambda: _healthy(api_url), startup_timeout)
        start_detached("dag-processor", [str(AIRFLOW_BIN), "dag-processor"], **launch)
        start_detached("scheduler", [str(AIRFLOW_BIN), "scheduler"], **launch)
        metadata = server.with_database(metadata_db)
        _wait(paths, f"the dag-processor to parse {DAG_ID}", lambda: _parsed(metadata), startup_timeout, 1)
        run_airflow(["dags", "unpause", DAG_ID], env, log_file=paths.logs / "unpause.log")
    except BaseException:
        stop_recorded(paths.pids, STOP_ORDER)
        raise
    info = StackInfo(
        root=str(paths.root),
        api_url=api_url,
        api_port=api_port,
        log_server_port=log_port,
        login="admin",
        password=password,
        server={"host": server.host, "port": server.port, "user": server.user},
        warehouse_db=warehouse_db,
        metadata_db=metadata_db,
        periods=[[p.start.isoformat(), p.end.isoformat()] for p in periods],
    )
    paths.info.write_text(json.dumps(asdict(info), indent=2))
    paths.info.chmod(0o600)
    return info


def _healthy(api_url: str) -> bool:
    try:
        return requests.get(f"{api_url}/api/v2/monitor/health", timeout=3).status_code == 200
    except requests.RequestException:
        return False


def _parsed(metadata: WarehouseTarget) -> bool:
    with psycopg.connect(metadata.conninfo, autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM dag d JOIN serialized_dag s USING (dag_id) WHERE d.dag_id = %s AND NOT d.is_stale",
            (DAG_ID,),
        ).fetchone()
    return found is not None


def stop(root: Path, *, drop_databases: bool = False) -> list[str]:
    """Stop the processes ``root``'s pid files name (only those); return the names that were running.

    ``drop_databases`` also drops the stack's two databases (tests; ``make stop-stack`` keeps them,
    so the next ``make stack`` finds its runs again).
    """
    paths = StackPaths(root.resolve())
    stopped = stop_recorded(paths.pids, STOP_ORDER)
    info = load_info(paths.root)
    if drop_databases and info is not None:
        admin = info.target("postgres")
        drop_database(admin.conninfo, info.warehouse_db)  # with the warehouse's own roles (V010)
        with psycopg.connect(admin.conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{info.metadata_db}" WITH (FORCE)')
    return stopped
