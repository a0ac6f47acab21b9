"""GX and the task modules preloaded only in the processes Airflow forks task processes from, and
only when asked."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest

from ccms_attendance.paths import CONFIG_DIR, PACKAGE_DIR, PROJECT_ROOT
from ccms_attendance.validation.preload import PRELOAD_ENV, TASK_MODULES, forks_task_processes


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
print("great_expectations" in sys.modules, "ccms_attendance.pipeline.extract" in sys.modules)
"""


def _preloaded_after_local_settings(*command: str, preload: str = "1") -> tuple[bool, bool]:
    """(GX imported, an extract task's modules imported) after the local settings."""
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
    gx, task_modules = completed.stdout.strip().splitlines()[-1].split()
    return gx == "True", task_modules == "True"


def test_the_scheduler_imports_gx_and_the_task_modules_before_it_forks():
    assert _preloaded_after_local_settings("scheduler") == (True, True)


def test_the_api_server_does_not_and_the_switch_turns_it_off():
    assert _preloaded_after_local_settings("api-server") == (False, False)
    assert _preloaded_after_local_settings("scheduler", preload="0") == (False, False)


def test_every_module_a_task_body_imports_is_preloaded():
    """A lazy import added to a task body and not to ``TASK_MODULES`` would be paid by every task."""
    tree = ast.parse((PACKAGE_DIR / "airflow_tasks.py").read_text())
    lazy = {
        node.module
        for function in tree.body
        if isinstance(function, ast.FunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ccms_attendance")
    }
    assert "ccms_attendance.pipeline.extract" in lazy  # the scan finds the task bodies' imports
    assert lazy <= set(TASK_MODULES)
