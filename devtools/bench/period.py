"""One measured statewide period: generate, load the state, run the DAG, measure the floor.

1. Generate the statewide period (:mod:`devtools.bench.statewide`, seeded), export it as an intake
   drop and load it with ``airflow dags test ccms_reference_sync`` (docs/intake.md) into a freshly
   migrated warehouse database of its own (``--database``, dropped and created for every run).
2. Serve its CCMS data from the vendor sandboxes (``devtools.vendor_sandboxes.launch``, real HTTP).
3. Run the period with ``airflow dags test`` (:func:`devtools.local_airflow.dags_test`), sampling
   the process's memory; read per-task windows from Airflow's metadata DB.
4. In the same run, on the same data: the floor (:mod:`devtools.bench.floor`) and the validate
   stage's floor, the suites' checks in plain pandas (:mod:`devtools.bench.pandas_checks`).
5. ``--scheduler``: the warehouse is recreated, the stack of a deployed scheduler started, the state
   loaded again by that stack's own ``ccms_reference_sync`` run, and the same period runs under it
   (:mod:`devtools.bench.scheduler`), against the same sandboxes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from ccms_attendance.canonical import Source
from ccms_attendance.intake.tasks import LOCATION_ENV
from ccms_attendance.paths import PROJECT_ROOT
from ccms_attendance.periods import ServicePeriod, load_calendar
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
from devtools.bench.cpu import CpuSampler
from devtools.bench.floor import FETCH_PASSES, FetchFloor, copy_floor, fastest_fetches, fetch_floor, floor_summary
from devtools.bench.measure import RssSampler, airflow_phases, children_max_rss_bytes, task_timings
from devtools.bench.pandas_checks import time_pandas_validation
from devtools.bench.period_report import period_report, stage_windows, validate_vs_pandas
from devtools.bench.scheduler import judge_against_floor, run_under_scheduler, scheduler_report
from devtools.bench.statewide import StatewideSpec, describe, generate_statewide
from devtools.demo.__main__ import SYNC_CONN_ENV, SYNC_DAG_ID
from devtools.demo.drop import write_drop
from devtools.local_airflow import airflow_env, dags_test, only_check_failed, prepare_airflow_home

DAG_ID = "ccms_attendance_period"
AUTH_ROUTES = ("/oauth/token", "/api/login")


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


def sync_env(target: WarehouseTarget, drops: Path) -> dict[str, str]:
    """What ccms_reference_sync needs: its connection, as ``target``'s ``<db>_sync`` role, and the drops."""
    return {SYNC_CONN_ENV: target.as_role(SYNC_ROLE).airflow_uri, LOCATION_ENV: str(drops)}


def load_state(admin: WarehouseTarget, args: argparse.Namespace, drops: Path, label: str) -> WarehouseTarget:
    """A fresh warehouse holding the state: the drop loaded the production way, by ccms_reference_sync
    as this database's ``<db>_sync`` role (docs/intake.md)."""
    target = fresh_database(admin, args.database)
    env = airflow_env(args.work_dir / "airflow", sync_env(target, drops))
    prepare_airflow_home(env)
    dags_test(env, SYNC_DAG_ID, args.date.isoformat(), log_file=args.work_dir / f"reference-sync-{label}.log")
    return target


# --- one measured period -------------------------------------------------------------------------


def _pipeline_requests(counters: dict[str, int]) -> int:
    """Data requests a sandbox served (authentication excluded: each extract task logs in once, the floor once)."""
    return sum(
        n
        for key, n in counters.items()
        if key.split(" ", 1)[0] in ("GET", "POST") and "__sandbox__" not in key and not key.endswith(AUTH_ROUTES)
    )


def _load() -> list[float]:
    """The 1/5/15-minute load averages: other processes on the machine inflate every wall time."""
    return [round(x, 2) for x in os.getloadavg()]


