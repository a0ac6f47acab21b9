"""One measured period as the JSON report holds it: stages, the floor, the ratios.

The figures come from :mod:`devtools.bench.period` (what ran) and :mod:`devtools.bench.measure`
(how it was measured); this module only groups and divides them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from ccms_attendance.canonical import Source
from devtools.bench.cpu import CpuSampler, cpu_report
from devtools.bench.measure import RssSampler, TaskTiming
from devtools.bench.pandas_checks import PandasValidation
from devtools.bench.report import MIB


def _stage_predicates() -> list[tuple[str, Callable[[str], bool]]]:
    stages: list[tuple[str, Callable[[str], bool]]] = [
        ("plan", lambda t: t == "plan_period"),
        ("extract PPP", lambda t: t == "ppp.extract_entries"),
    ]
    for source in Source.ccms():
        prefix = f"{source.lower()}."
        stages.append((f"extract {source}", lambda t, p=prefix: t.startswith(p)))
    stages += [
        ("validate", lambda t: t == "validate"),
        ("reconcile", lambda t: t == "reconcile"),
        ("load", lambda t: t == "load"),
        ("report", lambda t: t == "report"),
        ("data docs", lambda t: t == "data_docs"),
    ]
    return stages


def stage_windows(timings: list[TaskTiming]) -> dict[str, list[TaskTiming]]:
    """The run's task windows per stage (``check_period``, the verdict, belongs to none)."""
    return {name: [t for t in timings if matches(t.task_id)] for name, matches in _stage_predicates()}


def _rate(rows: float, seconds: float) -> float | None:
    return round(rows / seconds, 1) if seconds > 0 else None


def _stage(name: str, windows: list[TaskTiming], rows: int, sampler: RssSampler) -> dict[str, Any]:
    seconds = sum(t.seconds for t in windows)
    peak = max((sampler.peak(t.start, t.end) for t in windows), default=0)
    return {
        "stage": name,
        "tasks": len(windows),
        "seconds": round(seconds, 3),
        "rows": int(rows),
        "rows_per_second": _rate(rows, seconds),
        "peak_rss_mib": round(peak / MIB, 1),
    }


def _stage_rows(rows: dict[str, int], extracted: dict[str, dict]) -> dict[str, int]:
    ppp = extracted.get("PPP", {})
    out = {
        "plan": int(rows.get("loaded:site_period", 0)),
        "extract PPP": int(ppp.get("records", 0)) + int(ppp.get("dropped_non_voucher", 0)),
        "validate": sum(v for k, v in rows.items() if k.startswith("staged:")),
        "reconcile": int(rows.get("loaded:daily_attendance", 0)),
        "load": sum(v for k, v in rows.items() if k.startswith("loaded:")),
        "report": int(rows.get("loaded:site_period", 0)),
    }
    # The rows every validation checked: the sources' and the reconciled output's.
    out["data docs"] = out["validate"] + out["reconcile"] + int(rows.get("loaded:absence_summary", 0))
    for source in Source.ccms():
        counts = extracted.get(str(source), {})
        out[f"extract {source}"] = sum(int(counts.get(k, 0)) for k in ("records", "dropped_non_voucher", "rejected"))
    return out


def validate_vs_pandas(
    windows: list[TaskTiming], pandas: list[PandasValidation], task_cpu: dict[str, float] | None = None
) -> dict[str, Any]:
    """The validate task (every source's suite, in one process) against the same rows read and
    checked in plain pandas; with ``task_cpu`` (task instance id -> CPU seconds, measured under the
    scheduler) its CPU seconds too. The task logs each source's seconds; the report keeps the
    baseline's per source."""
    validate = sum(t.seconds for t in windows)
    floor = sum(c.seconds for c in pandas)
    sources = [
        {
            "source": checked.source,
            "rows": checked.rows,
            "expectations": checked.expectations,
            "failed_expectations": checked.failed_expectations,
            "pandas_read_seconds": round(checked.read_seconds, 3),
            "pandas_check_seconds": round(checked.check_seconds, 3),
            "pandas_cpu_seconds": round(checked.cpu_seconds, 3),
        }
        for checked in pandas
    ]
    compared = {
        "validate_task_seconds": round(validate, 3),
        "pandas_seconds": round(floor, 3),
        "pandas_check_seconds": round(sum(c.check_seconds for c in pandas), 3),
        "pandas_cpu_seconds": round(sum(c.cpu_seconds for c in pandas), 3),
        "ratio": round(validate / floor, 2) if floor else None,
        "sources": sources,
    }
    if task_cpu:
        # The task's CPU (its process and supervisor: start, reads, GX, outcomes) against the
        # baseline's: what validation costs, apart from what it waited for on shared cores.
        cpu_seconds = sum(task_cpu.get(t.ti_id, 0.0) for t in windows)
        pandas_cpu = compared["pandas_cpu_seconds"]
        compared["validate_task_cpu_seconds"] = round(cpu_seconds, 3)
        compared["cpu_ratio"] = round(cpu_seconds / pandas_cpu, 2) if pandas_cpu else None
    return compared


