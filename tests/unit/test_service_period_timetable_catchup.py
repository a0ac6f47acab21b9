"""ServicePeriodTimetable without catch-up (only the latest closed period runs), and over explicit
calendars.
"""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from airflow.timetables.base import DataInterval, TimeRestriction
from support.timetable_cases import (
    CALENDAR,
    GRACE,
    D,
    default_timetable,
    explicit_calendar,
    interval,
    period_interval,
    utc,
    walk,
)

from ccms_attendance.periods import PeriodCalendar, ServicePeriod
from ccms_attendance.timetables import ServicePeriodTimetable


@pytest.fixture
def timetable() -> ServicePeriodTimetable:
    return default_timetable()


# --- catchup=False -----------------------------------------------------------------------------


def latest_closed_interval(calendar: PeriodCalendar, grace: dt.timedelta) -> DataInterval:
    """The newest period whose run time (end + grace) has passed, found by walking forward."""
    now = dt.datetime.now(tz=dt.UTC)
    period = calendar.period_containing(D("2024-01-01"))
    closed = None
    while period.end_instant() + grace <= now:
        closed = period
        period = calendar.next_period(period)
    assert closed is not None
    return period_interval(closed)


def expected_latest_closed(action, calendar=CALENDAR, grace=GRACE):
    """Run ``action`` and return its result with the acceptable answers (a period may close meanwhile)."""
    before = latest_closed_interval(calendar, grace)
    result = action()
    after = latest_closed_interval(calendar, grace)
    return result, {before, after}


@pytest.mark.parametrize(
    "last",
    [None, interval("2024-03-03T05:00", "2024-03-17T04:00")],
    ids=["first-run-start-date-long-ago", "last-run-long-ago"],
)
def test_without_catchup_runs_only_the_latest_closed_period(timetable, last):
    restriction = TimeRestriction(earliest=utc("2024-01-07T05:00"), latest=None, catchup=False)
    info, acceptable = expected_latest_closed(
        lambda: timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
    )
    assert info is not None
    assert info.data_interval in acceptable
    assert info.run_after == info.data_interval.end + GRACE
    assert info.run_after <= pendulum.now("UTC")


def test_without_catchup_the_run_after_the_latest_closed_one_is_the_current_period(timetable):
    latest = latest_closed_interval(CALENDAR, GRACE)
    restriction = TimeRestriction(earliest=utc("2024-01-07T05:00"), latest=None, catchup=False)
    info = timetable.next_dagrun_info(last_automated_data_interval=latest, restriction=restriction)
    assert info is not None
    assert info.data_interval.start == latest.end
    assert info.run_after > pendulum.now("UTC") - dt.timedelta(minutes=1)


def test_without_catchup_a_future_start_date_is_respected(timetable):
    restriction = TimeRestriction(earliest=utc("2099-01-07T12:00"), latest=None, catchup=False)
    info = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert info is not None
    expected = CALENDAR.next_period(CALENDAR.period_containing(D("2099-01-07")))
    assert info.data_interval == period_interval(expected)
    assert info.data_interval.start >= utc("2099-01-07T12:00")


# --- explicit calendars ------------------------------------------------------------------------


def test_explicit_calendar_schedule_ends_with_the_calendar():
    calendar = explicit_calendar(("2026-01-01", "2026-01-10"), ("2026-01-11", "2026-01-31"))
    infos = walk(
        ServicePeriodTimetable(calendar),
        TimeRestriction(earliest=utc("2026-01-01T05:00"), latest=None, catchup=True),
    )
    assert [i.data_interval for i in infos] == [
        interval("2026-01-01T05:00", "2026-01-11T05:00"),
        interval("2026-01-11T05:00", "2026-02-01T05:00"),
    ]


def test_explicit_calendar_start_date_before_the_calendar_runs_its_first_period():
    calendar = explicit_calendar(("2026-01-01", "2026-01-10"), ("2026-01-11", "2026-01-31"))
    restriction = TimeRestriction(earliest=utc("2025-06-01T04:00"), latest=None, catchup=True)
    info = ServicePeriodTimetable(calendar).next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert info is not None
    assert info.data_interval == interval("2026-01-01T05:00", "2026-01-11T05:00")


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ((("2024-01-07", "2024-01-20"), ("2024-01-21", "2024-02-03")), ("2024-01-21T05:00", "2024-02-04T05:00")),
        ((("2099-01-04", "2099-01-17"), ("2099-01-18", "2099-01-31")), ("2099-01-04T05:00", "2099-01-18T05:00")),
    ],
    ids=["calendar-already-ended", "calendar-not-started-yet"],
)
def test_explicit_calendar_without_catchup_when_now_is_outside_it(rows, expected):
    calendar = explicit_calendar(*rows)
    first_start = ServicePeriod(D(rows[0][0]), D(rows[0][1])).start_instant()
    restriction = TimeRestriction(earliest=pendulum.instance(first_start), latest=None, catchup=False)
    info = ServicePeriodTimetable(calendar).next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert info is not None
    assert info.data_interval == interval(*expected)
