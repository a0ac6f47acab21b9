"""The benchmark's report: the table it prints and the targets it judges (MET/MISS).

The targets are issue 20's: ratios measured in one run (the absolute 60 s for the statewide
period under ``dags test`` is retired), plus the two earlier ones that still hold (load against a
bare COPY, DAG parse time). Each is judged on the statewide run when there is one and printed
MET/MISS in one table, which the JSON report stores as ``targets``; a target whose measurement did
not run (``--scheduler``, ``--scaling``, ``--periods``) is left out, not guessed.
"""

from __future__ import annotations

from typing import Any

from devtools.bench.statewide import StatewideSpec

GIB = 1 << 30
MIB = 1 << 20

#: name -> (limit, what is measured). Every limit is an upper bound except ``AT_LEAST``'s.
TARGETS: dict[str, tuple[float, str]] = {
    "scheduler_vs_floor": (
        1.5,
        "deployed scheduler: run creation to the last product's end / the floor measured right after it",
    ),
    "dags_test_vs_floor": (2.0, "airflow dags test wall time / the floor measured right after it"),
    "validate_vs_pandas": (2.0, "the validate task's seconds / the same checks in plain pandas on the same rows"),
    "peak_rss_bytes": (2 * GIB, "peak RSS of the statewide period (dags test process tree)"),
    "scaling_4x_time_ratio": (4.4, "4x the children: dags test wall time / 1x (--scaling)"),
    "year_last_vs_first_period": (1.15, "year: the last period's task seconds / the first's (--periods)"),
    "load_vs_copy_throughput": (0.5, "load rows/s / bare COPY rows/s of the same rows"),
    "dag_parse_seconds": (1.0, "parsing the DAG file into a DagBag (median of 3 fresh processes)"),
}
AT_LEAST = frozenset({"load_vs_copy_throughput"})


def run_state_label(scheduler: dict) -> str:
    """The run's state, saying when only the verdict failed (the bench state's unlinked licenses)."""
    if scheduler["state"] == "failed" and scheduler.get("failed_tasks") == ["check_period"]:
        return "failed at check_period only: its verdict on the bench state's unlinked licenses, by design"
    return str(scheduler["state"])


def print_table(report: dict[str, Any]) -> None:
    for run in report["runs"]:
        p, f = run["pipeline"], run["floor"]
        print(
            f"\n== {run['label']}: {run['shape']['sites']} sites, {run['shape']['children']} children, {run['period']}"
        )
        print(f"{'stage':<22}{'tasks':>6}{'seconds':>10}{'rows':>10}{'rows/s':>12}{'peak RSS MiB':>14}")
        for s in p["stages"]:
            rate = f"{s['rows_per_second']:,.0f}" if s["rows_per_second"] else "-"
            print(
                f"{s['stage']:<22}{s['tasks']:>6}{s['seconds']:>10.2f}{s['rows']:>10,}{rate:>12}{s['peak_rss_mib']:>14,.0f}"
            )
        print(
            f"{'dags test (wall)':<22}{p['task_instances']:>6}{p['wall_seconds']:>10.2f}{'':>10}{'':>12}"
            f"{p['peak_rss_mib']:>14,.0f}   (tasks {p['task_seconds']:.2f} s, "
            f"Airflow {p['airflow_overhead_seconds']:.2f} s)"
        )
        print(f"  of which the vendor sandboxes' own CPU: {p['sandbox_cpu_seconds']} s (their processes, all vendors)")
        steps = ", ".join(f"{name} {seconds:.2f}" for name, seconds in p["load_step_seconds"].items())
        print(f"  load steps (s): {steps}")
        phases = p["airflow_phases_seconds"]
        print(
            "  Airflow's own start and end (from its log, s): "
            + ", ".join(f"{name} {seconds}" for name, seconds in phases.items())
        )
        print("floor:")
        for source, fetch in f["fetch"].items():
            print(
                f"  fetch {source:<16}{f['http_requests'][source]:>8} requests {fetch['seconds']:>8.2f} s"
                f"  ({fetch['items']:,} items, {fetch['mib']} MiB; the pipeline made {p['http_requests'][source]};"
                f" sandbox CPU {fetch['sandbox_cpu_seconds']} s; passes {fetch.get('pass_seconds')} s)"
            )
        for copy in f["copy"]:
            print(f"  COPY {copy['table']:<28}{copy['rows']:>9,} rows {copy['seconds']:>7.2f} s")
        print(f"  floor total {f['seconds']:.2f} s")
        fixed = sum(v for v in phases.values() if v is not None) + report.get("gx_import_seconds", 0.0)
        print(
            f"  before any pipeline work: the floor plus Airflow's start and end plus the GX import = "
            f"{f['seconds'] + fixed:.1f} s"
        )
        if run.get("cpu"):
            _print_cpu(run["cpu"])
        print(f"load averages (1/5/15 min): {run['load_average']}")
        r = run["ratios"]
        print(
            f"pipeline/floor: {r['pipeline_wall_vs_floor']} (wall), {r['pipeline_tasks_vs_floor']} (task time); "
            f"load vs bare COPY throughput: {r['load_vs_copy_throughput']}"
        )
        _print_validate("dags test", run["validate_vs_pandas"])
        for key in ("scheduler", "scheduler_without_gx_preload"):
            if run.get(key):
                _print_scheduler(run[key], f["seconds"])
    if report.get("scaling"):
        print("\nscaling (children multiple -> dags test wall, ratio to 1x):")
        for point in report["scaling"]:
            print(
                f"  {point['factor']}x  {point['children']:>8,} children  "
                f"{point['wall_seconds']:>8.2f} s  {point['ratio']}"
            )
    parse = report["dag_parse"]
    print(
        f"\nDAG parse: {parse['seconds']} s (median of {parse['all_seconds']}); {parse['tasks']} tasks, at most "
        f"{parse['max_task_instances_per_period']} task instances per period whatever the site count"
    )
    gx_import = report["gx_import_seconds"]
    print(f"Great Expectations import (fresh process, median of 3): {gx_import} s")
    print_targets(report["targets"])


