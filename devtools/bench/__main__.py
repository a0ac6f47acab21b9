"""``make bench``: one statewide service period through the real DAG, measured against its floor.

1. Generate the statewide period (:mod:`devtools.bench.statewide`, seeded), export it as an intake
   drop and load it with ``airflow dags test ccms_reference_sync`` (docs/intake.md) into a freshly
   migrated warehouse database of its own (``--database``, dropped and created for every run).
2. Serve its CCMS data from the vendor sandboxes (``devtools.vendor_sandboxes.launch``, real HTTP).
3. Run the period with ``airflow dags test`` (:func:`devtools.local_airflow.dags_test`),
   sampling the process's memory; read per-task windows from Airflow's metadata DB.
4. In the same run, on the same data: the floor (:mod:`devtools.bench.floor`).
5. Print a table and write the JSON report (``--json``, default ``build/bench/bench.json``).

``--scaling 1,2,4`` repeats steps 1-4 with that many times the children (same sites) and reports
how the time grows. ``--periods 26 --reruns 1`` runs a year of periods into one warehouse instead
(:mod:`devtools.bench.year`). Details and figures: ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import psutil
import psycopg

from ccms_attendance.canonical import Source
from ccms_attendance.intake.tasks import LOCATION_ENV
from ccms_attendance.paths import DAGS_DIR, PROJECT_ROOT
from ccms_attendance.periods import load_calendar, load_pipeline_config
from ccms_attendance.warehouse.bulk import read_frame
from ccms_attendance.warehouse.migrate import apply_migrations
from ccms_attendance.warehouse.sql_files import fetch_one, query
from ccms_attendance.warehouse.target import (
    LOADER_ROLE,
    MACHINE_SERVER,
    SYNC_ROLE,
    WAREHOUSE_CONN_ENV,
    WarehouseTarget,
    answers,
    configured_target,
    drop_database,
    start_embedded,
)
from devtools.bench.floor import copy_floor, fetch_floor
from devtools.bench.measure import (
    RssSampler,
    SandboxCpu,
    airflow_phases,
    children_max_rss_bytes,
    task_timings,
)
from devtools.bench.report import GIB, MIB, evaluate, print_table
from devtools.bench.statewide import StatewideSpec, describe, generate_statewide
from devtools.demo.__main__ import SYNC_CONN_ENV, SYNC_DAG_ID
from devtools.demo.drop import write_drop
from devtools.local_airflow import airflow_env, dags_test, ensure_metadata_db, only_check_failed

DAG_ID = "ccms_attendance_period"
DAG_FILE = DAGS_DIR / "ccms_attendance_period.py"
BENCH_DIR = PROJECT_ROOT / "build" / "bench"


# --- the warehouse -------------------------------------------------------------------------------


def admin_target() -> WarehouseTarget:
    """``AIRFLOW_CONN_CCMS_WAREHOUSE``'s server, else the machine's server on 127.0.0.1:5432, else embedded."""
    configured = configured_target()
    if configured is not None:
        return configured
    if answers(MACHINE_SERVER):
        return MACHINE_SERVER
    return start_embedded(dbname="postgres")


def fresh_database(admin: WarehouseTarget, dbname: str) -> WarehouseTarget:
    """Drop and create ``dbname`` (and its roles) and migrate it: every measured run starts from the
    same empty warehouse, and the server keeps one set of roles per database."""
    drop_database(admin.conninfo, dbname)
    with psycopg.connect(admin.conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    target = admin.with_database(dbname)
    apply_migrations(target.conninfo)
    return target


# --- one measured period -------------------------------------------------------------------------


AUTH_ROUTES = ("/oauth/token", "/api/login")


def _pipeline_requests(counters: dict[str, int]) -> int:
    """Data requests a sandbox served (authentication excluded: each extract task logs in once, the floor once)."""
    return sum(
        n
        for key, n in counters.items()
        if key.split(" ", 1)[0] in ("GET", "POST") and "__sandbox__" not in key and not key.endswith(AUTH_ROUTES)
    )


def _rate(rows: float, seconds: float) -> float | None:
    return round(rows / seconds, 1) if seconds > 0 else None


def run_period(spec: StatewideSpec, args: argparse.Namespace, admin: WarehouseTarget, label: str) -> dict[str, Any]:
    """Generate, serve, run the DAG, measure the floor; return the report of this one period."""
    from devtools.vendor_sandboxes import launch

    calendar = load_calendar()
    period = calendar.period_containing(args.date)
    print(f"[{label}] generating {spec.sites} sites, {spec.children} children (seed {spec.seed}) ...", flush=True)
    started = time.perf_counter()
    state = generate_statewide(calendar, period, spec)
    shape = describe(state)
    target = fresh_database(admin, args.database)
    scenario = {
        **state.scenario,
        "settings": {"page_size": args.page_size, "playground_polls_before_complete": args.export_polls},
    }
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    scenario_file = work / "scenario.json"
    scenario_file.write_text(json.dumps(scenario))
    # The state goes in the production way: an intake drop loaded by ccms_reference_sync (docs/intake.md).
    drops = work / "intake"
    shutil.rmtree(drops, ignore_errors=True)
    write_drop(state, drops)
    del state, scenario
    airflow_home = work / "airflow"
    # The sync writes as this database's <db>_sync role, as deployed.
    sync_env = airflow_env(
        airflow_home, {SYNC_CONN_ENV: target.as_role(SYNC_ROLE).airflow_uri, LOCATION_ENV: str(drops)}
    )
    ensure_metadata_db(sync_env)
    dags_test(sync_env, SYNC_DAG_ID, args.date.isoformat(), log_file=work / "reference-sync.log")
    setup_seconds = time.perf_counter() - started
    print(f"[{label}] state loaded through {SYNC_DAG_ID} in {setup_seconds:.1f} s: {shape}", flush=True)

    with launch(scenario_file, state_dir=work / "sandboxes", startup_timeout=300) as fleet:
        vendor_env = fleet.airflow_conn_env(
            {"page_size": args.page_size, "export_poll_interval_seconds": args.export_poll_interval}
        )
        env = airflow_env(
            airflow_home,
            {
                # The DAG runs as this database's loader, as deployed (migrations ran as the owner).
                WAREHOUSE_CONN_ENV: target.as_role(LOADER_ROLE).airflow_uri,
                **vendor_env,
                "CCMS_TASK_RETRIES": "0",
                "CCMS_DATA_DOCS_DIR": str(work / "data_docs"),
                "CCMS_REPORTS_DIR": str(work / "reports"),
            },
        )
        ensure_metadata_db(env)
        fleet.reset_stats()
        sandbox_pids = {p.pid for p in fleet.processes.values()}
        sandbox_cpu = SandboxCpu(fleet.processes)
        log_file = work / f"dags-test-{label}.log"
        print(f"[{label}] airflow dags test {DAG_ID} {args.date} (log {log_file}) ...", flush=True)
        loads = {"before_pipeline": _load()}
        kernel_before = children_max_rss_bytes()
        with RssSampler(exclude=sandbox_pids) as sampler:
            wall_start = time.time()
            sandbox_cpu.mark("pipeline")
            if args.profile:
                _profiled_dags_test(env, args.date, work / f"profile-{label}.txt", log_file)
            else:
                # The statewide state has unlinked licenses: check_period fails the run after the load.
                dags_test(env, DAG_ID, args.date.isoformat(), log_file=log_file, attention_ok=True)
            wall_end = time.time()
            sandbox_cpu.mark("pipeline")
        # The kernel's figure is a high-water mark over every child waited for so far: it belongs to
        # this dags test only if it rose during it (otherwise an earlier, bigger child holds it).
        kernel_after = children_max_rss_bytes()
        kernel_peak = kernel_after if kernel_after > kernel_before else 0
        loads["after_pipeline"] = _load()
        pipeline_requests = {str(s): _pipeline_requests(fleet.stats(s)["counters"]) for s in Source.ccms()}

        run_id, timings = task_timings(airflow_home, DAG_ID)
        with psycopg.connect(target.conninfo) as conn:
            rows = dict(read_frame(conn, query("bench_run_rows"), {"run_id": run_id}).itertuples(index=False))
            load_steps = fetch_one(conn, "bench_load_steps", {"run_id": run_id})["timings"] or {}
            extracted = read_frame(conn, query("run_extract_counts"), {"run_id": run_id})
            called = {
                source: read_frame(conn, query("bench_called_sites"), {"run_id": run_id, "source": str(source)})[
                    "license_number"
                ].tolist()
                for source in Source.ccms()
            }

        print(f"[{label}] floor: bare fetch of the same pages ...", flush=True)
        fleet.reset_stats()
        fetches = {}
        for source in Source.ccms():
            sandbox_cpu.mark(f"floor {source}")
            fetched = fetch_floor(
                source, fleet.endpoints[source], fleet.credentials[str(source)], called[source], period, args.page_size
            )
            sandbox_cpu.mark(f"floor {source}")
            fetches[str(source)] = fetched
        floor_requests = {str(s): _pipeline_requests(fleet.stats(s)["counters"]) for s in Source.ccms()}
    print(f"[{label}] floor: bare COPY of the same rows ...", flush=True)
    copies = copy_floor(target.conninfo, run_id, period.start)
    loads["after_floor"] = _load()

    return _period_report(
        label=label,
        spec=spec,
        shape=shape,
        period=str(period),
        run_id=run_id,
        wall=(wall_start, wall_end),
        sampler=sampler,
        kernel_peak=kernel_peak,
        timings=timings,
        rows=rows,
        extracted=extracted,
        fetches=fetches,
        copies=copies,
        pipeline_requests=pipeline_requests,
        floor_requests=floor_requests,
        setup_seconds=setup_seconds,
        loads=loads,
        sandbox_cpu=sandbox_cpu.seconds,
        load_steps=load_steps,
        airflow_phases=airflow_phases(log_file, wall_start, wall_end),
    )


def _load() -> list[float]:
    """The 1/5/15-minute load averages: other processes on the machine inflate every wall time."""
    return [round(x, 2) for x in os.getloadavg()]


def _profiled_dags_test(env: dict[str, str], day: dt.date, profile: Path, log_file: Path) -> None:
    """``airflow dags test`` under pyinstrument (tasks run in that one process, so one profile covers them).

    Timings of a profiled run are inflated by the sampling; use them for where time goes, not how much.
    """
    command = [sys.executable, "-m", "pyinstrument", "--renderer", "text", "--show-all", "-o", str(profile)]
    command += ["-m", "airflow", "dags", "test", DAG_ID, day.isoformat()]
    completed = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    log_file.write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0 and not only_check_failed(completed.stdout + completed.stderr):
        raise RuntimeError(f"profiled dags test exited {completed.returncode}; see {log_file}")
    print(f"pyinstrument profile: {profile}", flush=True)


def _stage(name: str, windows: list, rows: int, sampler: RssSampler) -> dict[str, Any]:
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


def _period_report(**m: Any) -> dict[str, Any]:
    timings, rows, sampler = m["timings"], m["rows"], m["sampler"]
    extracted = {r.source: r._asdict() for r in m["extracted"].itertuples(index=False)}

    def tasks(predicate) -> list:
        return [t for t in timings if predicate(t.task_id)]

    stages = [_stage("plan", tasks(lambda t: t == "plan_period"), rows_total(rows, "loaded:site_period"), sampler)]
    ppp = extracted.get("PPP", {})
    stages.append(
        _stage(
            "extract PPP",
            tasks(lambda t: t == "ppp.extract_entries"),
            int(ppp.get("records", 0)) + int(ppp.get("dropped_non_voucher", 0)),
            sampler,
        )
    )
    for source in Source.ccms():
        counts = extracted.get(str(source), {})
        received = sum(int(counts.get(k, 0)) for k in ("records", "dropped_non_voucher", "rejected"))
        stages.append(
            _stage(
                f"extract {source}",
                tasks(lambda t, s=source: t.startswith(f"{s.lower()}.") and not t.endswith(".validate")),
                received,
                sampler,
            )
        )
    staged = sum(v for k, v in rows.items() if k.startswith("staged:"))
    stages.append(_stage("validate", tasks(lambda t: t.endswith(".validate")), staged, sampler))
    stages.append(
        _stage("reconcile", tasks(lambda t: t == "reconcile"), rows_total(rows, "loaded:daily_attendance"), sampler)
    )
    loaded = sum(v for k, v in rows.items() if k.startswith("loaded:"))
    stages.append(_stage("load", tasks(lambda t: t == "load"), loaded, sampler))
    stages.append(_stage("report", tasks(lambda t: t == "report"), rows_total(rows, "loaded:site_period"), sampler))

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
    return {
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
                    "requests_per_second": _rate(f.requests, f.seconds),
                    "sandbox_cpu_seconds": m["sandbox_cpu"].get(f"floor {s}"),
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
        "ratios": {
            "pipeline_wall_vs_floor": round(wall / floor_seconds, 2) if floor_seconds else None,
            "pipeline_tasks_vs_floor": round(task_seconds / floor_seconds, 2) if floor_seconds else None,
            "load_vs_copy_throughput": round(load_stage["rows_per_second"] / copy_rate, 3)
            if copy_rate and load_stage["rows_per_second"]
            else None,
        },
    }


def rows_total(rows: dict[str, int], key: str) -> int:
    return int(rows.get(key, 0))


# --- DAG parse time ------------------------------------------------------------------------------

_PARSE_SNIPPET = """
import json, time, sys
from airflow.dag_processing.dagbag import DagBag  # Airflow itself is imported before the clock starts
from airflow.sdk.definitions.mappedoperator import MappedOperator
import ccms_attendance.airflow_tasks  # noqa: F401  (so is the project's package)
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1], bundle_path=sys.argv[2])
seconds = time.perf_counter() - started
dag = bag.dags.get(sys.argv[3])
print(json.dumps({"seconds": seconds, "errors": {k: str(v)[:300] for k, v in bag.import_errors.items()},
                  "tasks": len(dag.tasks) if dag else None,
                  "mapped_tasks": sum(1 for t in dag.tasks if isinstance(t, MappedOperator)) if dag else None}))
