"""Where the machine's CPU went during a measured window: the whole machine, the sandboxes, PostgreSQL.

Wall-time ratios say how long; they do not say whether a run could be shorter on this machine. A
sampler thread reads, every 0.2 s, the machine's busy CPU seconds (all cores: user, nice, system,
irq, softirq, steal), the vendor sandboxes' and every PostgreSQL process's (a postmaster's reaped
backends included, so a connection that closed between two samples still counts). Any window's
figures are interpolated between the samples around its ends.

What a window used beyond the sandboxes and PostgreSQL is the **pipeline**'s: Airflow and its tasks
(or the floor's bare client), plus whatever else the machine ran (``idle_busy_per_second``, measured
before the clock, says how much that is). ``busy / cores`` is the shortest wall time the same CPU
work could take on this machine however it were spread: a run whose ``busy / cores`` is already
above its target cannot meet it by scheduling, only by doing less work.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import psutil

GROUPS = ("machine", "sandboxes", "postgres")


def machine_busy_seconds() -> float:
    """Busy CPU seconds of every core since boot (guest time is inside user on Linux)."""
    times = psutil.cpu_times()
    busy = times.user + times.nice + times.system
    return busy + sum(getattr(times, name, 0.0) for name in ("irq", "softirq", "steal"))


def _process_seconds(process: psutil.Process, *, reaped: bool) -> float:
    """A process's own CPU seconds, plus its waited-for children's when ``reaped``."""
    times = process.cpu_times()
    own = times.user + times.system
    return own + (times.children_user + times.children_system if reaped else 0.0)


def postgres_seconds() -> float:
    """CPU seconds of every PostgreSQL process, live or exited (a postmaster counts its reaped backends)."""
    total = 0.0
    for process in psutil.process_iter(["name"]):
        if process.info["name"] not in ("postgres", "postmaster"):
            continue
        try:
            postmaster = process.parent() is None or process.parent().name() not in ("postgres", "postmaster")
            total += _process_seconds(process, reaped=postmaster)
        except psutil.Error:  # exited between the listing and the read: its parent has it now
            continue
    return total


@dataclass(frozen=True)
class CpuSample:
    at: float  # epoch seconds
    machine: float
    sandboxes: float
    postgres: float


@dataclass
class CpuSampler:
    """Sample the machine's, the sandboxes' and PostgreSQL's CPU seconds in a thread (context manager)."""

    sandbox_pids: Iterable[int]
    interval: float = 0.2
    samples: list[CpuSample] = field(default_factory=list)
    #: Machine busy CPU seconds per wall second before the clock (other services, the idle stack).
    idle_busy_per_second: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._sandboxes = [psutil.Process(pid) for pid in self.sandbox_pids]

    def _sandbox_seconds(self) -> float:
        total = 0.0
        for process in self._sandboxes:
            try:
                total += _process_seconds(process, reaped=True)
                total += sum(_process_seconds(child, reaped=True) for child in process.children(recursive=True))
            except psutil.Error:
                continue
        return total

    def sample(self) -> CpuSample:
        return CpuSample(time.time(), machine_busy_seconds(), self._sandbox_seconds(), postgres_seconds())

    def measure_idle(self, seconds: float = 2.0) -> None:
        """What the machine spends with nothing measured running (before a run's clock starts)."""
        before = self.sample()
        time.sleep(seconds)
        after = self.sample()
        self.idle_busy_per_second = round((after.machine - before.machine) / (after.at - before.at), 3)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.sample())
            self._stop.wait(self.interval)

    def start(self) -> CpuSampler:
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.samples.append(self.sample())

    def __enter__(self) -> CpuSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _at(self, instant: float) -> dict[str, float]:
        """Each group's cumulative seconds at ``instant``, linear between the samples around it."""
        if not self.samples:
            raise RuntimeError("the CPU sampler holds no samples")
        instants = [s.at for s in self.samples]
        index = bisect.bisect_left(instants, instant)
        if index <= 0 or index >= len(self.samples):
            nearest = self.samples[0 if index <= 0 else -1]
            return {group: getattr(nearest, group) for group in GROUPS}
        before, after = self.samples[index - 1], self.samples[index]
        share = (instant - before.at) / (after.at - before.at) if after.at > before.at else 1.0
        return {
            group: getattr(before, group) + share * (getattr(after, group) - getattr(before, group)) for group in GROUPS
        }

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each group used from ``start`` to ``end`` (epoch seconds), and the pipeline's."""
        first, last = self._at(start), self._at(end)
        used = {group: max(last[group] - first[group], 0.0) for group in GROUPS}
        used["pipeline"] = max(used["machine"] - used["sandboxes"] - used["postgres"], 0.0)
        return used

    def windows(self, windows: Iterable[tuple[float, float]]) -> dict[str, float]:
        """The groups' CPU seconds summed over several windows (e.g. the floor's passes and COPYs)."""
        total = dict.fromkeys((*GROUPS, "pipeline"), 0.0)
        for start, end in windows:
            for group, seconds in self.between(start, end).items():
                total[group] += seconds
        return total


def cpu_report(used: dict[str, float], wall_seconds: float, cores: int | None = None) -> dict[str, float]:
    """A window's CPU figures: seconds per group, how busy the cores were, and the CPU-bound wall time."""
    cores = cores or os.cpu_count() or 1
    busy = used["machine"]
    return {
        "wall_seconds": round(wall_seconds, 3),
        "busy_seconds": round(busy, 2),
        "pipeline_seconds": round(used["pipeline"], 2),
        "sandboxes_seconds": round(used["sandboxes"], 2),
        "postgres_seconds": round(used["postgres"], 2),
        "cores": cores,
        "utilization": round(busy / (wall_seconds * cores), 3) if wall_seconds else 0.0,
        # The shortest wall time this much CPU work takes on these cores, however it is spread.
        "cpu_bound_seconds": round(busy / cores, 2),
    }