def _cpu_line(figures: dict[str, Any]) -> str:
    groups = ", ".join(f"{group} {seconds}" for group, seconds in figures["seconds"].items())
    return (
        f"busy {figures['busy_seconds']} s in {figures['wall_seconds']} s on {figures['cores']} cores"
        f" (utilization {figures['utilization']}): {groups}"
    )


def _print_cpu(cpu: dict[str, Any]) -> None:
    print(f"CPU (the whole machine; idle before the run: {cpu['idle_busy_per_second']} busy s per s):")
    print(f"  dags test: {_cpu_line(cpu['dags_test'])}")
    print(f"  floor:     {_cpu_line(cpu['floor'])}")
    print(f"  the dags test's CPU work / the floor's: {cpu['dags_test_busy_vs_floor_busy']}")


def _print_validate(where: str, compared: dict[str, Any]) -> None:
    print(
        f"validate vs plain pandas ({where}): {compared['validate_task_seconds']:.2f} s of the validate task / "
        f"{compared['pandas_seconds']:.2f} s (read {compared['pandas_seconds'] - compared['pandas_check_seconds']:.2f}"
        f" + checks {compared['pandas_check_seconds']:.2f}) = {compared['ratio']}"
    )
    if compared.get("cpu_ratio") is not None:
        print(
            f"  in CPU seconds: {compared['validate_task_cpu_seconds']:.2f} s of the task (process and supervisor)"
            f" / {compared['pandas_cpu_seconds']:.2f} s of pandas = {compared['cpu_ratio']}"
        )
    for source in compared["sources"]:
        print(
            f"  {source['source']:<15}{source['rows']:>9,} rows {source['expectations']:>3} expectations"
            f"  pandas {source['pandas_read_seconds']:>6.2f} + {source['pandas_check_seconds']:>6.2f} s"
            f" ({source['pandas_cpu_seconds']:.2f} CPU s)"
        )


def _print_scheduler(scheduler: dict[str, Any], floor_seconds: float) -> None:
    print(
        f"\nscheduler (LocalExecutor, parallelism {scheduler['parallelism']}, GX preload "
        f"{'on' if scheduler['gx_preload'] else 'off'}; run {run_state_label(scheduler)}):"
        f" run creation -> {scheduler['last_product']} end {scheduler['created_to_end_seconds']} s"
        f" = {scheduler['vs_floor']} x the floor ({_floor_line(scheduler, floor_seconds)})"
    )
    waits = scheduler["task_queue_wait_seconds"]
    print(
        f"  creation -> first task start {scheduler['created_to_first_task_seconds']} s; task seconds "
        f"{scheduler['task_seconds']}; queued -> start {waits['total']} s over {waits['tasks']} tasks"
        f" (max {waits['max']}); stack start-up (not timed) {scheduler['stack_startup_seconds']} s"
    )
    sync = scheduler.get("state_sync")
    if sync:
        print(
            f"  state loaded before by the stack's own sync run (not timed): {sync['seconds']} s, its first task"
            f" ({sync['first_task']}, on a cold api-server) {sync['first_task_seconds']} s"
        )
    print(
        "  handoffs (last task of a step ends -> first of the next starts, s): "
        + ", ".join(f"{name} {seconds}" for name, seconds in scheduler["handoff_seconds"].items())
    )
    print(f"  {'stage':<22}{'tasks':>6}{'task s':>10}{'span s':>10}{'longest':>10}{'task CPU s':>12}")
    for name, stage in scheduler["stages"].items():
        print(
            f"  {name:<22}{stage['tasks']:>6}{stage['task_seconds']:>10.2f}{stage['span_seconds']:>10.2f}"
            f"{stage['max_task_seconds']:>10.2f}{stage.get('task_cpu_seconds', 0.0):>12.2f}"
        )
    cpu = scheduler.get("cpu")
    if cpu:
        print(f"  CPU, creation -> last product (idle stack before: {cpu['idle_busy_per_second']} busy s per s):")
        print(f"    {_cpu_line(cpu)}")
        print(
            f"    busy / cores = {cpu['cpu_bound_seconds']} s = {cpu['cpu_bound_vs_floor']} x the floor:"
            " no spreading of this much work over these cores ends the run sooner"
        )
    _print_validate("scheduler", scheduler["validate_vs_pandas"])


