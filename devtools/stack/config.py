"""The environment every process of a real Airflow stack shares, and where a stack keeps its files.

One place for both ``make stack`` and the end-to-end tests' stacks (``devtools/stack/airflow_stack.py``),
so the tests start Airflow the way the README tells a person to.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ccms_attendance.warehouse.target import WarehouseTarget
from devtools.local_airflow import airflow_env

#: LocalExecutor workers: the default (32) starts 32 processes. 4 keeps a 2-core machine from
#: thrashing; the DAG's widest step (six extract batches and the PPP extract) then runs in
#: two waves. A deployment sizes it to that step (docs/operations.md).
PARALLELISM = 4
#: The period DAG's widest step: the pools' six extract slots (2 per vendor) + the PPP extract,
#: which no pool holds (validate runs once they are all done). The bench and the end-to-end tests'
#: stacks run with it: more only starts task processes that wait for the two cores (with 32, a CI
#: run's backfill of three periods ran out of its time beside another test's stack).
WIDEST_STEP = 7


def sqlalchemy_url(target: WarehouseTarget, driver: str = "postgresql+psycopg") -> str:
    """``target`` as a SQLAlchemy URL (a socket directory goes into ``?host=``, as libpq wants it)."""
    user = quote(target.user, safe="") + (f":{quote(target.password, safe='')}" if target.password else "")
    if target.host.startswith("/"):
        port = f"&port={target.port}" if target.port else ""
        return f"{driver}://{user}@/{target.dbname}?host={quote(target.host, safe='/')}{port}"
    port = f":{target.port}" if target.port else ""
    return f"{driver}://{user}@{target.host}{port}/{target.dbname}"


def stack_env(
    home: Path,
    metadata: WarehouseTarget,
    api_port: int,
    executor: str = "LocalExecutor",
    extra: Mapping[str, str] | None = None,
    *,
    log_server_port: int | None = None,
    all_admins: bool = True,
    parallelism: int | None = PARALLELISM,
) -> dict[str, str]:
    """Everything the stack's processes share: project folders, PG metadata, executor, API, auth.

    ``log_server_port`` moves the scheduler's log server off its fixed default (8793), so two stacks
    on one machine never clash; ``all_admins=False`` makes the UI ask for a login (simple auth
    manager, user ``admin``, password in ``home``); ``parallelism=None`` keeps Airflow's default (32).
    """
    backend = sqlalchemy_url(metadata)
    return airflow_env(
        home,
        {
            # A pytest process runs with Airflow's unit-test mode; a stack must behave like production.
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": backend,
            "AIRFLOW__CORE__EXECUTOR": executor,
            # Used only by the CeleryExecutor (with a broker in ``extra``): task results in the metadata DB.
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + sqlalchemy_url(metadata, "postgresql"),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            # Shared by the api-server (which signs task tokens) and the scheduler/workers.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": str(all_admins),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            **({"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_server_port)} if log_server_port else {}),
            **({"AIRFLOW__CORE__PARALLELISM": str(parallelism)} if parallelism else {}),
            **(extra or {}),
        },
    )


@dataclass(frozen=True)
class StackPaths:
    """A stack's folder (``.stack/`` in the checkout for ``make stack``, a temp folder in tests)."""

    root: Path

    @property
    def airflow_home(self) -> Path:
        return self.root / "home"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    @property
    def sandboxes(self) -> Path:
        return self.root / "sandboxes"

    @property
    def env_file(self) -> Path:
        """``export`` lines of the stack's environment (``source .stack/env``); secrets, mode 600."""
        return self.root / "env"

    @property
    def airflow_cli(self) -> Path:
        """``.stack/airflow ARGS``: the Airflow CLI against this stack (its env, the venv's airflow)."""
        return self.root / "airflow"

    @property
    def info(self) -> Path:
        """What ``start`` printed, as JSON: URL, ports, login, databases, periods."""
        return self.root / "stack.json"

    @property
    def passwords(self) -> Path:
        return self.airflow_home / "simple_auth_manager_passwords.json.generated"

    def database_names(self) -> tuple[str, str]:
        """(warehouse, metadata) database names, one pair per stack folder: checkouts never share."""
        tag = hashlib.sha1(str(self.root.resolve()).encode()).hexdigest()[:8]
        return f"ccms_stack_{tag}", f"ccms_stack_{tag}_airflow"