def run_period(spec: StatewideSpec, args: argparse.Namespace, admin: WarehouseTarget, label: str) -> dict[str, Any]:
    """Generate, serve, run the DAG, measure the floor (and the scheduler run); return the period's report."""
    from devtools.vendor_sandboxes import launch

    calendar = load_calendar()
    period = calendar.period_containing(args.date)
    print(f"[{label}] generating {spec.sites} sites, {spec.children} children (seed {spec.seed}) ...", flush=True)
    started = time.perf_counter()
    state = generate_statewide(calendar, period, spec)
    shape = describe(state)
    scenario = {
        **state.scenario,
        "settings": {"page_size": args.page_size, "playground_polls_before_complete": args.export_polls},
    }
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    scenario_file = work / "scenario.json"
    scenario_file.write_text(json.dumps(scenario))
    drops = work / "intake"
    shutil.rmtree(drops, ignore_errors=True)
    write_drop(state, drops)
    del state, scenario
    target = load_state(admin, args, drops, label)
    setup_seconds = time.perf_counter() - started
    print(f"[{label}] state loaded through {SYNC_DAG_ID} in {setup_seconds:.1f} s: {shape}", flush=True)

    airflow_home = work / "airflow"
    with launch(scenario_file, state_dir=work / "sandboxes", startup_timeout=300) as fleet:
        extra = {
            # The DAG runs as this database's loader, as deployed (migrations ran as the owner).
            WAREHOUSE_CONN_ENV: target.as_role(LOADER_ROLE).airflow_uri,
            **fleet.airflow_conn_env(
                {"page_size": args.page_size, "export_poll_interval_seconds": args.export_poll_interval}
            ),
            "CCMS_TASK_RETRIES": "0",
            "CCMS_DATA_DOCS_DIR": str(work / "data_docs"),
            "CCMS_REPORTS_DIR": str(work / "reports"),
        }
        env = airflow_env(airflow_home, extra)
        prepare_airflow_home(env)
        fleet.reset_stats()
        sandbox_pids = {p.pid for p in fleet.processes.values()}
        log_file = work / f"dags-test-{label}.log"
        print(f"[{label}] airflow dags test {DAG_ID} {args.date} (log {log_file}) ...", flush=True)
        loads = {"before_pipeline": _load()}
        kernel_before = children_max_rss_bytes()
        cpu = CpuSampler({"sandboxes": sandbox_pids})
        cpu.measure_idle()
        cpu.start()  # until the floor's COPYs are done
        with RssSampler(exclude=sandbox_pids) as sampler:
            wall_start = time.time()
            cpu.mark("pipeline")
            if args.profile:
                _profiled_dags_test(env, args.date.isoformat(), work / f"profile-{label}.txt", log_file)
            else:
                # The statewide state has unlinked licenses: check_period fails the run after the load.
                dags_test(env, DAG_ID, args.date.isoformat(), log_file=log_file, attention_ok=True)
            wall_end = time.time()
            cpu.mark("pipeline")
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

        print(f"[{label}] floor: bare fetch of the same pages (the faster of {FETCH_PASSES} passes) ...", flush=True)
        floor_requests: dict[str, int] = {}
        fetches = _fetch_floor(fleet, called, period, args.page_size, cpu, floor_requests)
        print(f"[{label}] floor: bare COPY of the same rows; the suites' checks in plain pandas ...", flush=True)
        copies = copy_floor(target.conninfo, run_id, period.start)
        cpu.stop()
        pandas = time_pandas_validation(target.conninfo, _run_params(run_id, period))
        loads["after_floor"] = _load()
        report = period_report(
            label=label,
            spec=spec,
            shape=shape,
            period=str(period),
            run_id=run_id,
            wall=(wall_start, wall_end),
            sampler=sampler,
            cpu=cpu,
            kernel_peak=kernel_peak,
            timings=timings,
            rows=rows,
            extracted=extracted,
            fetches=fetches,
            copies=copies,
            pandas=pandas,
            pipeline_requests=pipeline_requests,
            floor_requests=floor_requests,
            setup_seconds=setup_seconds,
            loads=loads,
            sandbox_cpu={label: round(used["sandboxes"], 2) for label, used in cpu.marked.items()},
            load_steps=load_steps,
            airflow_phases=airflow_phases(log_file, wall_start, wall_end),
        )
        if args.scheduler:
            # ``--gx-preload both``: the judged run with the preload, then one without, for comparison.
            for preload in (True, False) if args.gx_preload == "both" else (args.gx_preload == "on",):
                key = "scheduler" if preload or args.gx_preload == "off" else "scheduler_without_gx_preload"
                report[key] = _scheduler_period(args, admin, drops, label, extra, sandbox_pids, report, pandas, preload)
                # The machine's speed drifts over minutes: the run is judged against a floor measured
                # right after it, on the same sandboxes and the rows it loaded (docs/performance.md).
                print(f"[{label}] floor again, beside the scheduler run ...", flush=True)
                scheduler_fetches = _fetch_floor(fleet, called, period, args.page_size)
                scheduler_copies = copy_floor(
                    admin.with_database(args.database).conninfo, report[key]["run_id"], period.start
                )
                judge_against_floor(report[key], floor_summary(scheduler_fetches, scheduler_copies), report["floor"])
    return report