def _floor_line(scheduler: dict[str, Any], dags_test_floor: float) -> str:
    """The floor the scheduler run is judged against: measured right after it (since session 21)."""
    floor = scheduler.get("floor")
    if not floor:  # a report of an earlier bench: judged against the floor after the dags test
        return f"{dags_test_floor:.2f} s"
    passes = "; ".join(f"{source} {fetch['pass_seconds']}" for source, fetch in floor["fetch"].items())
    return (
        f"{floor['seconds']:.2f} s measured right after it: fetch {floor['fetch_seconds']:.2f} s (passes {passes}),"
        f" COPY {floor['copy_seconds']:.2f} s; against the floor after the dags test ({dags_test_floor:.2f} s):"
        f" {scheduler['vs_dags_test_floor']} x"
    )


def _main_run(report: dict[str, Any]) -> dict[str, Any] | None:
    statewide = StatewideSpec()
    runs = report.get("runs") or []
    return next(
        (r for r in runs if (r["spec"]["sites"], r["spec"]["children"]) == (statewide.sites, statewide.children)),
        runs[0] if runs else None,
    )


def measured_values(report: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The value of every target this report measured, and the label of the run they were judged on."""
    values: dict[str, Any] = {}
    if report.get("year") and report["year"]["target"]["value"] is not None:  # None: one period
        values["year_last_vs_first_period"] = report["year"]["target"]["value"]
    main = _main_run(report)
    if main is None:
        return values, None
    scheduler = main.get("scheduler")
    if scheduler:
        values["scheduler_vs_floor"] = scheduler["vs_floor"]
    values["dags_test_vs_floor"] = main["ratios"]["pipeline_wall_vs_floor"]
    # Validation is judged where it is deployed (the scheduler run) when that ran.
    values["validate_vs_pandas"] = (scheduler or main)["validate_vs_pandas"]["ratio"]
    values["peak_rss_bytes"] = int(main["pipeline"]["peak_rss_mib"] * MIB)
    four = next((p for p in report.get("scaling") or [] if p["factor"] == 4), None)
    if four:
        values["scaling_4x_time_ratio"] = four["ratio"]
    values["load_vs_copy_throughput"] = main["ratios"]["load_vs_copy_throughput"]
    if report.get("dag_parse"):
        values["dag_parse_seconds"] = report["dag_parse"]["seconds"]
    return values, main["label"]


def evaluate(report: dict[str, Any]) -> dict[str, Any]:
    """The targets this report measured: value, limit, MET or not, the run judged and what it measures."""
    values, label = measured_values(report)
    result = {}
    for name, (limit, measure) in TARGETS.items():
        if name not in values:
            continue
        value = values[name]
        met = value is not None and (value >= limit if name in AT_LEAST else value <= limit)
        result[name] = {"value": value, "limit": limit, "met": bool(met), "run": label, "measure": measure}
    return result


def _shown(name: str, value: Any) -> str:
    if name == "peak_rss_bytes" and isinstance(value, int | float):
        return f"{value / GIB:.2f} GiB"
    return str(value)


def print_targets(targets: dict[str, Any]) -> None:
    """One MET/MISS line per target (the same table for a single period, scaling and a year)."""
    print("\ntargets:")
    for name, target in targets.items():
        sign = ">=" if name in AT_LEAST else "<="
        print(
            f"  {'MET ' if target['met'] else 'MISS'} {name:<27} {_shown(name, target['value']):>10}"
            f"  (limit {sign} {_shown(name, target['limit'])}; {target['measure']})"
        )
