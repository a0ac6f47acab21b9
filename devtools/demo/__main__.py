"""``make demo``: one service period end to end on the embedded defaults.

1. Use the warehouse named by ``AIRFLOW_CONN_CCMS_WAREHOUSE``, or start an embedded PostgreSQL.
2. Apply the schema migrations.
3. Write a small, realistic demo state (providers, sites, vouchers, portal history, manual entries).
4. Start the three vendor sandboxes serving the demo's CCMS data.
5. Run the period with ``airflow dags test`` and print what was loaded.

Re-running gives the same tables: the state is regenerated from a fixed seed and the period's rows
are replaced as a whole.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

import psycopg

from ccms_attendance.paths import PROJECT_ROOT, data_docs_root, reports_root
from ccms_attendance.periods import load_calendar
from ccms_attendance.rules.absence_limits import NEAR_LIMIT_MARGIN, limit_parameters
from ccms_attendance.warehouse.bulk import read_frame
from ccms_attendance.warehouse.migrate import apply_migrations
from ccms_attendance.warehouse.sql_files import query
from ccms_attendance.warehouse.target import LOADER_ROLE, WAREHOUSE_CONN_ENV, configured_target, start_embedded
from devtools.demo.state import generate_state, write_state
from devtools.local_airflow import AirflowCommandError, airflow_env, dags_test, ensure_metadata_db

DAG_ID = "ccms_attendance_period"
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
    with psycopg.connect(target.conninfo, autocommit=True) as conn:
        write_state(conn, state)
    print(
        f"Demo state written for service period {period}: {len(state.tables['ref.site'])} sites, "
        f"{len(state.tables['ref.voucher'])} vouchers, {len(state.tables['portal.manual_entry'])} manual entries"
    )

    run_dir = PROJECT_ROOT / ".run"
    run_dir.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        vendor_env = _start_sandboxes(stack, state.scenario, run_dir)
        # Migrations and the demo state need the owner; the DAG runs as this database's
        # least-privileged loader (`<db>_loader`, migration V010), like a deployment. Its password, if
        # the server wants one, comes from CCMS_LOADER_PASSWORD (locally, trust/peer needs none).
        dag_target = target.as_role(LOADER_ROLE, os.environ.get("CCMS_LOADER_PASSWORD"))
        env = airflow_env(PROJECT_ROOT / ".airflow", {WAREHOUSE_CONN_ENV: dag_target.airflow_uri, **vendor_env})
        ensure_metadata_db(env)
        log_file = run_dir / "demo-dags-test.log"
        print(f"Running `airflow dags test {DAG_ID} {args.date}` (log: {log_file}) ...")
        try:
            dags_test(env, DAG_ID, args.date.isoformat(), log_file=log_file)
        except AirflowCommandError as error:
            print(error, file=sys.stderr)
            return 1
    print_summary(target.conninfo, period.start)
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
