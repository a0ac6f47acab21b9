"""How the benchmark measures: memory sampling of the Airflow process, task timings from its metadata.

``airflow dags test`` runs every task inside its one process (Airflow 3's in-process test
supervisor), one task at a time. So:

* a stage's **wall time** is the sum of its task instances' durations (``start_date``/``end_date``
  in the run's metadata database), and the run's wall time is the ``dags test`` process lifetime;
* **memory** is sampled from outside: a thread reads the RSS of the ``dags test`` process tree every
  50 ms (psutil; :class:`RssSampler`), and a stage's peak is the highest sample inside its task windows. Python rarely
  returns freed memory to the OS, so a stage's peak includes what earlier stages left allocated;
  the run's peak is also cross-checked with the kernel's own high-water mark (``ru_maxrss`` of the
  waited-for child processes).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import resource
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg

from devtools.bench.cpu import ProcessTable


@dataclass
class RssSampler:
    """Sample the summed RSS of this process's children (minus ``exclude`` pids' trees) in a thread.

    The sampler shares the machine's cores with what it measures, so it must cost little: it reads
    the RSS of the processes it knows every ``interval`` and walks the process tree again only every
    ``refresh`` seconds (one pass over ``/proc``: :class:`~devtools.bench.cpu.ProcessTable`). Walking
    psutil's tree at every 20 ms sample cost a quarter of a core on the 2-core machine, taken from the
    measured run (docs/performance.md).
    A process started since the last walk is missed until the next one; the ``dags test`` process,
    which holds the judged peak, is there from the start, and the kernel's high-water mark
    (:func:`children_max_rss_bytes`) cross-checks its peak.
    """

    exclude: set[int]
    interval: float = 0.05
    refresh: float = 0.5
    samples: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _processes: list[psutil.Process] = field(default_factory=list)
    _walked: float = float("-inf")

    def _walk(self) -> list[psutil.Process]:
        table = ProcessTable.read()  # one pass over the machine's processes for every tree
        excluded = set(self.exclude).union(*(table.descendants(pid) for pid in self.exclude))
        found = []
        for pid in table.descendants(os.getpid()):
            if pid in excluded:
                continue
            try:
                found.append(psutil.Process(pid))
            except psutil.Error:  # exited since the pass
                continue
        return found

    def _tree_rss(self) -> int:
        now = time.monotonic()
        if now - self._walked >= self.refresh:
            self._processes, self._walked = self._walk(), now
        total = 0
        for process in self._processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:  # exited since the walk
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self._tree_rss()
            if rss:
                self.samples.append((time.time(), rss))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def peak(self, start: float | None = None, end: float | None = None) -> int:
        window = [rss for t, rss in self.samples if (start is None or t >= start) and (end is None or t <= end)]
        return max(window, default=0)


def children_max_rss_bytes() -> int:
    """The kernel's peak RSS of the largest child process this process has waited for (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


@dataclass(frozen=True)
class TaskTiming:
    task_id: str
    map_index: int
    state: str | None
    start: float
    end: float
    queued: float = 0.0  # when the scheduler queued it (0.0: not recorded, e.g. under dags test)
    ti_id: str = ""  # the task instance's id (a UUID; read from a stack's metadata only)

    @property
    def seconds(self) -> float:
        return self.end - self.start


def _epoch(value: str | None) -> float:
    if not value:
        return 0.0
    stamp = dt.datetime.fromisoformat(str(value))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)  # Airflow stores UTC
    return stamp.timestamp()


def task_timings(airflow_home: Path, dag_id: str) -> tuple[str, list[TaskTiming]]:
    """The latest run of ``dag_id`` in the SQLite metadata DB and its task instances' windows."""
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        row = db.execute(
            "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1",
            (dag_id,),
        ).fetchone()
        if row is None:
            raise RuntimeError(f"no run of {dag_id} in {airflow_home / 'airflow.db'}")
        run_id = row[0]
        rows = db.execute(
            "SELECT task_id, map_index, state, start_date, end_date FROM task_instance"
            " WHERE dag_id = ? AND run_id = ? ORDER BY start_date",
            (dag_id, run_id),
        ).fetchall()
    return run_id, [TaskTiming(t, m, s, _epoch(a), _epoch(b)) for t, m, s, a, b in rows]


def stack_run_timings(conninfo: str, dag_id: str, run_id: str) -> tuple[dict[str, Any], list[TaskTiming]]:
    """One run of a deployed stack, from its PostgreSQL metadata DB: the run's instants (epoch
    seconds: ``created_at``, ``queued_at``, ``start_date``, ``end_date``) and its task instances'
    windows (with ``queued_dttm``)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        run = conn.execute(
            "SELECT created_at, queued_at, start_date, end_date, state FROM dag_run WHERE dag_id = %s AND run_id = %s",
            (dag_id, run_id),
        ).fetchone()
        if run is None:
            raise RuntimeError(f"no run {run_id} of {dag_id} in the stack's metadata DB")
        rows = conn.execute(
            "SELECT task_id, map_index, state, start_date, end_date, queued_dttm, id::text FROM task_instance"
            " WHERE dag_id = %s AND run_id = %s ORDER BY start_date",
            (dag_id, run_id),
        ).fetchall()
    instants = {
        name: _epoch_of(value) for name, value in zip(("created", "queued", "started", "ended"), run[:4], strict=True)
    }
    timings = [TaskTiming(t, m, s, _epoch_of(a), _epoch_of(b), _epoch_of(q), i) for t, m, s, a, b, q, i in rows]
    return {**instants, "state": run[4]}, timings


def _epoch_of(value: dt.datetime | None) -> float:
    return value.timestamp() if value is not None else 0.0


_LOG_INSTANT = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z ")


def airflow_phases(log_file: Path, wall_start: float, wall_end: float) -> dict[str, float | None]:
    """Where Airflow's own time went in one ``dags test`` (seconds), from the timestamps of its log.

    * ``start_to_first_log``: the process starting, importing Airflow and its CLI;
    * ``first_log_to_first_task``: DAG bundles, parsing and serializing the DAG, creating the run;
    * ``first_task_start``: from ``dags test`` starting the first task instance to the in-process
      execution API answering its "task started" (``dags test`` builds that API then: every run pays it);
    * ``after_last_task``: from the last task's end to the process exiting.

    A phase whose log line is not found (another Airflow version's wording) is None, not a guess.
    """
    first_log = first_running = first_started = last_end = None
    for line in log_file.read_text(errors="replace").splitlines():
        match = _LOG_INSTANT.match(line)
        if not match:
            continue
        instant = dt.datetime.fromisoformat(match.group(1)).replace(tzinfo=dt.UTC).timestamp()
        first_log = first_log if first_log is not None else instant
        if first_running is None and "[DAG TEST] running task" in line:
            first_running = instant
        elif first_running is not None and first_started is None and "Task started" in line:
            first_started = instant
        elif "[DAG TEST] end task" in line:
            last_end = instant

    def span(start: float | None, end: float | None) -> float | None:
        return round(end - start, 3) if start is not None and end is not None else None

    return {
        "start_to_first_log": span(wall_start, first_log),
        "first_log_to_first_task": span(first_log, first_running),
        "first_task_start": span(first_running, first_started),
        "after_last_task": span(last_end, wall_end),
    }
