"""``make bench ARGS="--periods 26 --reruns 1"``: a year of consecutive periods into one warehouse.

What grows over an enrollment year is what one period cannot show: ``history.*`` keeps every
superseded version, the reconciled tables hold more periods, and the absence-limit recount reads
each child's year so far. So one warehouse (migrated once) takes ``--periods`` consecutive
periods, each:

1. the state's drop for the period (the statewide generator for that period; enrollment, vouchers
   and license links pinned to the first period's start so the year is one enrollment year; the
   portal's submissions and manual entries accumulate as a real export's would), loaded by
   ``airflow dags test ccms_reference_sync``;
2. the period through ``airflow dags test`` against the vendor sandboxes (real HTTP);
3. ``--reruns`` times: a correction drop (a few absences typed in the portal are withdrawn), synced,
   and the period rerun.

Per period and run: stage times (from Airflow's task windows), the load's own steps (the recount
included), the sync's wall time, and after it the size on disk per schema and the rows kept in
history. The target: the last period's first run costs at most 1.15x the first period's (the
pipeline's task time, load and recount included), printed MET/MISS and written in the JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg

from ccms_attendance.paths import CONFIG_DIR
from ccms_attendance.periods import CONFIG_ENV, PeriodCalendar, ServicePeriod, load_calendar
from ccms_attendance.warehouse.bulk import read_frame
from ccms_attendance.warehouse.sql_files import fetch_one, query
from ccms_attendance.warehouse.target import LOADER_ROLE, WAREHOUSE_CONN_ENV, WarehouseTarget
from devtools.bench.measure import task_timings
from devtools.bench.period import sync_env as period_sync_env
from devtools.bench.report import MIB
from devtools.bench.statewide import StatewideSpec, generate_statewide
from devtools.demo.__main__ import SYNC_DAG_ID
from devtools.demo.drop import exported_at_for, write_drop
from devtools.demo.state import GeneratedState
from devtools.local_airflow import airflow_env, dags_test, prepare_airflow_home

DAG_ID = "ccms_attendance_period"
YEAR_TARGET = 1.15  # last period / first period, same run
CORRECTIONS_PER_RERUN = 5
# The logical date passed to ``dags test``: a day inside the period (its first midnight UTC is
# still the previous period in the state's time zone).
IN_PERIOD = dt.timedelta(days=2)  # portal absences withdrawn before each rerun

# The tables whose size and dead rows the year prints per period: the current version a load swaps
# (DELETE + INSERT: dead rows until a VACUUM) and the history it appends to (one partition per period).
BLOAT_TABLES = (
    "reconciled.daily_attendance",
    "reconciled.absence_summary",
    "reconciled.exception",
    "history.daily_attendance",
    "history.absence_summary",
    "history.exception",
)

# Stage of a task id (first match wins); extract includes each vendor's fetch tasks.
STAGES = (
    ("plan", lambda t: t == "plan_period"),
    ("validate", lambda t: t == "validate"),
    ("reconcile", lambda t: t == "reconcile"),
    ("load", lambda t: t == "load"),
    ("report", lambda t: t == "report"),
    ("data docs", lambda t: t == "data_docs"),
    ("check", lambda t: t == "check_period"),  # the verdict: not an extract (the fallback below)
    ("extract", lambda t: "." in t),
)


def year_periods(calendar: PeriodCalendar, first_day: dt.date, count: int) -> list[ServicePeriod]:
    periods = [calendar.period_containing(first_day)]
    while len(periods) < count:
        following = calendar.next_period(periods[-1])
        if following is None:
            raise SystemExit(f"the calendar ends after {len(periods)} periods from {periods[0]}")
        periods.append(following)
    return periods


def period_state(
    calendar: PeriodCalendar, period: ServicePeriod, spec: StatewideSpec, year_start: dt.date, kept: dict
) -> GeneratedState:
    """The statewide state for ``period`` as the state would export it in that year.

    Enrollment, vouchers, license links and CCMS selections start with the year (the generator
    anchors them 26 weeks before its period); submissions and manual entries of earlier periods
    stay in the export (``kept`` carries them from period to period).
    """
    state = generate_statewide(calendar, period, spec)
    tables = state.tables
    tables["ref.child"]["eligibility_start"] = year_start
    tables["ref.voucher"]["authorized_start"] = year_start
    linked_from = pd.Timestamp(period.start_instant()).normalize()
    year_instant = linked_from - pd.Timedelta(days=(period.start - year_start).days)
    tables["ref.license_link"]["linked_from"] = year_instant
    selections = tables["portal.data_entry_selection"]
    selections["effective_start"] = year_start
    selections["chosen_at"] = year_instant - pd.Timedelta(days=10)
    for table in ("portal.period_submission", "portal.manual_entry"):
        frame = pd.concat([kept[table], tables[table]]) if table in kept else tables[table]
        key = (
            ["site_id", "period_start"]
            if table == "portal.period_submission"
            else ["site_id", "child_id", "attendance_date"]
        )
        tables[table] = kept[table] = frame.drop_duplicates(key, keep="last").reset_index(drop=True)
    return state


def correct(state: GeneratedState, period: ServicePeriod, count: int) -> int:
    """Withdraw ``count`` of the period's portal absences (a provider fixing entries before a rerun)."""
    entries = state.tables["portal.manual_entry"]
    in_period = entries.index[(entries["attendance_date"] >= period.start) & (entries["attendance_date"] <= period.end)]
    withdrawn = list(in_period[:count])
    state.tables["portal.manual_entry"] = entries.drop(index=withdrawn).reset_index(drop=True)
    return len(withdrawn)