"""


def dag_parse(env: dict[str, str], repeats: int = 3) -> dict[str, Any]:
    """Time parsing ``dags/ccms_attendance_period.py`` into a DagBag, in fresh processes; keep the median."""
    results = []
    for _ in range(repeats):
        completed = subprocess.run(
            [sys.executable, "-c", _PARSE_SNIPPET, str(DAG_FILE), str(DAGS_DIR), DAG_ID],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=PROJECT_ROOT,
        )
        results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    results.sort(key=lambda r: r["seconds"])
    median = results[len(results) // 2]
    batch_count = int(load_pipeline_config()["extraction"]["site_batches_per_vendor"])
    unmapped = median["tasks"] - median["mapped_tasks"] if median["tasks"] is not None else None
    return {
        "seconds": round(median["seconds"], 3),
        "all_seconds": [round(r["seconds"], 3) for r in results],
        "import_errors": median["errors"],
        "tasks": median["tasks"],
        "mapped_tasks": median["mapped_tasks"],
        "site_batches_per_vendor": batch_count,
        "max_task_instances_per_period": unmapped + median["mapped_tasks"] * batch_count if unmapped else None,
    }


# --- fixed costs ---------------------------------------------------------------------------------

# Importing Great Expectations, which the first validate task of any run pays (Airflow, pandas and
# the project already imported), timed in a fresh process. Airflow's own start is read from each
# run's log (measure.airflow_phases).
_GX_IMPORT_SNIPPET = """
import time
import airflow.sdk, pandas, ccms_attendance.airflow_tasks  # noqa: F401
from ccms_attendance.validation.engine import _gx
started = time.perf_counter()
_gx()
print(time.perf_counter() - started)
"""


def gx_import_seconds(env: dict[str, str], repeats: int = 3) -> float:
    """Median seconds of importing Great Expectations over ``repeats`` fresh processes."""
    command = [sys.executable, "-c", _GX_IMPORT_SNIPPET]
    runs = [
        subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
        for _ in range(repeats)
    ]
    seconds = sorted(float(run.stdout.split()[-1]) for run in runs)
    return round(seconds[len(seconds) // 2], 3)


# --- output --------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / GIB, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in load],
    }


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
    report["targets"] = {"year_last_vs_first_period": report["year"]["target"]}
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str))
    print_year(report["year"])
    print(f"\nJSON report: {args.json}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
