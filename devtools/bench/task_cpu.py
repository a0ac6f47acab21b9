"""CPU seconds per task instance under the LocalExecutor, read from the processes' titles.

Under the scheduler a task's wall time is its share of two cores beside everything else running;
its CPU seconds are what it costs. Airflow 3.3's LocalExecutor worker titles itself ``airflow worker
-- LocalExecutor: <task instance id>`` while it supervises a task (``<idle>`` otherwise) and forks
the task process below it. At every sample of :class:`devtools.bench.cpu.CpuSampler` this reads
each worker's title and the CPU seconds of the worker and everything below it (live processes'
own, exited ones' once reaped); the growth between two samples belongs to the task the worker
showed at the first (or, if it was idle then, at the second). So each task's figure is its task
process and its supervisor's work on it; what a worker spends idle is nobody's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from devtools.bench.cpu import ProcessTable

WORKER_TITLE = "airflow worker -- LocalExecutor: "
IDLE = "<idle>"


def _title(pid: int, proc: Path = Path("/proc")) -> str:
    try:
        return (proc / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


@dataclass
class ExecutorCpu:
    """An observer of the CPU sampler: the LocalExecutor workers below ``scheduler_pid``, per sample."""

    scheduler_pid: int
    proc: Path = Path("/proc")
    #: One dict per sample: worker pid -> (task instance id or None, cumulative CPU seconds below it).
    states: list[dict[int, tuple[str | None, float]]] = field(default_factory=list)

    def __call__(self, table: ProcessTable) -> None:
        workers = {}
        for pid in table.descendants(self.scheduler_pid):
            title = _title(pid, self.proc)
            if not title.startswith(WORKER_TITLE):
                continue
            task = title[len(WORKER_TITLE) :].strip()
            workers[pid] = (None if task == IDLE else task, sum(table.tree_seconds(pid)))
        self.states.append(workers)

    def by_task(self) -> dict[str, float]:
        """CPU seconds per task instance id, over every sample taken."""
        seconds: dict[str, float] = {}
        for before, after in zip(self.states, self.states[1:], strict=False):
            for pid, (task, total) in after.items():
                if pid not in before:
                    continue
                was, previous = before[pid]
                owner = was or task
                if owner:
                    seconds[owner] = seconds.get(owner, 0.0) + max(total - previous, 0.0)
        return seconds
