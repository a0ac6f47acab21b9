"""Fixed costs the bench reports beside every period: DAG parse time, the GX import, the machine."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from typing import Any

import psutil

from ccms_attendance.airflow_tasks import site_batch_count
from ccms_attendance.paths import DAGS_DIR, PROJECT_ROOT
from devtools.bench.report import GIB

DAG_ID = "ccms_attendance_period"
DAG_FILE = DAGS_DIR / "ccms_attendance_period.py"


# --- DAG parse time ------------------------------------------------------------------------------

_PARSE_SNIPPET = """
import json, time, sys
from airflow.dag_processing.dagbag import DagBag  # Airflow itself is imported before the clock starts
from airflow.sdk.definitions.mappedoperator import MappedOperator
import ccms_attendance.airflow_tasks  # noqa: F401  (so is the project's package)
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1], bundle_path=sys.argv[2])
seconds = time.perf_counter() - started
dag = bag.dags.get(sys.argv[3])
print(json.dumps({"seconds": seconds, "errors": {k: str(v)[:300] for k, v in bag.import_errors.items()},
                  "tasks": len(dag.tasks) if dag else None,
                  "mapped_tasks": sum(1 for t in dag.tasks if isinstance(t, MappedOperator)) if dag else None}))
"""


def dag_parse(env: dict[str, str], repeats: int = 3) -> dict[str, Any]:
    """Time parsing ``dags/ccms_attendance_period.py`` into a DagBag, in fresh processes; keep the median."""
    results = []
    for _ in range(repeats):
        completed = subprocess.run(
            [sys.executable, "-c", _PARSE_SNIPPET, str(DAG_FILE), str(DAGS_DIR), DAG_ID],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=PROJECT_ROOT,
        )
        results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    results.sort(key=lambda r: r["seconds"])
    median = results[len(results) // 2]
    batch_count = site_batch_count()  # what the DAG maps each vendor over
    unmapped = median["tasks"] - median["mapped_tasks"] if median["tasks"] is not None else None
    return {
        "seconds": round(median["seconds"], 3),
        "all_seconds": [round(r["seconds"], 3) for r in results],
        "import_errors": median["errors"],
        "tasks": median["tasks"],
        "mapped_tasks": median["mapped_tasks"],
        "site_batches_per_vendor": batch_count,
        "max_task_instances_per_period": unmapped + median["mapped_tasks"] * batch_count if unmapped else None,
    }


# --- fixed costs ---------------------------------------------------------------------------------

# Importing Great Expectations, which the validate task pays where nothing preloaded it (Airflow, pandas and
# the project already imported), timed in a fresh process. Airflow's own start is read from each
# run's log (measure.airflow_phases).
_GX_IMPORT_SNIPPET = """
import time
import airflow.sdk, pandas, ccms_attendance.airflow_tasks  # noqa: F401
from ccms_attendance.validation.gx_run import import_gx
started = time.perf_counter()
import_gx()
print(time.perf_counter() - started)
"""


def gx_import_seconds(env: dict[str, str], repeats: int = 3) -> float:
    """Median seconds of importing Great Expectations over ``repeats`` fresh processes."""
    command = [sys.executable, "-c", _GX_IMPORT_SNIPPET]
    runs = [
        subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
        for _ in range(repeats)
    ]
    seconds = sorted(float(run.stdout.split()[-1]) for run in runs)
    return round(seconds[len(seconds) // 2], 3)


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / GIB, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in load],
    }
