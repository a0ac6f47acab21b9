"""``make bench --scheduler`` at a tiny scale: the report has its shape, the floor handled exactly the
pipeline's rows, the pandas baseline read the validate task's rows, the scheduler ran the same period.

Timing figures come from the benchmark command, never from this test: it only checks that the
harness measures the right things (same pages, same rows) and reports them completely.
"""

from __future__ import annotations

import json
import secrets

import pytest

from ccms_attendance.warehouse.target import WAREHOUSE_CONN_ENV, drop_database
from devtools.bench.__main__ import main
from devtools.bench.floor import FETCH_PASSES

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def report(pg_admin, tmp_path_factory):
    work = tmp_path_factory.mktemp("bench")
    database = f"ccms_bench_smoke_{secrets.token_hex(4)}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(WAREHOUSE_CONN_ENV, pg_admin.airflow_uri)
        assert main(["--scale", "0.01", "--scheduler", "--work-dir", str(work), "--database", database]) == 0
    yield json.loads((work / "bench.json").read_text())
    drop_database(pg_admin.conninfo, database)  # and its roles (V010)


def test_report_structure(report):
    run = report["runs"][0]
    assert run["shape"]["sites"] == 30
    assert run["shape"]["children"] == 600
    stages = {s["stage"]: s for s in run["pipeline"]["stages"]}
    expected = {"plan", "extract PPP", "validate", "reconcile", "load", "report", "data docs"}
    expected |= {f"extract {v}" for v in ("ALLIANCE_CORE", "BRIGHTWHEEL", "PLAYGROUND")}
    assert set(stages) == expected
    for stage in stages.values():
        assert stage["tasks"] >= 1
        assert stage["seconds"] > 0
        assert stage["peak_rss_mib"] > 0
    assert run["pipeline"]["failed_tasks"] == []
    assert run["pipeline"]["peak_rss_mib"] > 100  # an Airflow process: sampled, not zero
    assert run["ratios"]["pipeline_wall_vs_floor"] > 1
    expected_targets = {"scheduler_vs_floor", "dags_test_vs_floor", "validate_vs_pandas", "peak_rss_bytes"}
    assert set(report["targets"]) >= expected_targets
    assert "period_wall_seconds" not in report["targets"]  # retired (issue 20)
    assert all(target["met"] in (True, False) and target["limit"] > 0 for target in report["targets"].values())
    assert report["dag_parse"]["import_errors"] == {}
    assert report["dag_parse"]["max_task_instances_per_period"] == run["pipeline"]["task_instances"]
    # The sandboxes served the pages in both runs: their CPU is measured, not zero.
    assert run["pipeline"]["sandbox_cpu_seconds"] > 0
    assert all(fetch["sandbox_cpu_seconds"] > 0 for fetch in run["floor"]["fetch"].values())
    assert {"swap_rows", "absence_limits", "checksums"} <= set(run["pipeline"]["load_step_seconds"])
    # Airflow's own start and end, read from the run's log, and the GX import: positive, and Airflow's
    # inside the dags test's wall time.
    phases = run["pipeline"]["airflow_phases_seconds"]
    assert set(phases) == {"start_to_first_log", "first_log_to_first_task", "first_task_start", "after_last_task"}
    assert all(seconds is not None and seconds > 0 for seconds in phases.values())
    assert sum(phases.values()) < run["pipeline"]["wall_seconds"]
    assert report["gx_import_seconds"] > 0


def test_cpu_of_the_dags_test_and_the_floor_is_attributed(report):
    cpu = report["runs"][0]["cpu"]
    for window in (cpu["dags_test"], cpu["floor"]):
        assert set(window["seconds"]) == {"pipeline", "sandboxes", "postgres"}
        assert window["busy_seconds"] > 0
        assert sum(window["seconds"].values()) == pytest.approx(window["busy_seconds"], abs=0.05)
        assert window["utilization"] > 0
        assert window["cpu_bound_seconds"] == pytest.approx(window["busy_seconds"] / window["cores"], abs=0.01)
    # Over the dags test (seconds, even at this scale) every group did work: Airflow, the sandboxes'
    # pages, PostgreSQL's statements; and the cores were at most fully busy. The floor's passes and
    # COPYs at this scale last milliseconds, shorter than a sample and near the kernel's 10 ms CPU
    # tick, so neither is asserted for them (CI saw its utilization at 1.004).
    assert all(seconds > 0 for seconds in cpu["dags_test"]["seconds"].values())
    assert cpu["dags_test"]["utilization"] <= 1.0
    assert cpu["dags_test"]["wall_seconds"] == report["runs"][0]["pipeline"]["wall_seconds"]
    assert cpu["dags_test_busy_vs_floor_busy"] > 1  # Airflow, GX and the rules cost more than a bare fetch
    assert cpu["idle_busy_per_second"] >= 0


