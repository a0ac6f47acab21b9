"""Where the machine's CPU went during a measured window: the whole machine, PostgreSQL, named process trees.

Wall-time ratios say how long; they do not say whether a run could be shorter on this machine. A
sampler thread reads, every 0.2 s, the machine's busy CPU seconds (all cores: user, nice, system,
irq, softirq, steal), every PostgreSQL process's and those of the process trees it is given (the
vendor sandboxes; under the scheduler also the scheduler, the api-server and the dag-processor). A
process's figure includes its exited children's once it reaped them (a postmaster's backends, the
scheduler's task processes), so a process that ended between two samples still counts. Any
window's figures are interpolated between the samples around its ends.

What a window used beyond the named groups is the ``remainder``'s: under ``dags test`` the
pipeline (the ``dags test`` process and everything else the machine ran: ``idle_busy_per_second``,
measured before the clock, says how much that is). ``busy / cores`` is the shortest wall time the
same CPU work could take on this machine however it were spread: a run whose ``busy / cores`` is
already above its target cannot meet it by scheduling, only by doing less work.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import psutil

#: A tree whose root's own CPU is reported apart from its descendants': ``<name>`` and ``<name> children``.
CHILDREN = " children"
POSTGRES_NAMES = ("postgres", "postmaster")


def machine_busy_seconds() -> float:
    """Busy CPU seconds of every core since boot (guest time is inside user on Linux)."""
    times = psutil.cpu_times()
    busy = times.user + times.nice + times.system
    return busy + sum(getattr(times, name, 0.0) for name in ("irq", "softirq", "steal"))


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class ProcessTable:
    """One read of every process's ``/proc/<pid>/stat`` (Linux): name, parent and CPU times, ~3 ms per
    100 processes here (psutil's iterator took 8 ms, and each of its tree walks another pass)."""

    names: dict[int, str]
    parents: dict[int, int]
    #: pid -> (own CPU seconds, its waited-for children's)
    times: dict[int, tuple[float, float]]

    @classmethod
    def read(cls, proc: Path = Path("/proc")) -> ProcessTable:
        names, parents, times = {}, {}, {}
        for entry in os.scandir(proc):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_bytes().decode(errors="replace")
            except OSError:  # exited since the listing: its parent has it now (once it reaped it)
                continue
            pid, name = int(entry.name), stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()  # fields[0] is the state (field 3 of proc(5))
            names[pid], parents[pid] = name, int(fields[1])
            utime, stime, cutime, cstime = (int(value) / _TICK for value in fields[11:15])
            times[pid] = (utime + stime, cutime + cstime)
        return cls(names, parents, times)

    @cached_property
    def children(self) -> dict[int, list[int]]:
        """pid -> its children's pids (built once per table: every tree of a sample walks it)."""
        children: dict[int, list[int]] = {}
        for child, parent in self.parents.items():
            children.setdefault(parent, []).append(child)
        return children

    def descendants(self, pid: int) -> list[int]:
        found, waiting = [], list(self.children.get(pid, []))
        while waiting:
            child = waiting.pop()
            found.append(child)
            waiting.extend(self.children.get(child, []))
        return found

    def postgres_seconds(self) -> float:
        """CPU seconds of PostgreSQL's processes, live or exited (a postmaster counts its reaped backends)."""
        total = 0.0
        for pid, name in self.names.items():
            if name in POSTGRES_NAMES:
                own, reaped = self.times[pid]
                postmaster = self.names.get(self.parents[pid], "") not in POSTGRES_NAMES
                total += own + (reaped if postmaster else 0.0)
        return total

    def tree_seconds(self, root: int) -> tuple[float, float]:
        """(the root's own CPU seconds, its descendants' and every reaped child's)."""
        if root not in self.times:
            return 0.0, 0.0
        own, below = self.times[root]
        below += sum(sum(self.times[pid]) for pid in self.descendants(root))
        return own, below


@dataclass(frozen=True)
class CpuSample:
    at: float  # epoch seconds
    seconds: dict[str, float]  # cumulative CPU seconds per group ("machine" included)


@dataclass
class CpuSampler:
    """Sample the machine's, PostgreSQL's and some process trees' CPU seconds in a thread.

    ``trees`` names groups of root pids; a name in ``split`` is reported as the roots' own CPU
    (``<name>``) and their descendants' (``<name> children``). The rest of the machine's busy time
    is ``remainder``'s.
    """

    trees: Mapping[str, Collection[int]]
    remainder: str = "pipeline"
    split: frozenset[str] = frozenset()
    interval: float = 0.2
    samples: list[CpuSample] = field(default_factory=list)
    #: Called with every sample's process table (e.g. :class:`devtools.bench.task_cpu.ExecutorCpu`).
    observers: list[Callable[[ProcessTable], None]] = field(default_factory=list)
    #: Machine busy CPU seconds per wall second before the clock (other services, an idle stack).
    idle_busy_per_second: float | None = None
    #: Each group's CPU seconds between the two :meth:`mark` calls of a label.
    marked: dict[str, dict[str, float]] = field(default_factory=dict)
    _open: dict[str, CpuSample] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def mark(self, label: str) -> None:
        """Start measuring ``label``, or (second call) stop and record it in :attr:`marked`.

        Each call takes a sample at once, so a window shorter than the interval (a floor pass of
        the smoke run lasts ~0.05 s) is measured exactly, not interpolated.
        """
        sample = self._take()
        opened = self._open.pop(label, None)
        if opened is None:
            self._open[label] = sample
        else:
            self.marked[label] = {g: max(sample.seconds[g] - opened.seconds[g], 0.0) for g in sample.seconds}

    def _take(self) -> CpuSample:
        """A sample kept in :attr:`samples`, in time order whichever thread takes it."""
        with self._lock:
            taken = self.sample()
            self.samples.append(taken)
        return taken

    def sample(self) -> CpuSample:
        """Every group's cumulative CPU seconds now (one pass over the process table)."""
        table = ProcessTable.read()
        seconds = {"machine": machine_busy_seconds(), "postgres": table.postgres_seconds()}
        for name, roots in self.trees.items():
            own = below = 0.0
            for root in roots:
                root_own, root_below = table.tree_seconds(root)
                own, below = own + root_own, below + root_below
            if name in self.split:
                seconds[name], seconds[name + CHILDREN] = own, below
            else:
                seconds[name] = own + below
        for observe in self.observers:
            observe(table)
        return CpuSample(time.time(), seconds)

    def measure_idle(self, seconds: float = 2.0) -> None:
        """What the machine spends with nothing measured running (before a run's clock starts)."""
        before = self.sample()
        time.sleep(seconds)
        after = self.sample()
        busy = after.seconds["machine"] - before.seconds["machine"]
        self.idle_busy_per_second = round(busy / (after.at - before.at), 3)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._take()
            self._stop.wait(self.interval)

    def start(self) -> CpuSampler:
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._take()

    def __enter__(self) -> CpuSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _at(self, instant: float) -> dict[str, float]:
        """Each group's cumulative seconds at ``instant``, linear between the samples around it."""
        if not self.samples:
            raise RuntimeError("the CPU sampler holds no samples")
        index = bisect.bisect_left([s.at for s in self.samples], instant)
        if index <= 0 or index >= len(self.samples):
            return dict(self.samples[0 if index <= 0 else -1].seconds)
        before, after = self.samples[index - 1], self.samples[index]
        share = (instant - before.at) / (after.at - before.at) if after.at > before.at else 1.0
        return {g: before.seconds[g] + share * (after.seconds[g] - before.seconds[g]) for g in before.seconds}

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each group used from ``start`` to ``end`` (epoch seconds), the remainder's too."""
        first, last = self._at(start), self._at(end)
        used = {group: max(last[group] - first[group], 0.0) for group in first}
        named = sum(seconds for group, seconds in used.items() if group != "machine")
        used[self.remainder] = max(used["machine"] - named, 0.0)
        return used

    def windows(self, windows: Iterable[tuple[float, float]]) -> dict[str, float]:
        """The groups' CPU seconds summed over several windows (e.g. the floor's passes and COPYs)."""
        total: dict[str, float] = {}
        for start, end in windows:
            for group, seconds in self.between(start, end).items():
                total[group] = total.get(group, 0.0) + seconds
        return total


def cpu_report(used: Mapping[str, float], wall_seconds: float, cores: int | None = None) -> dict[str, object]:
    """A window's CPU figures: seconds per group, how busy the cores were, and the CPU-bound wall time."""
    cores = cores or os.cpu_count() or 1
    busy = used["machine"]
    return {
        "wall_seconds": round(wall_seconds, 3),
        "busy_seconds": round(busy, 2),
        "seconds": {group: round(seconds, 2) for group, seconds in used.items() if group != "machine"},
        "cores": cores,
        "utilization": round(busy / (wall_seconds * cores), 3) if wall_seconds else 0.0,
        # The shortest wall time this much CPU work takes on these cores, however it is spread.
        "cpu_bound_seconds": round(busy / cores, 2),
    }
