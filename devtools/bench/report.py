"""The benchmark's report: the table it prints and the targets it judges (MET/MISS)."""

from __future__ import annotations

from typing import Any

from devtools.bench.statewide import StatewideSpec

GIB = 1 << 30
MIB = 1 << 20

TARGETS = {
    "period_wall_seconds": 60.0,
    "peak_rss_bytes": 2 * GIB,
    "pipeline_floor_ratio": 3.0,
    "load_vs_copy_throughput": 0.5,
    "scaling_4x_time_ratio": 4.4,
    "dag_parse_seconds": 1.0,
}


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
                f" sandbox CPU {fetch['sandbox_cpu_seconds']} s)"
            )
        for copy in f["copy"]:
            print(f"  COPY {copy['table']:<28}{copy['rows']:>9,} rows {copy['seconds']:>7.2f} s")
        print(f"  floor total {f['seconds']:.2f} s")
        fixed = sum(v for v in phases.values() if v is not None) + report.get("gx_import_seconds", 0.0)
        print(
            f"  before any pipeline work: the floor plus Airflow's start and end plus the GX import = "
            f"{f['seconds'] + fixed:.1f} s"
        )
        print(f"load averages (1/5/15 min): {run['load_average']}")
        r = run["ratios"]
        print(
            f"pipeline/floor: {r['pipeline_wall_vs_floor']} (wall), {r['pipeline_tasks_vs_floor']} (task time); "
            f"load vs bare COPY throughput: {r['load_vs_copy_throughput']}"
        )
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
    print("\ntargets:")
    for name, target in report["targets"].items():
        print(f"  {'MET ' if target['met'] else 'MISS'} {name}: {target['value']} (limit {target['limit']})")


def evaluate(report: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets, judged on the statewide run (3,000 sites, 60,000 children) when there is one."""
    statewide = StatewideSpec()
    main = next(
        (
            run
            for run in report["runs"]
            if (run["spec"]["sites"], run["spec"]["children"]) == (statewide.sites, statewide.children)
        ),
        report["runs"][0],
    )
    values = {
        "period_wall_seconds": main["pipeline"]["wall_seconds"],
        "peak_rss_bytes": int(main["pipeline"]["peak_rss_mib"] * MIB),
        "pipeline_floor_ratio": main["ratios"]["pipeline_wall_vs_floor"],
        "load_vs_copy_throughput": main["ratios"]["load_vs_copy_throughput"],
        "dag_parse_seconds": report["dag_parse"]["seconds"],
    }
    if report.get("scaling"):
        four = next((p for p in report["scaling"] if p["factor"] == 4), None)
        if four:
            values["scaling_4x_time_ratio"] = four["ratio"]
    result = {}
    for name, value in values.items():
        limit = TARGETS[name]
        met = value is not None and (value >= limit if name == "load_vs_copy_throughput" else value <= limit)
        result[name] = {"value": value, "limit": limit, "met": bool(met), "run": main["label"]}
    return result