def _sync(env: dict[str, str], drops: Path, state: GeneratedState, exported_at: dt.datetime, log: Path) -> float:
    shutil.rmtree(drops, ignore_errors=True)
    write_drop(state, drops, exported_at=exported_at)
    started = time.perf_counter()
    dags_test(env, SYNC_DAG_ID, exported_at.date().isoformat(), log_file=log)
    return round(time.perf_counter() - started, 3)


def _stages(timings: list) -> dict[str, float]:
    seconds = {name: 0.0 for name, _ in STAGES}
    for timing in timings:
        name = next(n for n, matches in STAGES if matches(timing.task_id) or n == "extract")
        seconds[name] += timing.seconds
    return {name: round(value, 3) for name, value in seconds.items()}


def _sizes(conninfo: str) -> dict[str, Any]:
    with psycopg.connect(conninfo) as conn:
        schemas = dict(read_frame(conn, query("bench_schema_sizes")).itertuples(index=False))
        history = dict(read_frame(conn, query("bench_history_rows")).itertuples(index=False))
        dead = read_frame(conn, query("bench_dead_rows")).set_index("schema_name")
        tables = read_frame(conn, query("bench_table_bloat"))
    return {
        "dead_rows": {k: int(v) for k, v in dead["dead_rows"].items()},
        "autovacuums": {k: int(v) for k, v in dead["autovacuums"].items()},
        "autoanalyzes": {k: int(v) for k, v in dead["autoanalyzes"].items()},
        "schema_mib": {k: round(int(v) / MIB, 2) for k, v in schemas.items()},
        "warehouse_mib": round(sum(int(v) for v in schemas.values()) / MIB, 2),
        "history_rows": {k: int(v) for k, v in history.items()},
        "tables": {
            row.table_name: {
                "table_mib": round(int(row.table_bytes) / MIB, 2),
                "index_mib": round(int(row.index_bytes) / MIB, 2),
                "live_rows": int(row.live_rows),
                "dead_rows": int(row.dead_rows),
                "partitions": int(row.partitions),
            }
            for row in tables.itertuples(index=False)
            if row.table_name in BLOAT_TABLES
        },
    }


