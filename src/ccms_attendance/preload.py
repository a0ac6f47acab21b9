"""Code paid once per Airflow process that forks, not once per task: imported before the fork.

Airflow 3.3 starts task processes and DAG-file parsers by forking, without ``exec``:
``LocalExecutor`` forks its worker processes from ``airflow scheduler`` when the executor starts
(``multiprocessing`` with the ``fork`` start method, Linux's default) and each worker's task
supervisor forks the task process (``os.fork()`` in ``airflow.sdk.execution_time.supervisor``); the
Celery executor's prefork pool does the same below ``airflow celery worker``, and ``airflow
dag-processor`` forks one process per DAG file it parses, with the same supervisor. A module
imported in that parent before the fork is already imported in every child.

What every such child would otherwise import again:

* **Parsing a DAG file and loading the plugins** (:data:`PARSE_MODULES`): each DAG-file parser
  process does both, and so does each task process (``task_runner.parse``; its listener manager
  loads the plugins). In a parser forked from ``airflow dag-processor`` that imported some 260
  modules, FastAPI and the UI app of ``plugins/ccms_plugin.py`` among them: 0.30-0.35 CPU s to
  parse the three DAG files and load the plugins, 0.07 s with the preload (forked children,
  development machine). A task process forked from the scheduler inherits more of them already;
  its parse takes ~0.015 s less.
* **Running the task bodies** (:data:`TASK_MODULES`): the modules ``airflow_tasks`` imports
  lazily (so that parsing stays cheap): the hooks and the HTTP provider they stand on, the pipeline
  steps, the report; ~0.4 s a task process otherwise.
* **Validating** (:func:`warm_validation`): the Great Expectations import, ~3 s before a single
  row is checked, and what GX's first context imports lazily.

The one hook Airflow runs in those parents early enough is ``airflow_local_settings`` (imported by
``airflow.settings.initialize()`` in every Airflow process, before the scheduler starts its
executor). The project ships it as ``config/airflow_local_settings.py`` (a deployment copies it to
``$AIRFLOW_HOME/config/``, which Airflow puts on ``sys.path``); it calls :func:`preload`, which
imports all three in ``airflow scheduler`` and ``airflow celery worker``, the parse modules alone in
``airflow dag-processor`` (it runs no task), nothing in the api-server or the CLI, and nothing when
``CCMS_GX_PRELOAD=0`` (the bench measures with and without). On Python 3.14+, whose default start
method is ``forkserver``, the scheduler needs ``[scheduler] mp_start_method = fork`` for its workers
to inherit it. Under ``airflow dags test`` the tasks run inside that one process, which forks
nothing: there the first task starts :func:`warm_validation` in a thread instead
(:func:`warm_validation_in_background`), so that the import is paid while the extracts wait for the
vendors, not on the run's path.

What is preloaded is code, never state: modules, the modules GX imports when its first context is
built, the expectation registry lookups the outcome builder caches. No connection is opened and,
in a process that forks, no thread started (forking a process with threads is unsafe); each
validation still builds its own ephemeral context (``gx_run.run_gx``) and each task its own hooks
and connections, so tasks share nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import time
from collections.abc import Sequence

PRELOAD_ENV = "CCMS_GX_PRELOAD"
#: The Airflow commands whose process forks the task processes (first positional arguments).
FORKING_COMMANDS = (("scheduler",), ("celery", "worker"))
#: The Airflow commands whose process forks DAG-file parsers but runs no task.
PARSER_COMMANDS = (("dag-processor",),)
#: The Airflow commands that run every task of a DAG run in their one process.
IN_PROCESS_COMMANDS = (("dags", "test"),)

#: What parsing the DAG files and loading the plugins imports beyond what a forking process has:
#: ``airflow.sdk``'s ``dag``/``task``/``TaskGroup`` (lazy attributes of ``airflow.sdk``), the
#: ``@task`` operator, the task runner's DAG bag, the modules the DAG files and the plugin name, and
#: ``pydantic.v1``, which FastAPI imports when the plugin's UI app adds its routes.
#: ``tests/unit/test_preload.py`` parses every DAG file and loads the plugins after the scheduler's
#: and the dag-processor's preload and fails if that imports any other module.
PARSE_MODULES = (
    "airflow.dag_processing.dagbag",
    "airflow.providers.standard.decorators.python",
    "airflow.sdk.definitions.decorators",
    "airflow.version",
    "ccms_attendance.airflow_tasks",
    "ccms_attendance.alerts.notifier",
    "ccms_attendance.assets",
    "ccms_attendance.intake.tasks",
    "ccms_attendance.timetables",
    "ccms_attendance.ui.app",
    "ccms_attendance.ui.links",
    "pydantic.v1",
)

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
    "ccms_attendance.preload",
    "ccms_attendance.reporting",
    "ccms_attendance.rules.lifecycle",
    "ccms_attendance.ui.links",
    "ccms_attendance.validation.retention",
    "ccms_attendance.warehouse.bulk",
    "ccms_attendance.warehouse.sql_files",
)


def _command_is(argv: Sequence[str], commands: tuple[tuple[str, ...], ...]) -> bool:
    words = [arg for arg in argv[1:] if not arg.startswith("-")]
    if not argv or os.path.basename(argv[0]) != "airflow":
        return False
    return any(tuple(words[: len(command)]) == command for command in commands)


def forks_task_processes(argv: Sequence[str]) -> bool:
    """Whether ``argv`` (an ``airflow ...`` command line) is a process tasks are forked from."""
    return _command_is(argv, FORKING_COMMANDS)


def forks_dag_parsers(argv: Sequence[str]) -> bool:
    """Whether ``argv`` is a process that forks processes which parse DAG files (tasks do too)."""
    return _command_is(argv, FORKING_COMMANDS + PARSER_COMMANDS)


def enabled() -> bool:
    return os.environ.get(PRELOAD_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def warm_validation() -> float:
    """Import GX, build (and drop) one ephemeral context, resolve the suites' expectation classes; seconds."""
    from ccms_attendance.validation.engine import _is_row_level, load_suite_dict
    from ccms_attendance.validation.gx_run import ephemeral_context
    from ccms_attendance.validation.suite_definitions import SUITE_NAMES

    started = time.perf_counter()
    ephemeral_context()  # imports GX (gx_run.import_gx) and what its first context pulls in lazily
    for suite in SUITE_NAMES:
        for expectation in load_suite_dict(suite)["expectations"]:
            _is_row_level(expectation["type"])
    return time.perf_counter() - started


