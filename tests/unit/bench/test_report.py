"""The bench's targets: ratios judged MET/MISS in one table, only where the bench measured them."""

from __future__ import annotations

from devtools.bench.report import GIB, MIB, TARGETS, evaluate, print_targets, run_state_label
from devtools.bench.statewide import StatewideSpec


def _run(label: str = "1x", *, scheduler: dict | None = None, wall_vs_floor: float = 1.8) -> dict:
    spec = StatewideSpec()
    run = {
        "label": label,
        "spec": {"sites": spec.sites, "children": spec.children},
        "pipeline": {"peak_rss_mib": 1300.0},
        "ratios": {"pipeline_wall_vs_floor": wall_vs_floor, "load_vs_copy_throughput": 0.6},
        "validate_vs_pandas": {"ratio": 3.1},
    }
    if scheduler is not None:
        run["scheduler"] = scheduler
    return run


def test_the_absolute_sixty_seconds_is_gone_and_the_ratios_are_there():
    assert "period_wall_seconds" not in TARGETS
    assert TARGETS["scheduler_vs_floor"][0] == 1.5
    assert TARGETS["dags_test_vs_floor"][0] == 2.0
    assert TARGETS["validate_vs_pandas"][0] == 2.0
    assert TARGETS["peak_rss_bytes"][0] == 2 * GIB
    assert TARGETS["scaling_4x_time_ratio"][0] == 4.4
    assert TARGETS["year_last_vs_first_period"][0] == 1.15


def test_a_dags_test_run_is_judged_on_what_it_measured():
    targets = evaluate({"runs": [_run()], "dag_parse": {"seconds": 0.2}})
    assert "scheduler_vs_floor" not in targets  # not measured: left out, not guessed
    assert "scaling_4x_time_ratio" not in targets
    assert targets["dags_test_vs_floor"] == targets["dags_test_vs_floor"] | {"value": 1.8, "met": True}
    assert targets["validate_vs_pandas"]["met"] is False  # 3.1 > 2.0, judged on dags test here
    assert targets["peak_rss_bytes"]["value"] == int(1300 * MIB)
    assert targets["peak_rss_bytes"]["met"] is True


def test_validation_is_judged_on_the_scheduler_run_when_there_is_one():
    scheduler = {"vs_floor": 1.7, "validate_vs_pandas": {"ratio": 1.4}}
    targets = evaluate({"runs": [_run(scheduler=scheduler, wall_vs_floor=2.4)], "dag_parse": {"seconds": 0.2}})
    assert targets["scheduler_vs_floor"]["value"] == 1.7
    assert targets["scheduler_vs_floor"]["met"] is False
    assert targets["dags_test_vs_floor"]["met"] is False
    assert targets["validate_vs_pandas"] == targets["validate_vs_pandas"] | {"value": 1.4, "met": True}


def test_scaling_and_year_targets():
    scaled = evaluate({"runs": [_run()], "scaling": [{"factor": 1, "ratio": 1.0}, {"factor": 4, "ratio": 4.6}]})
    assert scaled["scaling_4x_time_ratio"]["met"] is False
    year = evaluate({"runs": [], "year": {"target": {"value": 1.1}}})
    assert set(year) == {"year_last_vs_first_period"}
    assert year["year_last_vs_first_period"]["met"] is True


def test_the_table_prints_met_and_miss(capsys):
    print_targets(evaluate({"runs": [_run()], "dag_parse": {"seconds": 0.2}}))
    lines = capsys.readouterr().out.splitlines()
    assert any(line.strip().startswith("MET  dags_test_vs_floor") for line in lines)
    assert any(line.strip().startswith("MISS validate_vs_pandas") for line in lines)
    assert any("1.27 GiB" in line for line in lines)


def test_max_concurrent_counts_overlapping_task_windows():
    from devtools.bench.measure import TaskTiming
    from devtools.bench.scheduler import max_concurrent

    windows = [TaskTiming("a", -1, "success", 0, 10), TaskTiming("b", 0, "success", 2, 5)]
    windows += [TaskTiming("c", 1, "success", 4, 6), TaskTiming("d", -1, "success", 10, 12)]
    assert max_concurrent(windows) == 3  # a, b, c at 4-5; d starts as a ends


def test_handoffs_are_the_gaps_on_the_sequential_path():
    from devtools.bench.measure import TaskTiming
    from devtools.bench.scheduler import handoffs

    stages = {
        "plan": [TaskTiming("plan_period", -1, "success", 0, 5)],
        "extract PPP": [TaskTiming("ppp.extract_entries", -1, "success", 7, 9)],
        "extract ALLIANCE_CORE": [TaskTiming("alliance_core.extract_batch", 0, "success", 6.5, 12)],
        "extract BRIGHTWHEEL": [
            TaskTiming("brightwheel.extract_batch", 0, "success", 7, 9),
            TaskTiming("brightwheel.extract_batch", 1, "success", 7, 12.5),
        ],
        "validate": [TaskTiming("validate", -1, "success", 13, 20)],
        "reconcile": [TaskTiming("reconcile", -1, "success", 23, 30)],
        "load": [],
    }
    gaps = handoffs(stages)
    assert gaps["plan -> extract"] == 1.5
    assert gaps["extract -> validate"] == 0.5  # from the last extract's end
    assert gaps["validate -> reconcile"] == 3.0
    assert gaps["reconcile -> load"] is None  # not measured: no load task ran


def test_a_run_failed_only_by_its_verdict_says_so():
    verdict_only = {"state": "failed", "failed_tasks": ["check_period"]}
    assert run_state_label(verdict_only).startswith("failed at check_period only")
    assert run_state_label({"state": "failed", "failed_tasks": ["check_period", "load"]}) == "failed"
    assert run_state_label({"state": "success", "failed_tasks": []}) == "success"


def test_the_scheduler_run_is_judged_against_the_floor_measured_right_after_it():
    from devtools.bench.floor import CopyFloor, FetchFloor, floor_summary
    from devtools.bench.scheduler import judge_against_floor

    fetches = {"ALLIANCE_CORE": FetchFloor("ALLIANCE_CORE", seconds=8.0, pass_seconds=[9.0, 8.0])}
    copies = [CopyFloor("staging.source_record", rows=10, bytes=100, seconds=2.0)]
    floor = floor_summary(fetches, copies)
    assert floor["seconds"] == 10.0
    assert floor["fetch"]["ALLIANCE_CORE"]["pass_seconds"] == [9.0, 8.0]
    result = {"created_to_end_seconds": 16.0, "cpu": {"cpu_bound_seconds": 12.0}}
    judge_against_floor(result, floor, {"seconds": 8.0})
    assert result["vs_floor"] == 1.6  # 16 s against the 10 s floor beside it
    assert result["vs_dags_test_floor"] == 2.0  # against the floor measured after the dags test
    assert result["cpu"]["cpu_bound_vs_floor"] == 1.2
    assert result["floor"] == floor