def _run(env: dict[str, str], target: WarehouseTarget, airflow_home: Path, day: dt.date, log: Path) -> dict[str, Any]:
    started = time.time()
    # At scales with special sites (unlinked licenses), check_period fails the run after the load,
    # by design, as in the statewide bench; any other failure still raises.
    dags_test(env, DAG_ID, day.isoformat(), log_file=log, attention_ok=True)
    wall = time.time() - started
    run_id, timings = task_timings(airflow_home, DAG_ID)
    with psycopg.connect(target.conninfo) as conn:
        load_steps = fetch_one(conn, "bench_load_steps", {"run_id": run_id})["timings"] or {}
    return {
        "run_id": run_id,
        "wall_seconds": round(wall, 3),
        "task_seconds": round(sum(t.seconds for t in timings), 3),
        "failed_tasks": sorted({t.task_id for t in timings if t.state != "success"}),
        "stages": _stages(timings),
        "load_step_seconds": load_steps,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def year_pipeline_config(work: Path, first_period: dt.date) -> Path:
    """The package's ``pipeline.toml`` with ``first_period`` (the DAGs' start_date) at the year's first
    period, so that a year of periods that have all ended can start before the package's default."""
    text = (CONFIG_DIR / "pipeline.toml").read_text()
    text, replaced = re.subn(r"(?m)^#? ?first_period = .*$", f"first_period = {first_period.isoformat()}", text)
    if replaced != 1:
        raise RuntimeError("pipeline.toml has no first_period line (set or commented) to replace")
    path = work / "pipeline.toml"
    path.write_text(text)
    return path


def run_year(args: argparse.Namespace, spec: StatewideSpec, target: WarehouseTarget) -> dict[str, Any]:
    """Run the year into ``target`` (freshly migrated by the caller); return the report's ``year``."""
    from devtools.vendor_sandboxes import launch

    calendar = load_calendar()
    periods = year_periods(calendar, args.date, args.periods)
    if dt.datetime.now(dt.UTC) < periods[-1].end_instant():  # the rule of rules.lifecycle.require_ended
        raise SystemExit(
            f"the year's last period {periods[-1]} has not ended, and the DAG refuses it: give an earlier --date"
        )
    year_start = periods[0].start
    work = args.work_dir
    airflow_home = work / "airflow"
    drops = work / "intake"
    config = {CONFIG_ENV: str(year_pipeline_config(work, year_start))}
    sync_env = airflow_env(airflow_home, {**period_sync_env(target, drops), **config})
    prepare_airflow_home(sync_env)
    kept: dict[str, pd.DataFrame] = {}
    results = []
    for number, period in enumerate(periods, start=1):
        label = f"p{number:02d}"
        print(f"[year {label}] {period}: generating and syncing the state's drop ...", flush=True)
        state = period_state(calendar, period, replace(spec), year_start, kept)
        exported_at = exported_at_for(state)
        sync_seconds = [_sync(sync_env, drops, state, exported_at, work / f"sync-{label}.log")]
        scenario_file = work / "scenario.json"
        scenario_file.write_text(
            json.dumps(
                {
                    **state.scenario,
                    "settings": {"page_size": args.page_size, "playground_polls_before_complete": args.export_polls},
                }
            )
        )
        runs = []
        with launch(scenario_file, state_dir=work / f"sandboxes-{label}", startup_timeout=300) as fleet:
            env = airflow_env(
                airflow_home,
                {
                    WAREHOUSE_CONN_ENV: target.as_role(LOADER_ROLE).airflow_uri,
                    **fleet.airflow_conn_env(
                        {"page_size": args.page_size, "export_poll_interval_seconds": args.export_poll_interval}
                    ),
                    "CCMS_TASK_RETRIES": "0",
                    **config,
                    "CCMS_DATA_DOCS_DIR": str(work / "data_docs"),
                    "CCMS_REPORTS_DIR": str(work / "reports"),
                },
            )
            for attempt in range(args.reruns + 1):
                if attempt:
                    withdrawn = correct(state, period, CORRECTIONS_PER_RERUN)
                    exported_at += dt.timedelta(hours=1)
                    sync_seconds.append(
                        _sync(sync_env, drops, state, exported_at, work / f"sync-{label}-{attempt}.log")
                    )
                    print(
                        f"[year {label}] rerun {attempt} after withdrawing {withdrawn} portal absences ...", flush=True
                    )
                run = _run(
                    env, target, airflow_home, period.start + IN_PERIOD, work / f"dags-test-{label}-{attempt}.log"
                )
                run["corrections"] = withdrawn if attempt else 0
                runs.append(run)
                print(
                    f"[year {label}] run {attempt}: {run['task_seconds']:.1f} s of tasks, {run['stages']}", flush=True
                )
        results.append(
            {
                "period": str(period),
                "label": label,
                "sync_seconds": sync_seconds,
                "runs": runs,
                **_sizes(target.conninfo),
            }
        )
    return summarize(results)


def summarize(periods: list[dict[str, Any]]) -> dict[str, Any]:
    """The year's curve and its target: the last period's first run against the first's (task time)."""
    first, last = periods[0]["runs"][0], periods[-1]["runs"][0]
    # One period is compared with nothing: no value, so the targets table leaves it out, as it does
    # any target whose measurement did not run (the year's own line says why).
    compared = len(periods) > 1 and first["task_seconds"]
    ratio = round(last["task_seconds"] / first["task_seconds"], 3) if compared else None
    stage_ratios = {
        name: round(last["stages"][name] / first["stages"][name], 3) if first["stages"][name] else None
        for name in first["stages"]
    }
    recount = [run["load_step_seconds"].get("absence_limits") for run in (first, last)]
    return {
        "periods": periods,
        "last_vs_first": {
            "task_seconds": ratio,
            "stages": stage_ratios,
            "recount": round(recount[1] / recount[0], 3) if all(recount) else None,
        },
        "target": {
            "name": "year_last_vs_first_period",
            "value": ratio,
            "limit": YEAR_TARGET,
            "met": ratio is not None and ratio <= YEAR_TARGET,
        },
    }


def print_year(year: dict[str, Any]) -> None:
    names = [name for name, _ in STAGES]
    print("\n== year of periods (seconds per stage of each run; sizes after the period's last run)")
    print(
        f"{'period':<8}{'run':>4}{'tasks s':>9}"
        + "".join(f"{n:>10}" for n in names)
        + f"{'recount':>9}{'sync':>7}{'MiB':>9}{'hist MiB':>9}{'hist rows':>11}"
    )
    for period in year["periods"]:
        for index, run in enumerate(period["runs"]):
            recount = run["load_step_seconds"].get("absence_limits")
            recount_text = f"{recount:>9.2f}" if isinstance(recount, int | float) else f"{'-':>9}"
            print(
                f"{period['label']:<8}{index:>4}{run['task_seconds']:>9.2f}"
                + "".join(f"{run['stages'][n]:>10.2f}" for n in names)
                + recount_text
                + f"{period['sync_seconds'][index]:>7.1f}"
                + f"{period['warehouse_mib']:>9.1f}{period['schema_mib'].get('history', 0):>9.1f}"
                + f"{sum(period['history_rows'].values()):>11,}"
            )
    print_bloat(year)
    target = year["target"]
    verdict = "not judged (one period)" if target["value"] is None else ("MET " if target["met"] else "MISS")
    print(
        f"\n  {verdict} {target['name']}: {target['value']} (limit {target['limit']});"
        f" per stage: {year['last_vs_first']['stages']}; recount: {year['last_vs_first']['recount']}"
    )


def print_bloat(year: dict[str, Any]) -> None:
    """Per period: the warehouse, history, and each swapped or appended table's size and dead rows."""
    print("\n== bloat after each period (table+index MiB / dead rows; history: partitions)")
    short = [name.replace("reconciled.", "rec.").replace("history.", "hist.") for name in BLOAT_TABLES]
    print(f"{'period':<8}{'MiB':>8}{'hist MiB':>9}" + "".join(f"{name:>24}" for name in short))
    for period in year["periods"]:
        cells = []
        for name in BLOAT_TABLES:
            table = period["tables"].get(name)
            if table is None:
                cells.append(f"{'-':>24}")
                continue
            parts = f" p{table['partitions']}" if table["partitions"] else ""
            text = f"{table['table_mib'] + table['index_mib']:.2f} / {table['dead_rows']:,}{parts}"
            cells.append(f"{text:>24}")
        print(
            f"{period['label']:<8}{period['warehouse_mib']:>8.1f}{period['schema_mib'].get('history', 0):>9.1f}"
            + "".join(cells)
        )
