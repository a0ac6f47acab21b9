"""``make bench``: one statewide service period through the real DAG, measured against its floor.

``python -m devtools.bench`` runs one period (:mod:`devtools.bench.period`): generate the
statewide state, load it through ``ccms_reference_sync``, serve it from the vendor sandboxes, run
``airflow dags test`` on it, and measure in the same run the floor (a bare client fetching the same
pages, a bare COPY of the same rows) and the suites' checks in plain pandas on the same rows.
``--scheduler`` then runs the same period under a deployed scheduler (PostgreSQL metadata,
LocalExecutor, the pools, dag-processor, api-server; :mod:`devtools.bench.scheduler`).

``--scaling 1,2,4`` repeats the period with that many times the children (same sites) and reports
how the time grows. ``--periods 26 --reruns 1 --date 2025-11-12`` runs a year of periods (all
ended: the DAG refuses an open one) into one warehouse instead (:mod:`devtools.bench.year`). The
targets (ratios, :mod:`devtools.bench.report`) print MET/MISS and are stored in the JSON report.
Details and figures: ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from ccms_attendance.paths import PROJECT_ROOT
from ccms_attendance.warehouse.target import WarehouseTarget
from devtools.bench.fixed_costs import dag_parse, gx_import_seconds, machine
from devtools.bench.period import admin_target, fresh_database, run_period
from devtools.bench.report import evaluate, print_table, print_targets
from devtools.bench.scheduler import DEFAULT_PARALLELISM
from devtools.bench.statewide import StatewideSpec
from devtools.local_airflow import airflow_env

BENCH_DIR = PROJECT_ROOT / "build" / "bench"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=3000)
    parser.add_argument("--children", type=int, default=60000)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply sites and children (e.g. 0.01 for a smoke run)"
    )
    parser.add_argument("--scaling", default="", help="children multiples to run in turn, e.g. 1,2,4 (sites fixed)")
    parser.add_argument("--seed", type=int, default=StatewideSpec.seed)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 10), help="a day of the period")
    parser.add_argument("--page-size", type=int, default=500, help="page size asked for and served by the sandboxes")
    parser.add_argument(
        "--export-polls", type=int, default=0, help="Playground status polls before an export completes"
    )
    parser.add_argument("--export-poll-interval", type=float, default=0.2, help="Playground hook poll interval (s)")
    parser.add_argument(
        "--profile", action="store_true", help="run dags test under pyinstrument (WORK_DIR/profile-*.txt)"
    )
    parser.add_argument(
        "--periods", type=int, default=0, help="a year bench: this many consecutive periods into one warehouse"
    )
    parser.add_argument("--reruns", type=int, default=0, help="year bench: reruns of each period, after corrections")
    parser.add_argument(
        "--scheduler", action="store_true", help="also run the period under a deployed scheduler (LocalExecutor)"
    )
    parser.add_argument(
        "--parallelism", type=int, default=DEFAULT_PARALLELISM, help="scheduler: LocalExecutor worker processes"
    )
    parser.add_argument(
        "--gx-preload",
        choices=("on", "off", "both"),
        default="on",
        help="scheduler: GX preloaded in the scheduler, inherited by the tasks (on); both: a second run without",
    )
    parser.add_argument("--scheduler-timeout", type=float, default=1800, help="scheduler: seconds to wait for the run")
    parser.add_argument("--database", default="ccms_bench", help="warehouse database (dropped and recreated)")
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR, help="scenario, Airflow home, logs (build/bench)")
    parser.add_argument("--json", type=Path, default=None, help="JSON report path (default WORK_DIR/bench.json)")
    args = parser.parse_args(argv)
    args.work_dir = args.work_dir.resolve()
    args.json = args.json or args.work_dir / "bench.json"

    base = StatewideSpec(
        sites=max(1, round(args.sites * args.scale)), children=max(1, round(args.children * args.scale)), seed=args.seed
    )
    factors = [int(x) for x in args.scaling.split(",") if x.strip()] or [1]
    admin = admin_target()
    print(f"Warehouse server: {admin}; database {args.database} (recreated per run)")
    report: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "options": {k: str(v) for k, v in vars(args).items()},
        "runs": [],
    }
    if args.periods:
        return _year(args, base, admin, report)
    for factor in factors:
        spec = replace(base, children=base.children * factor)
        report["runs"].append(run_period(spec, args, admin, label=f"{factor}x"))
    if len(factors) > 1:
        first = report["runs"][0]["pipeline"]["wall_seconds"]
        report["scaling"] = [
            {
                "factor": factor,
                "children": run["spec"]["children"],
                "wall_seconds": run["pipeline"]["wall_seconds"],
                "task_seconds": run["pipeline"]["task_seconds"],
                "ratio": round(run["pipeline"]["wall_seconds"] / first, 3) if first else None,
            }
            for factor, run in zip(factors, report["runs"], strict=True)
        ]
    report["dag_parse"] = dag_parse(airflow_env(args.work_dir / "airflow"))
    report["gx_import_seconds"] = gx_import_seconds(airflow_env(args.work_dir / "airflow"))
    report["targets"] = evaluate(report)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str))
    print_table(report)
    print(f"\nJSON report: {args.json}")
    return 0


def _year(args: argparse.Namespace, spec: StatewideSpec, admin: WarehouseTarget, report: dict[str, Any]) -> int:
    """``--periods N``: the year bench (:mod:`devtools.bench.year`) instead of the single period."""
    from devtools.bench.year import print_year, run_year

    args.work_dir.mkdir(parents=True, exist_ok=True)
    report["year"] = run_year(args, spec, fresh_database(admin, args.database))
    report["targets"] = evaluate(report)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str))
    print_year(report["year"])
    print_targets(report["targets"])
    print(f"\nJSON report: {args.json}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
