"""Great Expectations paid once per worker: imported in the process Airflow forks task processes from.

Validating a source costs ~3 s of GX import before a single row is checked, and a deployed Airflow
runs every task in a new process. Airflow 3.3 starts those processes by forking, without ``exec``:
``LocalExecutor`` forks its worker processes from ``airflow scheduler`` when the executor starts
(``multiprocessing`` with the ``fork`` start method, Linux's default) and each worker's task
supervisor forks the task process (``os.fork()`` in ``airflow.sdk.execution_time.supervisor``); the
Celery executor's prefork pool does the same below ``airflow celery worker``. A module imported in
that parent before the fork is already imported in every task process.

The one hook Airflow runs in that parent early enough is ``airflow_local_settings`` (imported by
``airflow.settings.initialize()`` in every Airflow process, before the scheduler starts its
executor). The project ships it as ``config/airflow_local_settings.py`` (a deployment copies it to
``$AIRFLOW_HOME/config/``, which Airflow puts on ``sys.path``); it calls :func:`preload_validation`,
which does the work only in ``airflow scheduler`` and ``airflow celery worker`` (the api-server,
the dag-processor and the CLI do not run tasks and do not pay for it), and not when
``CCMS_GX_PRELOAD=0`` (the bench measures with and without). On Python 3.14+, whose default
start method is ``forkserver``, the scheduler needs ``[scheduler] mp_start_method = fork`` for its
workers to inherit the preload. Under ``airflow dags test`` nothing
changes: the tasks run inside that one process, and the first validate task pays the import once.

What is preloaded is code, never state: the GX modules, the modules GX imports lazily when its
first context is built, the expectation registry lookups the outcome builder caches, and the
modules the task bodies import lazily (:data:`TASK_MODULES`: the hooks and the HTTP provider they
stand on, the pipeline steps, the report; ~0.4 s a task process otherwise, paid by each of a
run's 17 task instances, the extracts' on the cores they share). Each validation still builds its
own ephemeral context (``engine.run_gx``) and each task its own hooks and connections, so tasks
share nothing.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Sequence

PRELOAD_ENV = "CCMS_GX_PRELOAD"
#: The Airflow commands whose process forks the task processes (first positional arguments).
FORKING_COMMANDS = (("scheduler",), ("celery", "worker"))


def forks_task_processes(argv: Sequence[str]) -> bool:
    """Whether ``argv`` (an ``airflow ...`` command line) is a process tasks are forked from."""
    words = [arg for arg in argv[1:] if not arg.startswith("-")]
    if not argv or os.path.basename(argv[0]) != "airflow":
        return False
    return any(tuple(words[: len(command)]) == command for command in FORKING_COMMANDS)


#: What ``ccms_attendance.airflow_tasks`` imports inside its task bodies (they import lazily, so the
#: DAG file parses fast): imported here, before the fork, they are already imported in each task.
TASK_MODULES = (
    "ccms_attendance.airflow_tasks",
    "ccms_attendance.alerts.outcome",
    "ccms_attendance.assets",
    "ccms_attendance.hooks",
    "ccms_attendance.hooks.warehouse",
    "ccms_attendance.pipeline.abandoned_runs",
    "ccms_attendance.pipeline.extract",
    "ccms_attendance.pipeline.load",
    "ccms_attendance.pipeline.plan",
    "ccms_attendance.pipeline.reconcile",
    "ccms_attendance.pipeline.validate",
    "ccms_attendance.reporting",
    "ccms_attendance.rules.lifecycle",
    "ccms_attendance.ui.links",
    "ccms_attendance.validation.retention",
    "ccms_attendance.warehouse.bulk",
    "ccms_attendance.warehouse.sql_files",
)


def enabled() -> bool:
    return os.environ.get(PRELOAD_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def warm_validation() -> float:
    """Import GX, build (and drop) one ephemeral context, resolve the suites' expectation classes; seconds."""
    from ccms_attendance.validation.engine import _is_row_level, ephemeral_context, load_suite_dict
    from ccms_attendance.validation.suite_definitions import SUITE_NAMES

    started = time.perf_counter()
    ephemeral_context()  # imports GX (engine._gx) and what its first context pulls in lazily
    for suite in SUITE_NAMES:
        for expectation in load_suite_dict(suite)["expectations"]:
            _is_row_level(expectation["type"])
    return time.perf_counter() - started


def import_task_modules() -> float:
    """Import :data:`TASK_MODULES` (code only: none opens a connection or starts a thread); seconds."""
    started = time.perf_counter()
    for name in TASK_MODULES:
        importlib.import_module(name)
    return time.perf_counter() - started


def preload_validation(argv: Sequence[str] | None = None) -> bool:
    """From ``airflow_local_settings``: in a scheduler or Celery worker, warm validation and import
    the task modules; True if it did."""
    if not enabled() or not forks_task_processes(sys.argv if argv is None else argv):
        return False
    seconds = warm_validation()
    modules_seconds = import_task_modules()
    # Airflow configures logging only after importing the local settings: a log record would be lost.
    print(
        f"ccms_attendance: Great Expectations preloaded for the task processes in {seconds:.1f} s,"
        f" the task modules in {modules_seconds:.1f} s ({PRELOAD_ENV}=0 turns both off)",
        file=sys.stderr,
        flush=True,
    )
    return True
