"""The year bench's state: one enrollment year, an export that accumulates, corrections that change it."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from ccms_attendance.periods import first_period_start, load_calendar, local_midnight
from devtools.bench.statewide import StatewideSpec
from devtools.bench.year import (
    BLOAT_TABLES,
    correct,
    period_state,
    print_bloat,
    summarize,
    year_periods,
    year_pipeline_config,
)

SPEC = StatewideSpec(sites=40, children=600, seed=7)


@pytest.fixture(scope="module")
def year():
    calendar = load_calendar()
    periods = year_periods(calendar, dt.date(2026, 11, 10), 3)
    kept: dict = {}
    states = [period_state(calendar, p, SPEC, periods[0].start, kept) for p in periods]
    return periods, states


def test_periods_are_consecutive(year):
    periods, _ = year
    assert [b.start - a.end for a, b in itertools.pairwise(periods)] == [dt.timedelta(days=1)] * 2


def test_enrollment_and_vouchers_start_with_the_year(year):
    periods, states = year
    for state in states:
        assert set(state.tables["ref.child"]["eligibility_start"]) == {periods[0].start}
        assert set(state.tables["ref.voucher"]["authorized_start"]) == {periods[0].start}
        assert set(state.tables["portal.data_entry_selection"]["effective_start"]) == {periods[0].start}
        linked = {ts.date() for ts in state.tables["ref.license_link"]["linked_from"]}
        assert linked == {periods[0].start}


def test_the_export_keeps_earlier_periods_entries(year):
    periods, states = year
    dates = states[-1].tables["portal.manual_entry"]["attendance_date"]
    for period in periods:  # the last export still holds every period's portal absences
        assert ((dates >= period.start) & (dates <= period.end)).any(), period
    assert len(states[0].tables["portal.manual_entry"]) < len(dates)
    submitted = set(states[-1].tables["portal.period_submission"]["period_start"])
    assert {p.start for p in periods} <= submitted


def test_a_correction_withdraws_entries_of_its_period_only(year):
    periods, states = year
    state = states[-1]
    before = state.tables["portal.manual_entry"].copy()
    assert correct(state, periods[1], 5) == 5
    after = state.tables["portal.manual_entry"]
    assert len(after) == len(before) - 5
    outside = (before["attendance_date"] < periods[1].start) | (before["attendance_date"] > periods[1].end)
    assert len(after[(after["attendance_date"] < periods[1].start) | (after["attendance_date"] > periods[1].end)]) == (
        outside.sum()
    )


def _period(task_seconds: float, load: float) -> dict:
    stages = {"plan": 1.0, "load": load}
    return {"runs": [{"task_seconds": task_seconds, "stages": stages, "load_step_seconds": {"absence_limits": load}}]}


def test_target_is_the_last_period_against_the_first():
    met = summarize([_period(10.0, 2.0), _period(11.0, 2.0), _period(11.5, 3.0)])
    assert met["target"] == {"name": "year_last_vs_first_period", "value": 1.15, "limit": 1.15, "met": True}
    assert met["last_vs_first"]["stages"] == {"plan": 1.0, "load": 1.5}
    assert met["last_vs_first"]["recount"] == 1.5
    missed = summarize([_period(10.0, 2.0), _period(11.6, 2.0)])
    assert missed["target"]["met"] is False
    one = summarize([_period(10.0, 2.0)])  # one period proves nothing, and is not judged
    assert one["target"]["value"] is None
    assert one["target"]["met"] is False


def test_one_period_is_left_out_of_the_targets_table_not_judged_met():
    from devtools.bench.report import evaluate

    report = {"year": summarize([_period(10.0, 2.0)])}
    assert "year_last_vs_first_period" not in evaluate(report)
    report = {"year": summarize([_period(10.0, 2.0), _period(10.5, 2.0)])}
    assert evaluate(report)["year_last_vs_first_period"]["met"] is True


def test_the_bloat_table_shows_each_tables_size_dead_rows_and_partitions(capsys):
    tables = {
        "reconciled.daily_attendance": {"table_mib": 1.5, "index_mib": 0.5, "live_rows": 10, "dead_rows": 6000,
                                        "partitions": 0},
        "history.daily_attendance": {"table_mib": 3.0, "index_mib": 1.25, "live_rows": 9, "dead_rows": 0,
                                     "partitions": 2},
    }  # fmt: skip
    year = {"periods": [{"label": "p02", "warehouse_mib": 21.0, "schema_mib": {"history": 4.5}, "tables": tables}]}
    print_bloat(year)
    lines = capsys.readouterr().out.splitlines()
    row = next(line for line in lines if line.startswith("p02"))
    assert "2.00 / 6,000" in row  # table + index MiB / dead rows
    assert "4.25 / 0 p2" in row  # a partitioned table: its partitions added up
    assert row.split()[1:3] == ["21.0", "4.5"]
    assert row.count(" -") == len(BLOAT_TABLES) - 2  # tables the period did not report


def test_a_year_before_the_default_first_period_gets_its_own_start_date(tmp_path):
    first = dt.date(2025, 11, 9)
    config = year_pipeline_config(tmp_path, first)
    assert first_period_start(config) == local_midnight(first)
    assert load_calendar(config) == load_calendar()  # the same periods otherwise


def test_each_task_counts_in_its_own_stage():
    from devtools.bench.measure import TaskTiming
    from devtools.bench.year import _stages

    timings = [
        TaskTiming(task_id, -1, "success", 0.0, seconds)
        for task_id, seconds in [
            ("plan_period", 1.0),
            ("brightwheel.extract_batch", 2.0),
            ("alliance_core.extract_batch", 0.5),
            ("validate", 3.0),
            ("data_docs", 4.0),
            ("check_period", 8.0),
        ]
    ]
    stages = _stages(timings)
    assert stages["extract"] == 2.5  # the vendors' tasks, not the verdict
    assert stages["data docs"] == 4.0
    assert stages["check"] == 8.0
    assert stages["validate"] == 3.0
