"""What the forking Airflow processes preload (GX, the task modules, the DAG files' and plugins'
modules), only in them, only when asked, and that it covers what a forked child imports."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest

from ccms_attendance.paths import CONFIG_DIR, DAGS_DIR, PACKAGE_DIR, PROJECT_ROOT
from ccms_attendance.preload import (
    PRELOAD_ENV,
    TASK_MODULES,
    forks_dag_parsers,
    forks_task_processes,
    runs_tasks_in_process,
)


@pytest.mark.parametrize(
    ("argv", "tasks", "parsers"),
    [
        (["/venv/bin/airflow", "scheduler"], True, True),
        (["/venv/bin/airflow", "scheduler", "--pid", "/tmp/x"], True, True),
        (["/venv/bin/airflow", "celery", "worker", "-q", "default"], True, True),
        (["/venv/bin/airflow", "dag-processor"], False, True),
        (["/venv/bin/airflow", "api-server", "--port", "8080"], False, False),
        (["/venv/bin/airflow", "celery", "flower"], False, False),
        (["/venv/bin/airflow", "dags", "test", "scheduler"], False, False),
        (["/venv/bin/python", "-m", "pytest"], False, False),
        ([], False, False),
    ],
)
def test_which_processes_fork_tasks_and_parsers(argv, tasks, parsers):
    assert forks_task_processes(argv) is tasks
    assert forks_dag_parsers(argv) is parsers
    assert runs_tasks_in_process(argv) is (argv[1:3] == ["dags", "test"])


# The first task's call, in a fresh process with an Airflow command line: whether it started a
# thread, and whether GX was imported once that thread was done.
_WARM_SNIPPET = """
import sys
sys.argv = ["/venv/bin/airflow", *sys.argv[1:]]
from ccms_attendance.preload import warm_validation_in_background
thread = warm_validation_in_background()
if thread is not None:
    thread.join()
print(thread is not None, "great_expectations" in sys.modules)
"""


@pytest.mark.parametrize(
    ("command", "preload", "warmed"),
    [
        (("dags", "test", "ccms_attendance_period", "2026-11-10"), "1", True),
        (("dags", "test", "ccms_attendance_period", "2026-11-10"), "0", False),
        (("tasks", "test", "ccms_attendance_period", "plan"), "1", False),
        (("scheduler",), "1", False),
    ],
)
def test_only_dags_test_imports_gx_in_a_thread_of_its_own(command, preload, warmed):
    completed = subprocess.run(
        [sys.executable, "-c", _WARM_SNIPPET, *command],
        env={**os.environ, PRELOAD_ENV: preload, "GX_ANALYTICS_ENABLED": "false"},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.split() == [str(warmed), str(warmed)]


# The shipped airflow_local_settings.py imported as Airflow imports it (its folder on sys.path), in a
# fresh process whose command line is that of an Airflow process.
_SNIPPET = """
import sys
sys.path.append(sys.argv.pop(-1))
sys.argv = ["/venv/bin/airflow", *sys.argv[1:]]
import airflow_local_settings
print("great_expectations" in sys.modules, "ccms_attendance.pipeline.extract" in sys.modules, "fastapi" in sys.modules)
"""


def _preloaded_after_local_settings(*command: str, preload: str = "1") -> tuple[bool, bool, bool]:
    """(GX imported, an extract task's modules imported, the plugin's UI app's FastAPI imported)
    after the local settings."""
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
    gx, task_modules, parse_modules = completed.stdout.strip().splitlines()[-1].split()
    return gx == "True", task_modules == "True", parse_modules == "True"


def test_the_scheduler_imports_gx_the_task_and_the_parse_modules_before_it_forks():
    assert _preloaded_after_local_settings("scheduler") == (True, True, True)


def test_the_dag_processor_imports_the_parse_modules_only():
    assert _preloaded_after_local_settings("dag-processor") == (False, False, True)


def test_the_api_server_does_not_and_the_switch_turns_it_off():
    assert _preloaded_after_local_settings("api-server") == (False, False, False)
    assert _preloaded_after_local_settings("scheduler", preload="0") == (False, False, False)
    assert _preloaded_after_local_settings("dag-processor", preload="0") == (False, False, False)


# After a forking process's preload, what its child does: load the plugins (a task runner's listener
# manager does) and parse a DAG file (``task_runner.parse``, or a dag-processor's parser), here every
# DAG file; it prints the modules that imported (the DAG files' own modules aside).
_PARSE_SNIPPET = """
import sys
from pathlib import Path
if COMMAND == "dag-processor":
    import airflow.dag_processing.processor  # the dag-processor has imported its own code before it forks
sys.argv = ["/venv/bin/airflow", COMMAND]
from ccms_attendance.preload import preload
assert preload()
before = set(sys.modules)
from airflow.dag_processing.dagbag import BundleDagBag
from airflow.sdk.listener import get_listener_manager
get_listener_manager()
dags = Path(DAGS)
for path in sorted(dags.glob("*.py")):
    bag = BundleDagBag(
        dag_folder=str(path), safe_mode=False, load_op_links=False, bundle_path=str(dags), bundle_name="dags-folder"
    )
    assert bag.dags and not bag.import_errors, (path, bag.import_errors)
loaded = sorted(set(sys.modules) - before)
print("new:", " ".join(loaded))
"""


@pytest.mark.parametrize("command", ["scheduler", "dag-processor"])
def test_a_forked_child_parses_the_dag_files_and_loads_the_plugins_without_importing_more(command):
    """A module the DAG files or the plugin import, missing from ``PARSE_MODULES``, would be imported
    again by every task process and every DAG-file parser (FastAPI and the UI app among them)."""
    env = {**os.environ, PRELOAD_ENV: "1", "GX_ANALYTICS_ENABLED": "false"}
    snippet = _PARSE_SNIPPET.replace("DAGS", repr(str(DAGS_DIR))).replace("COMMAND", repr(command))
    completed = subprocess.run(
        [sys.executable, "-c", snippet], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    loaded = completed.stdout.strip().splitlines()[-1].removeprefix("new:").split()
    dag_files = {name for name in loaded if name.startswith("unusual_prefix_")}  # how a DagBag names a DAG file
    assert len(dag_files) == len(list(DAGS_DIR.glob("*.py")))  # every DAG file was parsed here
    assert set(loaded) - dag_files == {"ccms_plugin"}  # the plugin file itself; what it imports is preloaded


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


def test_a_module_that_fails_to_import_never_stops_the_process_from_starting(monkeypatch, capsys):
    """The preload only saves time: the scheduler starts anyway, and says what it could not preload."""
    from ccms_attendance import preload as preload_module

    monkeypatch.setenv(PRELOAD_ENV, "1")
    monkeypatch.setattr(preload_module, "PARSE_MODULES", ("ccms_attendance.no_such_module", "json"))
    assert preload_module.preload(["/venv/bin/airflow", "dag-processor"]) is True
    printed = capsys.readouterr().err
    assert "the DAG files' and the plugins' modules in" in printed
    assert "WARNING: not preloaded: ccms_attendance.no_such_module (ModuleNotFoundError)" in printed