def _fetch_floor(
    fleet: Any,
    called: dict[Source, list[str]],
    period: ServicePeriod,
    page_size: int,
    cpu: CpuSampler | None = None,
    requests_seen: dict[str, int] | None = None,
) -> dict[str, FetchFloor]:
    """The bare fetch of the pipeline's pages, each vendor's faster of :data:`FETCH_PASSES` passes; with
    ``cpu``, each pass's window and its sandbox's CPU; ``requests_seen`` gets the first round's requests."""
    fleet.reset_stats()

    def fetch_pass(source: Source, round_no: int) -> FetchFloor:
        mark = f"floor {source} pass {round_no}"
        if cpu is not None:
            cpu.mark(mark)
        began = time.time()
        fetched = fetch_floor(
            source, fleet.endpoints[source], fleet.credentials[str(source)], called[source], period, page_size
        )
        fetched.window = (began, time.time())
        if cpu is not None:
            cpu.mark(mark)
            fetched.sandbox_cpu_seconds = round(cpu.marked[mark]["sandboxes"], 2)
        return fetched

    def count_requests() -> None:
        if requests_seen is not None:
            requests_seen.update({str(s): _pipeline_requests(fleet.stats(s)["counters"]) for s in Source.ccms()})

    return fastest_fetches(fetch_pass, after_first_pass=count_requests)


def _run_params(run_id: str, period: ServicePeriod) -> dict[str, Any]:
    return {"run_id": run_id, "period_start": period.start, "period_end": period.end}


def _scheduler_period(
    args: argparse.Namespace,
    admin: WarehouseTarget,
    drops: Path,
    label: str,
    extra: dict[str, str],
    sandbox_pids: set[int],
    report: dict[str, Any],
    pandas: list,
    preload: bool,
) -> dict[str, Any]:
    """The same period again, from the same empty warehouse, under a deployed scheduler."""
    print(
        f"[{label}] scheduler: recreating the warehouse, starting the stack (LocalExecutor, parallelism "
        f"{args.parallelism}, GX preload {'on' if preload else 'off'}), loading the state through its "
        f"{SYNC_DAG_ID} and triggering the run ...",
        flush=True,
    )
    target = fresh_database(admin, args.database)
    load_before = _load()
    measured = run_under_scheduler(
        args.work_dir / ("scheduler" if preload else "scheduler-no-preload"),
        admin,
        {**extra, **sync_env(target, drops)},
        args.date,
        parallelism=args.parallelism,
        gx_preload=preload,
        exclude_pids=sandbox_pids,
        timeout=args.scheduler_timeout,
    )
    windows = stage_windows([t for t in measured["timings"] if t.start and t.end])
    result = scheduler_report(measured, windows)
    result["validate_vs_pandas"] = validate_vs_pandas(windows["validate"], pandas, measured["task_cpu_seconds"])
    result["load_average"] = {"before_stack": load_before, "after_run": _load()}
    return result


def _profiled_dags_test(env: dict[str, str], day: str, profile: Path, log_file: Path) -> None:
    """``airflow dags test`` under pyinstrument (tasks run in that one process, so one profile covers them).

    Timings of a profiled run are inflated by the sampling; use them for where time goes, not how much.
    """
    command = [sys.executable, "-m", "pyinstrument", "--renderer", "text", "--show-all", "-o", str(profile)]
    command += ["-m", "airflow", "dags", "test", DAG_ID, day]
    completed = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    log_file.write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0 and not only_check_failed(completed.stdout + completed.stderr):
        raise RuntimeError(f"profiled dags test exited {completed.returncode}; see {log_file}")
    print(f"pyinstrument profile: {profile}", flush=True)