def test_floor_fetched_the_same_pages_and_copied_the_same_rows(report):
    run = report["runs"][0]
    pipeline, floor = run["pipeline"], run["floor"]
    assert floor["http_requests"] == pipeline["http_requests"]  # every data page, no more, no fewer
    for fetch in floor["fetch"].values():  # the fastest of the timed passes counts
        assert len(fetch["pass_seconds"]) == FETCH_PASSES
        assert fetch["seconds"] == min(fetch["pass_seconds"]) > 0
    staged = sum(v for k, v in pipeline["rows"].items() if k.startswith("staged:"))
    copies = {c["table"]: c["rows"] for c in floor["copy"]}
    assert copies["staging.source_record"] == staged > 0
    for table in ("daily_attendance", "absence_summary", "exception", "site_period"):
        assert copies[f"reconciled.{table}"] == pipeline["rows"][f"loaded:{table}"] > 0
    extract = {s["stage"]: s["rows"] for s in pipeline["stages"]}
    # Alliance CORE sends two events per present day: the floor counts raw items, the pipeline records.
    assert floor["fetch"]["BRIGHTWHEEL"]["items"] == extract["extract BRIGHTWHEEL"]
    assert floor["fetch"]["PLAYGROUND"]["items"] == extract["extract PLAYGROUND"]


def test_pandas_baseline_read_the_rows_the_validate_task_read(report):
    run = report["runs"][0]
    compared = run["validate_vs_pandas"]
    staged = {k.split(":", 1)[1]: v for k, v in run["pipeline"]["rows"].items() if k.startswith("staged:")}
    assert {s["source"]: s["rows"] for s in compared["sources"] if s["rows"]} == {
        source: rows for source, rows in staged.items() if rows
    }
    assert compared["validate_task_seconds"] > 0
    assert all(s["expectations"] >= 11 for s in compared["sources"] if s["rows"])  # every expectation checked


def test_scheduler_ran_the_same_period_in_parallel(report):
    run = report["runs"][0]
    scheduler = run["scheduler"]
    assert scheduler["failed_tasks"] in ([], ["check_period"])  # the bench state holds unlinked licenses
    assert scheduler["created_to_end_seconds"] > scheduler["created_to_first_task_seconds"] > 0
    assert scheduler["last_product"] in ("report", "data_docs")  # the later of the two ends the measured run
    assert scheduler["vs_floor"] == report["targets"]["scheduler_vs_floor"]["value"]
    assert scheduler["gx_preload"] is True
    # The state it ran on was loaded by the stack's own sync run, as in a deployment.
    assert scheduler["state_sync"]["tasks"] == 3
    assert scheduler["state_sync"]["first_task"] == "find_drops"
    assert scheduler["gx_preloaded_seconds"] > 0  # the scheduler's log says it preloaded GX before forking
    assert scheduler["max_concurrent_tasks"] >= 2  # the vendors' task groups ran side by side
    dags_test = {s["stage"]: s["tasks"] for s in run["pipeline"]["stages"]}
    assert {name: stage["tasks"] for name, stage in scheduler["stages"].items()} == dags_test
    # Same rows as the dags test run: the warehouse was recreated and the same state loaded.
    assert [s["rows"] for s in scheduler["validate_vs_pandas"]["sources"]] == [
        s["rows"] for s in run["validate_vs_pandas"]["sources"]
    ]
    assert report["targets"]["validate_vs_pandas"]["value"] == scheduler["validate_vs_pandas"]["ratio"]
    cpu = scheduler["cpu"]  # the machine's CPU over the measured run, and the wall time it bounds the run to
    assert cpu["wall_seconds"] == scheduler["created_to_end_seconds"]
    stack = {"scheduler", "scheduler children", "api-server", "dag-processor"}
    assert set(cpu["seconds"]) == {"sandboxes", "postgres", "other"} | stack
    # The tasks ran in the scheduler's children (executor workers), served by the api-server.
    assert cpu["seconds"]["scheduler children"] > 0
    assert cpu["seconds"]["api-server"] > 0
    assert cpu["seconds"]["sandboxes"] > 0
    assert cpu["seconds"]["postgres"] > 0
    assert cpu["cpu_bound_seconds"] <= cpu["wall_seconds"]
    # Each task instance's CPU, read from the executor's workers: part of the scheduler's children's.
    stages = scheduler["stages"]
    assert all(stages[name]["task_cpu_seconds"] > 0 for name in ("validate", "reconcile", "load", "extract PPP"))
    assert sum(stage["task_cpu_seconds"] for stage in stages.values()) <= cpu["seconds"]["scheduler children"] + 0.5
    compared = scheduler["validate_vs_pandas"]
    assert compared["validate_task_cpu_seconds"] == pytest.approx(stages["validate"]["task_cpu_seconds"], abs=0.01)
    assert compared["cpu_ratio"] > 0
    # Judged against the floor measured right after it: the same pages again, and the rows it loaded.
    floor = scheduler["floor"]
    assert set(floor["fetch"]) == set(run["floor"]["fetch"])
    assert all(len(fetch["pass_seconds"]) == 2 for fetch in floor["fetch"].values())
    assert {table: copy["rows"] for table, copy in floor["copy"].items()} == {
        copy["table"]: copy["rows"] for copy in run["floor"]["copy"]
    }
    assert floor["seconds"] == pytest.approx(floor["fetch_seconds"] + floor["copy_seconds"], abs=0.01)
    wall = scheduler["created_to_end_seconds"]
    assert scheduler["vs_floor"] == pytest.approx(wall / floor["seconds"], abs=0.01)
    assert scheduler["vs_dags_test_floor"] == pytest.approx(wall / run["floor"]["seconds"], abs=0.01)
    assert cpu["cpu_bound_vs_floor"] == pytest.approx(cpu["cpu_bound_seconds"] / floor["seconds"], abs=0.01)