def import_modules(names: Sequence[str], failed: list[str]) -> float:
    """Import ``names`` (code only: none opens a connection or starts a thread); seconds. A module
    that fails to import is added to ``failed``: the child that needs it imports it and fails there."""
    started = time.perf_counter()
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as error:
            failed.append(f"{name} ({type(error).__name__})")
    return time.perf_counter() - started


def runs_tasks_in_process(argv: Sequence[str]) -> bool:
    """Whether ``argv`` runs every task in its own process (``airflow dags test``)."""
    return _command_is(argv, IN_PROCESS_COMMANDS)


def warm_validation_in_background(argv: Sequence[str] | None = None) -> threading.Thread | None:
    """Under ``airflow dags test``, start :func:`warm_validation` in a thread; the thread, if started.

    There every task runs in the one process, one after another, and nothing forks it: the
    ``validate`` task would pay the GX import (2-3 s) on the run's path. Started by the first task,
    the import runs while the extract tasks mostly wait for the vendors; the ``validate`` task's own
    import then waits for it to finish (Python's import lock) instead of starting it. Anywhere else
    it does nothing: a task process forked from a preloaded scheduler or worker has GX imported
    already, and a thread in a short task process would be cut off when the process exits.
    """
    argv = sys.argv if argv is None else argv
    if not enabled() or not runs_tasks_in_process(argv) or "great_expectations" in sys.modules:
        return None
    thread = threading.Thread(target=_warm_quietly, name="ccms-warm-validation", daemon=True)
    thread.start()
    return thread


def _warm_quietly() -> None:
    # Only saves time: the validate task imports GX itself, and fails there if it must.
    with contextlib.suppress(Exception):
        warm_validation()


def preload(argv: Sequence[str] | None = None) -> bool:
    """From ``airflow_local_settings``: import what the processes this one forks would import
    again (above); True if it did.

    Best effort: it only saves time, so a failure never stops the Airflow process from starting
    (an exception here would); it is printed, and the task or parser that needs the module fails
    with the import error in its own log.
    """
    argv = sys.argv if argv is None else argv
    if not enabled() or not forks_dag_parsers(argv):
        return False
    failed: list[str] = []
    parsing = import_modules(PARSE_MODULES, failed)
    done = f"the DAG files' and the plugins' modules in {parsing:.1f} s"
    if forks_task_processes(argv):
        try:
            gx = f"in {warm_validation():.1f} s"
        except Exception as error:
            gx = "not preloaded"
            failed.append(f"Great Expectations ({type(error).__name__})")
        tasks = import_modules(TASK_MODULES, failed)
        done = f"Great Expectations {gx}, the task modules in {tasks:.1f} s, {done}"
    # Airflow configures logging only after importing the local settings: a log record would be lost.
    print(
        f"ccms_attendance: preloaded for the processes this one forks: {done} ({PRELOAD_ENV}=0 turns it off)",
        file=sys.stderr,
        flush=True,
    )
    if failed:
        print(f"ccms_attendance: WARNING: not preloaded: {', '.join(failed)}", file=sys.stderr, flush=True)
    return True
