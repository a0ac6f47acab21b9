"""``make stack``'s pieces without Airflow: pid files that never hit a stranger, URLs, the multi-period state."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from ccms_attendance.canonical import Source
from ccms_attendance.periods import PeriodCalendar
from ccms_attendance.warehouse.target import WarehouseTarget
from devtools.stack.config import StackPaths, sqlalchemy_url, stack_env
from devtools.stack.processes import recorded, start_detached, stop_recorded
from devtools.stack.run import demo_periods
from devtools.stack.state import generate_periods

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def start_sleeper(tmp_path: Path, name: str):
    return start_detached(name, SLEEPER, env={}, cwd=tmp_path, log_dir=tmp_path / "logs", pid_dir=tmp_path / "pids")


def test_stop_signals_only_processes_whose_pid_file_still_matches(tmp_path):
    ours = start_sleeper(tmp_path, "ours")
    stranger = start_sleeper(tmp_path, "stranger")
    # The stranger's pid file now describes another process (as after a reboot that reused the pid).
    pid_file = tmp_path / "pids" / "stranger.pid"
    original = pid_file.read_text()
    pid_file.write_text(json.dumps({**json.loads(original), "started": "1"}))
    try:
        assert {r.name for r in recorded(tmp_path / "pids") if r.alive()} == {"ours"}
        assert stop_recorded(tmp_path / "pids", grace_seconds=5) == ["ours"]
        assert not ours.alive()
        assert not ours.group_alive()
        assert stranger.alive(), "a process the pid files do not truly name was signalled"
        assert not (tmp_path / "pids" / "ours.pid").exists()
        assert not pid_file.exists(), "a pid file naming no process of ours is stale"
    finally:
        pid_file.write_text(original)
        assert stop_recorded(tmp_path / "pids", grace_seconds=5) == ["stranger"]
    assert not stranger.alive()


def test_metadata_urls_for_a_host_and_for_a_socket_directory():
    tcp = WarehouseTarget(host="127.0.0.1", port=5432, dbname="meta", user="postgres")
    assert sqlalchemy_url(tcp) == "postgresql+psycopg://postgres@127.0.0.1:5432/meta"
    socket_dir = WarehouseTarget(host="/tmp/pg sock", dbname="meta", user="postgres")
    assert sqlalchemy_url(socket_dir) == "postgresql+psycopg://postgres@/meta?host=/tmp/pg%20sock"


def test_stack_env_moves_the_log_server_and_bounds_the_workers(tmp_path):
    target = WarehouseTarget(host="127.0.0.1", port=5432, dbname="meta")
    env = stack_env(tmp_path, target, 40001, log_server_port=40002, all_admins=False)
    assert env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == "40002"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:40001/execution/"
    assert env["AIRFLOW__CORE__PARALLELISM"] == "4"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"


def test_each_stack_folder_has_its_own_databases(tmp_path):
    one, two = StackPaths(tmp_path / "a").database_names(), StackPaths(tmp_path / "b").database_names()
    assert one != two
    assert one == StackPaths(tmp_path / "a").database_names()


def test_demo_periods_end_at_the_latest_period_the_schedule_has_run():
    now = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)  # 2026-11-22..12-05 closed, due a day later
    periods = demo_periods(4, now)
    assert [p.start for p in periods] == [dt.date(2026, 9, 13) + dt.timedelta(days=14 * n) for n in range(5)]
    assert periods[-1].end == dt.date(2026, 11, 21)


def test_the_multi_period_state_covers_every_period_for_every_source():
    calendar = PeriodCalendar(anchor=dt.date(2026, 1, 4), length_days=14)
    periods = [calendar.period_containing(dt.date(2026, 10, 1)), calendar.period_containing(dt.date(2026, 10, 15))]
    state = generate_periods(calendar, periods)
    entries = state.tables["portal.manual_entry"]
    for period in periods:
        assert entries["attendance_date"].between(period.start, period.end).any(), period
        submitted = state.tables["portal.period_submission"]
        assert set(submitted.loc[submitted["period_start"] == period.start, "site_id"]) == set(
            state.tables["ref.site"]["site_id"]
        ), period
    vendors = {site["vendor"] for site in state.scenario["sites"]}
    assert vendors == {str(s) for s in Source.ccms()}
    for site in state.scenario["sites"]:
        days = {dt.date.fromisoformat(d["date"]) for d in site["days"]}
        for period in periods:
            assert any(period.contains(day) for day in days), (site["vendor"], period)
    # Every CCMS site chose its vendor before the first period: each period is governed the same way.
    selections = state.tables["portal.data_entry_selection"]
    assert (selections["effective_start"] < periods[0].start).all()
    assert len(selections) == len(vendors)
