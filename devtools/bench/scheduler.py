"""``--scheduler``: the same statewide period run by a deployed scheduler, measured from its metadata.

``airflow dags test`` runs one task at a time in one process; the state would deploy a scheduler.
This stage runs the period the deployed way, with the stack the end-to-end tests use
(``devtools/stack/airflow_stack.py``, whose environment is ``make stack``'s, ``devtools/stack/config.py``):

* a PostgreSQL metadata database of its own, ``airflow db migrate``, the pools of
  ``config/pools.json`` (2 extract tasks per vendor);
* api-server (the Execution API the tasks talk to), dag-processor, scheduler with the
  ``LocalExecutor`` and ``--parallelism`` worker processes (default 7, the DAG's widest step: the
  three vendors' pools full at once and the PPP extract, which no pool holds), so the
  vendors' task groups run side by side and none waits for an executor slot;
* ``config/airflow_local_settings.py`` in ``$AIRFLOW_HOME/config/``, as a deployment installs it:
  the scheduler preloads Great Expectations, the task modules and the DAG files' and plugins'
  modules for the task processes it forks (``ccms_attendance.preload``; ``--gx-preload off``
  measures without);
* ``[scheduler] use_job_schedule = False``: the timetable would otherwise schedule the latest
  period on its own as soon as the DAG is unpaused; triggered runs still run.

The stack starts (and the DAG is parsed) before the clock; the run is triggered through the REST
API with a logical date in the bench period (:func:`trigger`: the CLI would take the period from
the moment of triggering). Measured, from the run's and its task instances' rows in the
metadata DB: **run creation** (``dag_run.created_at``) **to the report task's end**, the run's
scheduling latency, each task's queue wait, and per stage the task seconds and the stage's span.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from ccms_attendance.preload import PRELOAD_ENV
from ccms_attendance.warehouse.target import WarehouseTarget
from devtools.bench.cpu import CpuSampler, cpu_report
from devtools.bench.measure import RssSampler, TaskTiming, stack_run_timings
from devtools.bench.task_cpu import ExecutorCpu
from devtools.demo.__main__ import SYNC_DAG_ID
from devtools.local_airflow import install_local_settings
from devtools.stack.config import WIDEST_STEP

DAG_ID = "ccms_attendance_period"
#: With 6, one vendor batch waited for the PPP extract's slot (docs/performance.md, "Statewide period").
DEFAULT_PARALLELISM = WIDEST_STEP


def scheduler_env(extra: Mapping[str, str], parallelism: int, gx_preload: bool) -> dict[str, str]:
    """What the bench adds to the stack's environment (``stack_env`` keeps the rest)."""
    return {
        **extra,
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        PRELOAD_ENV: "1" if gx_preload else "0",
    }