def _cpu(cpu: CpuSampler, wall: tuple[float, float], fetches: dict, copies: list, floor_seconds: float):
    """The machine's CPU over the ``dags test`` and over the floor's timed passes and COPYs."""
    pipeline = cpu_report(cpu.between(*wall), wall[1] - wall[0])
    floor_windows = [f.window for f in fetches.values()] + [c.window for c in copies]
    floor = cpu_report(cpu.windows(w for w in floor_windows if w), floor_seconds)
    return {
        "idle_busy_per_second": cpu.idle_busy_per_second,
        "dags_test": pipeline,
        "floor": floor,
        # How much more CPU work the pipeline does than the floor, whatever the wall times.
        "dags_test_busy_vs_floor_busy": round(pipeline["busy_seconds"] / floor["busy_seconds"], 2)
        if floor["busy_seconds"]
        else None,
    }


def period_report(**m: Any) -> dict[str, Any]:
    """The report of one period under ``dags test`` (and under the scheduler, when it ran)."""
    timings, rows, sampler = m["timings"], m["rows"], m["sampler"]
    extracted = {r.source: r._asdict() for r in m["extracted"].itertuples(index=False)}
    windows = stage_windows(timings)
    counts = _stage_rows(rows, extracted)
    stages = [_stage(name, found, counts[name], sampler) for name, found in windows.items()]

    wall_start, wall_end = m["wall"]
    wall = wall_end - wall_start
    task_seconds = sum(t.seconds for t in timings)
    fetches, copies = m["fetches"], m["copies"]
    fetch_seconds = sum(f.seconds for f in fetches.values())
    copy_seconds = sum(c.seconds for c in copies)
    floor_seconds = fetch_seconds + copy_seconds
    reconciled_copies = [c for c in copies if c.table.startswith("reconciled.")]
    copy_rows = sum(c.rows for c in reconciled_copies)
    copy_rate = copy_rows / sum(c.seconds for c in reconciled_copies) if reconciled_copies else 0.0
    load_stage = next(s for s in stages if s["stage"] == "load")
    peak = max(sampler.peak(), m["kernel_peak"])
    report: dict[str, Any] = {
        "label": m["label"],
        "spec": asdict(m["spec"]),
        "shape": m["shape"],
        "period": m["period"],
        "run_id": m["run_id"],
        "setup_seconds": round(m["setup_seconds"], 1),
        "load_average": m["loads"],
        "pipeline": {
            "wall_seconds": round(wall, 3),
            "task_seconds": round(task_seconds, 3),
            "airflow_overhead_seconds": round(wall - task_seconds, 3),
            "peak_rss_mib": round(peak / MIB, 1),
            "peak_rss_sampled_mib": round(sampler.peak() / MIB, 1),
            "peak_rss_kernel_mib": round(m["kernel_peak"] / MIB, 1) if m["kernel_peak"] else None,
            "task_instances": len(timings),
            "failed_tasks": sorted({t.task_id for t in timings if t.state != "success"}),
            "stages": stages,
            "http_requests": m["pipeline_requests"],
            "sandbox_cpu_seconds": m["sandbox_cpu"].get("pipeline"),
            "load_step_seconds": m["load_steps"],
            "airflow_phases_seconds": m["airflow_phases"],
            "rows": {k: int(v) for k, v in rows.items()},
        },
        "floor": {
            "seconds": round(floor_seconds, 3),
            "fetch": {
                s: {
                    "sites": f.sites,
                    "requests": f.requests,
                    "items": f.items,
                    "mib": round(f.bytes / MIB, 1),
                    "seconds": round(f.seconds, 3),
                    "pass_seconds": f.pass_seconds,
                    "requests_per_second": _rate(f.requests, f.seconds),
                    "sandbox_cpu_seconds": f.sandbox_cpu_seconds,
                }
                for s, f in fetches.items()
            },
            "http_requests": m["floor_requests"],
            "copy": [
                {
                    "table": c.table,
                    "rows": c.rows,
                    "mib": round(c.bytes / MIB, 1),
                    "seconds": round(c.seconds, 3),
                    "rows_per_second": _rate(c.rows, c.seconds),
                }
                for c in copies
            ],
            "copy_reconciled_rows": copy_rows,
        },
        "validate_vs_pandas": validate_vs_pandas(windows["validate"], m["pandas"]),
        "cpu": _cpu(m["cpu"], (wall_start, wall_end), fetches, copies, floor_seconds),
        "ratios": {
            "pipeline_wall_vs_floor": round(wall / floor_seconds, 2) if floor_seconds else None,
            "pipeline_tasks_vs_floor": round(task_seconds / floor_seconds, 2) if floor_seconds else None,
            "load_vs_copy_throughput": round(load_stage["rows_per_second"] / copy_rate, 3)
            if copy_rate and load_stage["rows_per_second"]
            else None,
        },
    }
    return report
