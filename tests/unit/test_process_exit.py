"""An Airflow process of the deployment freezes its objects when it exits, so the interpreter's
finalization does not collect them all first."""

from __future__ import annotations

import os
import subprocess
import sys

from ccms_attendance.paths import CONFIG_DIR, PROJECT_ROOT

# An exit handler registered before the local settings runs after theirs (last-registered first):
# it reports whether the objects were frozen by then. The process imports the shipped
# airflow_local_settings.py as Airflow does (its folder on sys.path), as the CLI (`dags test`).
_SNIPPET = """
import atexit, gc, sys
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0, flush=True))
sys.path.append(sys.argv.pop(-1))
sys.argv = ["/venv/bin/airflow", "dags", "test", "ccms_attendance_period"]
import airflow_local_settings
print("frozen before exit:", gc.get_freeze_count() > 0, flush=True)
"""


def _exit_lines(snippet: str) -> list[str]:
    completed = subprocess.run(
        [sys.executable, "-c", snippet, str(CONFIG_DIR)],
        env={**os.environ, "GX_ANALYTICS_ENABLED": "false"},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in completed.stdout.splitlines() if line.startswith("frozen")]


def test_the_local_settings_freeze_the_objects_only_when_the_process_exits():
    assert _exit_lines(_SNIPPET) == ["frozen before exit: False", "frozen at exit: True"]


def test_without_the_local_settings_nothing_is_frozen():
    """The check above can fail: the same process without the local settings is not frozen."""
    snippet = _SNIPPET.replace("import airflow_local_settings", "")
    assert _exit_lines(snippet) == ["frozen before exit: False", "frozen at exit: False"]
