"""The CPU sampler: interpolated windows, the groups' split, and real samples of this machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from devtools.bench.cpu import CpuSample, CpuSampler, ProcessTable, cpu_report, machine_busy_seconds


def _sampler(*samples: tuple[float, float, float, float]) -> CpuSampler:
    sampler = CpuSampler(trees={"sandboxes": []})
    sampler.samples = [CpuSample(at, {"machine": m, "postgres": p, "sandboxes": s}) for at, m, p, s in samples]
    return sampler


def test_a_window_is_interpolated_between_the_samples_around_its_ends():
    sampler = _sampler((10.0, 100.0, 20.0, 10.0), (12.0, 104.0, 21.0, 11.0))
    used = sampler.between(10.5, 11.5)  # half of the two seconds: half of every group's growth
    assert used == pytest.approx({"machine": 2.0, "sandboxes": 0.5, "postgres": 0.5, "pipeline": 1.0})


def test_a_window_past_the_samples_is_clamped_to_the_first_and_last():
    sampler = _sampler((10.0, 100.0, 0.0, 0.0), (12.0, 104.0, 0.0, 0.0))
    assert sampler.between(5.0, 20.0)["machine"] == pytest.approx(4.0)


def test_windows_add_up_and_the_remainder_is_what_the_named_groups_did_not_use():
    sampler = _sampler((0.0, 0.0, 0.0, 0.0), (1.0, 2.0, 0.5, 1.0), (2.0, 3.0, 0.5, 1.0))
    total = sampler.windows([(0.0, 1.0), (1.0, 2.0)])
    assert total == pytest.approx({"machine": 3.0, "sandboxes": 1.0, "postgres": 0.5, "pipeline": 1.5})


def test_report_bounds_the_wall_time_by_busy_over_cores():
    figures = cpu_report({"machine": 30.0, "pipeline": 20.0, "sandboxes": 6.0, "postgres": 4.0}, 20.0, cores=2)
    assert figures["cpu_bound_seconds"] == 15.0
    assert figures["utilization"] == 0.75
    assert figures["seconds"] == {"pipeline": 20.0, "sandboxes": 6.0, "postgres": 4.0}


def test_a_tree_counts_its_exited_children_and_a_split_tree_reports_them_apart():
    spin = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass"
    sampler = CpuSampler(trees={"harness": [os.getpid()]}, remainder="other", split=frozenset({"harness"}))
    with sampler:
        start = time.time()
        subprocess.run([sys.executable, "-c", spin], check=True)  # waited for: reaped into our children's times
        end = time.time()
    assert set(sampler.samples[-1].seconds) == {"machine", "postgres", "harness", "harness children"}
    used = sampler.between(start, end)
    assert used["harness children"] >= 0.55  # the child's 0.6 s, though it exited before the last sample
    assert used["machine"] >= used["harness children"] - 0.05
    assert machine_busy_seconds() > 0


def test_a_marked_window_shorter_than_the_interval_is_measured_exactly():
    """The floor's passes of the smoke run last ~0.05 s: a mark samples at once, no interpolation."""
    spin = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    sampler = CpuSampler(trees={"sandboxes": [os.getpid()]}, interval=60.0)  # no sample of its own between
    with sampler:
        sampler.mark("window")
        subprocess.run([sys.executable, "-c", spin], check=True)
        sampler.mark("window")
        sampler.mark("idle")
        sampler.mark("idle")
    assert sampler.marked["window"]["sandboxes"] >= 0.25  # the spinning child's 0.3 s, counted once reaped
    assert sampler.marked["idle"]["sandboxes"] < 0.05
    assert [s.at for s in sampler.samples] == sorted(s.at for s in sampler.samples)  # marks kept in time order


def test_postgresql_seconds_grow_with_a_query_and_keep_it_once_the_backend_exited(pg_admin):
    import psycopg

    before = ProcessTable.read().postgres_seconds()
    with psycopg.connect(pg_admin.conninfo) as conn:
        conn.execute("SELECT count(*) FROM generate_series(1, 3000000)").fetchone()
        during = ProcessTable.read().postgres_seconds()  # the live backend's own CPU
    assert during - before > 0.05
    # Once the postmaster reaped the backend, its CPU is in the postmaster's children's times.
    deadline = time.monotonic() + 5
    while ProcessTable.read().postgres_seconds() < during - 0.02 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ProcessTable.read().postgres_seconds() >= during - 0.02
