"""CPU per task instance from the LocalExecutor workers' titles, over a fake ``/proc``."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.bench.cpu import ProcessTable
from devtools.bench.task_cpu import ExecutorCpu

TICK = 100  # SC_CLK_TCK on Linux


def _process(proc: Path, pid: int, ppid: int, name: str, title: str, ticks: tuple[int, int, int, int]) -> None:
    folder = proc / str(pid)
    folder.mkdir(parents=True, exist_ok=True)
    utime, stime, cutime, cstime = ticks
    # proc(5): pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    # utime stime cutime cstime ...
    (folder / "stat").write_text(f"{pid} ({name}) S {ppid} 1 1 0 -1 0 0 0 0 0 {utime} {stime} {cutime} {cstime} 20 0")
    (folder / "cmdline").write_bytes(title.replace(" ", "\0").encode() + b"\0")


def test_the_table_reads_names_parents_and_times_even_with_parentheses_in_a_name(tmp_path):
    _process(tmp_path, 10, 1, "post (gres)", "postgres", (150, 50, 20, 30))
    table = ProcessTable.read(tmp_path)
    assert table.names == {10: "post (gres)"}
    assert table.parents == {10: 1}
    assert table.times[10] == pytest.approx((2.0, 0.5))


def test_postgres_counts_backends_once_and_the_postmasters_reaped_ones(tmp_path):
    _process(tmp_path, 10, 1, "postgres", "postgres", (100, 0, 300, 0))  # postmaster: 1 s own, 3 s reaped
    _process(tmp_path, 11, 10, "postgres", "postgres: backend", (200, 0, 900, 0))  # a backend's reaped: not its
    _process(tmp_path, 12, 1, "python", "python", (500, 0, 0, 0))
    assert ProcessTable.read(tmp_path).postgres_seconds() == pytest.approx(1.0 + 3.0 + 2.0)


def test_a_tree_is_its_root_and_everything_below_live_or_reaped(tmp_path):
    _process(tmp_path, 20, 1, "airflow", "airflow scheduler", (100, 0, 50, 0))
    _process(tmp_path, 21, 20, "airflow", "airflow worker", (10, 0, 200, 0))
    _process(tmp_path, 22, 21, "airflow", "airflow task", (300, 0, 0, 0))
    own, below = ProcessTable.read(tmp_path).tree_seconds(20)
    assert (own, below) == pytest.approx((1.0, 0.5 + 0.1 + 2.0 + 3.0))


def test_each_task_gets_the_growth_of_the_worker_that_showed_it(tmp_path):
    executor = ExecutorCpu(scheduler_pid=20, proc=tmp_path)
    _process(tmp_path, 20, 1, "airflow", "airflow scheduler", (0, 0, 0, 0))
    worker = "airflow worker -- LocalExecutor: "

    def sample() -> None:
        executor(ProcessTable.read(tmp_path))

    _process(tmp_path, 21, 20, "airflow", worker + "<idle>", (100, 0, 0, 0))
    sample()
    _process(tmp_path, 21, 20, "airflow", worker + "ti-a", (110, 0, 0, 0))  # started ti-a meanwhile
    _process(tmp_path, 30, 21, "airflow", "airflow worker -- ti-a", (40, 0, 0, 0))
    sample()
    _process(tmp_path, 30, 21, "airflow", "airflow worker -- ti-a", (90, 0, 0, 0))
    sample()
    (tmp_path / "30" / "stat").unlink()  # the task process exited; its supervisor reaped it
    (tmp_path / "30" / "cmdline").unlink()
    (tmp_path / "30").rmdir()
    _process(tmp_path, 21, 20, "airflow", worker + "<idle>", (115, 0, 95, 0))
    sample()  # the growth since ti-a was last seen is still ti-a's
    _process(tmp_path, 21, 20, "airflow", worker + "<idle>", (118, 0, 95, 0))
    sample()  # idle at both ends: nobody's
    # 1.00 s idle, then 1.50, 2.00 and 2.10 s (the reaped task included) below the worker while it ran ti-a.
    assert executor.by_task() == pytest.approx({"ti-a": 2.10 - 1.00})
