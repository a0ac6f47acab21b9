"""GX preloaded only in the processes Airflow forks task processes from, and only when asked."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ccms_attendance.paths import CONFIG_DIR, PROJECT_ROOT
from ccms_attendance.validation.preload import PRELOAD_ENV, forks_task_processes


@pytest.mark.parametrize(
    ("argv", "forks"),
    [
        (["/venv/bin/airflow", "scheduler"], True),
        (["/venv/bin/airflow", "scheduler", "--pid", "/tmp/x"], True),
        (["/venv/bin/airflow", "celery", "worker", "-q", "default"], True),
        (["/venv/bin/airflow", "api-server", "--port", "8080"], False),
        (["/venv/bin/airflow", "dag-processor"], False),
        (["/venv/bin/airflow", "celery", "flower"], False),
        (["/venv/bin/airflow", "dags", "test", "scheduler"], False),
        (["/venv/bin/python", "-m", "pytest"], False),
        ([], False),
    ],
)
def test_which_processes_fork_tasks(argv, forks):
    assert forks_task_processes(argv) is forks


# The shipped airflow_local_settings.py imported as Airflow imports it (its folder on sys.path), in a
# fresh process whose command line is that of an Airflow process.
_SNIPPET = """
import sys
sys.path.append(sys.argv.pop(-1))
sys.argv = ["/venv/bin/airflow", *sys.argv[1:]]
import airflow_local_settings
print("great_expectations" in sys.modules)
"""


def _gx_loaded_after_local_settings(*command: str, preload: str = "1") -> bool:
    env = {**os.environ, PRELOAD_ENV: preload, "GX_ANALYTICS_ENABLED": "false"}
    settings = str(CONFIG_DIR)
    completed = subprocess.run(
        [sys.executable, "-c", _SNIPPET, *command, settings],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip().splitlines()[-1] == "True"


def test_the_scheduler_imports_gx_before_it_forks():
    assert _gx_loaded_after_local_settings("scheduler") is True


def test_the_api_server_does_not_and_the_switch_turns_it_off():
    assert _gx_loaded_after_local_settings("api-server") is False
    assert _gx_loaded_after_local_settings("scheduler", preload="0") is False
