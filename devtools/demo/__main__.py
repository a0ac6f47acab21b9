"""``make demo``: one service period end to end on the embedded defaults.

1. Use the warehouse named by ``AIRFLOW_CONN_CCMS_WAREHOUSE``, or start an embedded PostgreSQL.
2. Apply the schema migrations.
3. Export a small, realistic demo state (providers, sites, vouchers, portal history, manual entries)
   as an intake drop (docs/intake.md) and load it with ``airflow dags test ccms_reference_sync``,
   the production path: nothing here writes ``ref``/``portal`` tables itself.
4. Start the three vendor sandboxes serving the demo's CCMS data.
5. Run the period with ``airflow dags test`` and print what was loaded.

Re-running gives the same tables: the state is regenerated from a fixed seed (a snapshot drop whose
unchanged rows the sync leaves alone) and the period's rows are replaced as a whole.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import psycopg

from ccms_attendance.artifact_store import data_docs_root, reports_root
from ccms_attendance.intake.tasks import LOCATION_ENV
from ccms_attendance.paths import PROJECT_ROOT
from ccms_attendance.periods import load_calendar
from ccms_attendance.rules.absence_limits import NEAR_LIMIT_MARGIN, limit_parameters
from ccms_attendance.warehouse.bulk import read_frame
from ccms_attendance.warehouse.migrate import apply_migrations
from ccms_attendance.warehouse.sql_files import query
from ccms_attendance.warehouse.target import (
    LOADER_ROLE,
    SYNC_ROLE,
    WAREHOUSE_CONN_ENV,
    configured_target,
    start_embedded,
)
from devtools.demo.drop import write_drop
from devtools.demo.state import generate_state
from devtools.local_airflow import (
    AirflowCommandError,
    airflow_env,
    dags_test,
    only_check_failed,
    period_check,
    prepare_airflow_home,
)

DAG_ID = "ccms_attendance_period"
SYNC_DAG_ID = "ccms_reference_sync"
#: The reference sync's Airflow connection ([intake] conn_id in pipeline.toml) as an environment variable.
SYNC_CONN_ENV = "AIRFLOW_CONN_CCMS_REFERENCE_SYNC"
DEMO_DAY = dt.date(2026, 11, 10)


def _print_table(title: str, frame) -> None:
    print(f"\n{title}")
    print(frame.to_string(index=False) if not frame.empty else "  (none)")


def print_summary(conninfo: str, period_start: dt.date) -> None:
    params = {"period_start": period_start}
    with psycopg.connect(conninfo) as conn:
        loaded = conn.execute(
            "SELECT lifecycle, run_id FROM reconciled.period_load WHERE period_start = %s", (period_start,)
        ).fetchone()
        if loaded:
            print(f"\nThe period's current version is {loaded[0]} (loaded by run {loaded[1]})")
        _print_table("Rows loaded for the period", read_frame(conn, query("period_table_counts"), params))
        _print_table("Absences per site", read_frame(conn, query("period_site_overview"), params))
        _print_table("Exceptions by kind", read_frame(conn, query("period_exception_counts"), params))
        _print_table("Day codes per site", read_frame(conn, query("period_day_code_counts"), params))
        _print_table(
            f"Children at or near an absence limit (within {NEAR_LIMIT_MARGIN} of a threshold)",
            read_frame(
                conn,
                query("children_near_absence_limit"),
                {**params, **limit_parameters(), "margin": NEAR_LIMIT_MARGIN},
            ),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=DEMO_DAY, help="any day of the period to run")
    args = parser.parse_args(argv)

    target = configured_target()
    if target is None:
        print("No AIRFLOW_CONN_CCMS_WAREHOUSE set: starting the embedded PostgreSQL under .pgdata/ ...")
        target = start_embedded()
    print(f"Warehouse: {target}")
    applied = apply_migrations(target.conninfo)
    print(f"Schema migrations applied now: {applied or 'none (up to date)'}")

    calendar = load_calendar()
    period = calendar.period_containing(args.date)
    state = generate_state(calendar, period)
    run_dir = PROJECT_ROOT / ".run"
    run_dir.mkdir(exist_ok=True)
    drop_root = run_dir / "intake"
    shutil.rmtree(drop_root, ignore_errors=True)  # only this run's drop is pending
    folder = write_drop(state, drop_root, exported_at=dt.datetime.now(dt.UTC).replace(microsecond=0))
    print(
        f"Demo state for service period {period} exported as drop {folder.relative_to(PROJECT_ROOT)}: "
        f"{len(state.tables['ref.site'])} sites, {len(state.tables['ref.voucher'])} vouchers, "
        f"{len(state.tables['portal.manual_entry'])} manual entries"
    )

    # Migrations need the owner; each DAG runs as this database's least-privileged role of its kind
    # (migration V010), like a deployment: the period DAG as `<db>_loader`, the reference sync as
    # `<db>_sync` (the only role that writes ref/portal). Their passwords, if the server wants them,
    # come from CCMS_LOADER_PASSWORD / CCMS_SYNC_PASSWORD (locally, trust/peer needs none).
    dag_target = target.as_role(LOADER_ROLE, os.environ.get("CCMS_LOADER_PASSWORD"))
    sync_target = target.as_role(SYNC_ROLE, os.environ.get("CCMS_SYNC_PASSWORD"))
    env = airflow_env(
        PROJECT_ROOT / ".airflow",
        {
            WAREHOUSE_CONN_ENV: dag_target.airflow_uri,
            SYNC_CONN_ENV: sync_target.airflow_uri,
            LOCATION_ENV: str(drop_root),
        },
    )
    prepare_airflow_home(env)
    sync_log = run_dir / "demo-reference-sync.log"
    print(f"Loading it with `airflow dags test {SYNC_DAG_ID}` (log: {sync_log}) ...")
    try:
        dags_test(env, SYNC_DAG_ID, dt.date.today().isoformat(), log_file=sync_log)
    except AirflowCommandError as error:
        print(error, file=sys.stderr)
        return 1
    with contextlib.ExitStack() as stack:
        env.update(_start_sandboxes(stack, state.scenario, run_dir))
        log_file = run_dir / "demo-dags-test.log"
        print(f"Running `airflow dags test {DAG_ID} {args.date}` (log: {log_file}) ...")
        try:
            # The demo state has a site whose license is not linked, on purpose: check_period fails
            # the run after everything was loaded. Any other failure is the demo's failure.
            output = dags_test(env, DAG_ID, args.date.isoformat(), log_file=log_file, attention_ok=True)
        except AirflowCommandError as error:
            print(error, file=sys.stderr)
            return 1
    check = period_check(output) if only_check_failed(output) else None
    print_summary(target.conninfo, period.start)
    if check:
        print("\nThe run ended FAILED, as the demo state intends: check_period found site-periods without usable data")
        for site in check["sites_without_usable_data"]:
            print(f"  {site['site_id']} ({site['source']}): {site['cause']}")
        print("A real deployment mails this to [alerts] recipients (docs/operations.md).")
    print(f"\nPeriod report: {reports_root() / period.start.isoformat() / 'latest.html'}")
    print(f"GX data docs:  {data_docs_root() / period.start.isoformat()}/<run>/<suite>/index.html")
    return 0


def _start_sandboxes(stack: contextlib.ExitStack, scenario: dict, run_dir: Path) -> dict[str, str]:
    """Serve the demo's CCMS data from the vendor sandboxes; return their connection env vars."""
    from devtools.vendor_sandboxes import launch

    scenario_file = Path(tempfile.mkstemp(prefix="demo-scenario-", suffix=".json", dir=run_dir)[1])
    scenario_file.write_text(json.dumps(scenario))
    fleet = stack.enter_context(launch(scenario_file, state_dir=run_dir / "sandboxes"))
    stack.callback(scenario_file.unlink, missing_ok=True)
    return fleet.airflow_conn_env()


if __name__ == "__main__":
    sys.exit(main())