def trigger(api_url: str, run_id: str, day: dt.date, dag_id: str = DAG_ID) -> None:
    """A manual run of ``dag_id`` (the period containing ``day``), through the REST API as the UI's
    trigger form does.

    Not ``airflow dags trigger --logical-date``: in Airflow 3.3 the CLI infers the data interval
    from the moment of triggering (``run_after``), so it would run the current period whatever the
    logical date; the API infers it from the logical date (noon UTC: inside the day in the state's
    time zone).
    """
    token = requests.get(f"{api_url}/auth/token", timeout=30).json()["access_token"]
    logical = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC).isoformat()
    response = requests.post(
        f"{api_url}/api/v2/dags/{dag_id}/dagRuns",
        json={"dag_run_id": run_id, "logical_date": logical},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    if response.status_code != 200:
        raise RuntimeError(f"triggering {dag_id} failed: HTTP {response.status_code} {response.text[:500]}")


def run_under_scheduler(
    home: Path,
    admin: WarehouseTarget,
    extra_env: Mapping[str, str],
    day: dt.date,
    *,
    parallelism: int,
    gx_preload: bool,
    exclude_pids: set[int],
    timeout: float,
) -> dict[str, Any]:
    """Start the stack under ``home``, trigger the period's run, wait for it; return what was measured."""
    from devtools.stack.airflow_stack import airflow_stack

    shutil.rmtree(home, ignore_errors=True)
    install_local_settings(home)
    env = scheduler_env(extra_env, parallelism, gx_preload)
    run_id = f"bench__{day.isoformat()}__{int(time.time())}"
    started = time.perf_counter()
    with airflow_stack(home, admin, env, startup_timeout=300) as stack:
        for dag_id in (SYNC_DAG_ID, DAG_ID):
            stack.wait_for_dag(dag_id, timeout=300)
            stack.unpause(dag_id)
        # The state arrives as in a deployment: the stack's own sync run applies the drop. The
        # period run then meets an api-server that has served task runs before (its first one pays
        # a cold start, recorded as the sync's first task wait).
        sync_run_id = f"bench_sync__{int(time.time())}"
        sync_started = time.perf_counter()
        trigger(stack.api_url, sync_run_id, day, SYNC_DAG_ID)
        stack.wait_for_runs(SYNC_DAG_ID, run_ids=[sync_run_id], count=1, timeout=timeout)
        sync_run, sync_timings = stack_run_timings(stack.metadata.conninfo, SYNC_DAG_ID, sync_run_id)
        if sync_run["state"] != "success":
            raise RuntimeError(f"{SYNC_DAG_ID} failed in the stack; see {stack.log_dir}")
        sync_seconds = time.perf_counter() - sync_started
        startup = time.perf_counter() - started - sync_seconds
        # The scheduler's own loop apart from its children: the executor's workers and their tasks.
        trees = {"sandboxes": exclude_pids, **{name: [p.pid] for name, p in stack.processes.items()}}
        executor = ExecutorCpu(stack.processes["scheduler"].pid)
        cpu = CpuSampler(trees, remainder="other", split=frozenset({"scheduler"}), observers=[executor])
        cpu.measure_idle()  # the idle stack: its scheduler, api-server and dag-processor loops
        with cpu, RssSampler(exclude=exclude_pids) as sampler:
            trigger(stack.api_url, run_id, day)
            stack.wait_for_runs(DAG_ID, run_ids=[run_id], count=1, timeout=timeout)
        run, timings = stack_run_timings(stack.metadata.conninfo, DAG_ID, run_id)
        preloaded = preload_seconds(stack.log_dir / "scheduler.log")
    return {
        "run_id": run_id,
        "run": run,
        "timings": timings,
        "sampler": sampler,
        "cpu": cpu,
        "task_cpu_seconds": executor.by_task(),
        "startup_seconds": round(startup, 1),
        "sync": _sync_report(sync_run, sync_timings, sync_seconds),
        "parallelism": parallelism,
        "gx_preload": gx_preload,
        "gx_preloaded_seconds": preloaded,
    }


def _sync_report(run: Mapping[str, Any], timings: list[TaskTiming], seconds: float) -> dict[str, Any]:
    """The stack's sync run (not timed as the period's): how long, and how long its first task waited."""
    started = [t for t in timings if t.start]
    first = min(started, key=lambda t: t.start) if started else None
    return {
        "seconds": round(seconds, 1),
        "tasks": len(started),
        "first_task": first.task_id if first else None,
        "first_task_seconds": round(first.seconds, 3) if first else None,
    }


_PRELOADED = re.compile(r"preloaded for the processes this one forks: Great Expectations in ([0-9.]+) s")


def preload_seconds(scheduler_log: Path) -> float | None:
    """What the scheduler's log says the preload took (None: it did not preload)."""
    found = _PRELOADED.search(scheduler_log.read_text(errors="replace")) if scheduler_log.exists() else None
    return float(found.group(1)) if found else None


def _span(windows: list[TaskTiming]) -> float:
    return max(t.end for t in windows) - min(t.start for t in windows) if windows else 0.0


def max_concurrent(windows: list[TaskTiming]) -> int:
    """The most task instances running at one instant (a sweep over their start and end instants)."""
    events = sorted([(t.start, 1) for t in windows if t.end] + [(t.end, -1) for t in windows if t.end])
    running = peak = 0
    for _, step in events:  # at equal instants an end (-1) sorts before a start (+1)
        running += step
        peak = max(peak, running)
    return peak


#: The tasks whose end ends the measured run (``check_period``, the verdict after them, is not counted).
PRODUCTS = {"report", "data_docs"}

#: The extract stages, side by side between the plan and the validate task.
EXTRACTS = ("extract PPP", "extract ALLIANCE_CORE", "extract BRIGHTWHEEL", "extract PLAYGROUND")

#: The run's sequential steps: (name, stages that must end, stages that then start).
HANDOFFS = (
    ("plan -> extract", ("plan",), EXTRACTS),
    ("extract -> validate", EXTRACTS, ("validate",)),
    ("validate -> reconcile", ("validate",), ("reconcile",)),
    ("reconcile -> load", ("reconcile",), ("load",)),
    ("load -> report", ("load",), ("report",)),
    ("reconcile -> data docs", ("reconcile",), ("data docs",)),
)


def handoffs(stages: dict[str, list[TaskTiming]]) -> dict[str, float | None]:
    """Seconds between a step's last task ending and the next step's first task starting: the
    scheduler's own latency on the run's sequential path (task start-up included)."""
    gaps: dict[str, float | None] = {}
    for name, before, after in HANDOFFS:
        ends = [t.end for stage in before for t in stages.get(stage, [])]
        starts = [t.start for stage in after for t in stages.get(stage, [])]
        gaps[name] = round(min(starts) - max(ends), 3) if ends and starts else None
    return gaps


def scheduler_report(measured: dict[str, Any], stages: dict[str, list[TaskTiming]]) -> dict[str, Any]:
    """The scheduler run's figures: creation to the end of its last product (the report or the data docs,
    which run beside the load and the report), latencies, per-stage seconds and spans. The ratios to
    the floor are :func:`judge_against_floor`'s, once the floor beside the run is measured."""
    run, sampler = measured["run"], measured["sampler"]
    timings = [t for t in measured["timings"] if t.start and t.end]  # skipped / upstream-failed tasks never ran
    # Only a report and data docs that succeeded end the measured run: a failed run has no figure, not a short one.
    ends = {t.task_id: t.end for t in timings if t.task_id in PRODUCTS and t.state == "success"}
    created = run["created"]
    wall = max(ends.values()) - created if ends.keys() == PRODUCTS else None
    first_start = min((t.start for t in timings if t.start), default=0.0)
    waits = [t.start - t.queued for t in timings if t.queued and t.start]
    task_seconds = sum(t.seconds for t in timings if t.task_id != "check_period")
    return {
        "run_id": measured["run_id"],
        "state": run["state"],
        "parallelism": measured["parallelism"],
        "gx_preload": measured["gx_preload"],
        "gx_preloaded_seconds": measured["gx_preloaded_seconds"],
        "stack_startup_seconds": measured["startup_seconds"],
        "state_sync": measured["sync"],
        "created_to_end_seconds": round(wall, 3) if wall else None,
        "last_product": max(ends, key=ends.__getitem__) if wall else None,
        "created_to_first_task_seconds": round(first_start - created, 3) if first_start else None,
        "task_seconds": round(task_seconds, 3),
        "max_concurrent_tasks": max_concurrent(timings),
        "task_queue_wait_seconds": {
            "total": round(sum(waits), 3),
            "max": round(max(waits, default=0.0), 3),
            "tasks": len(waits),
        },
        "stages": {
            name: {
                "tasks": len(windows),
                "task_seconds": round(sum(t.seconds for t in windows), 3),
                "span_seconds": round(_span(windows), 3),
                "max_task_seconds": round(max((t.seconds for t in windows), default=0.0), 3),
                # What its tasks cost in CPU (task processes and their supervisors), whatever they waited for.
                "task_cpu_seconds": round(sum(measured["task_cpu_seconds"].get(t.ti_id, 0.0) for t in windows), 2),
            }
            for name, windows in stages.items()
        },
        "handoff_seconds": handoffs(stages),
        "failed_tasks": sorted({t.task_id for t in measured["timings"] if t.state != "success"}),
        "peak_rss_mib_all_stack_processes": round(sampler.peak() / (1 << 20), 1),
        "cpu": _cpu(measured["cpu"], created, wall),
    }


def _cpu(cpu: CpuSampler, created: float, wall: float | None) -> dict[str, Any] | None:
    """The machine's CPU from the run's creation to its last product (:func:`judge_against_floor`
    adds what it bounds the run to against the floor)."""
    if not wall:
        return None
    figures: dict[str, Any] = cpu_report(cpu.between(created, created + wall), wall)
    figures["idle_busy_per_second"] = cpu.idle_busy_per_second
    return figures


def judge_against_floor(result: dict[str, Any], floor: Mapping[str, Any], dags_test_floor: Mapping[str, Any]) -> None:
    """Judge the scheduler run against ``floor``, measured right after it; keep the ratio to the floor
    measured after the ``dags test`` (minutes earlier) beside it."""
    wall, seconds = result["created_to_end_seconds"], floor["seconds"]
    result["floor"] = dict(floor)
    result["vs_floor"] = round(wall / seconds, 2) if wall and seconds else None
    result["vs_dags_test_floor"] = round(wall / dags_test_floor["seconds"], 2) if wall else None
    cpu = result.get("cpu")
    if cpu:
        # However the same work were spread over these cores, the run could not end sooner than this.
        cpu["cpu_bound_vs_floor"] = round(cpu["cpu_bound_seconds"] / seconds, 2) if seconds else None
