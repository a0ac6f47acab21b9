"""ServicePeriodTimetable: data interval = one service period in UTC; manual and scheduled runs
(catch-up: ``_catchup``; serialization: ``_config``; the final phase: ``_final_phase``).
"""

from __future__ import annotations

import datetime as dt
import itertools

import pendulum
import pytest
from airflow.timetables.base import DagRunInfo, TimeRestriction
from support.timetable_cases import (
    CALENDAR,
    GRACE,
    default_timetable,
    interval,
    local,
    utc,
    walk,
)

from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.timetables import ServicePeriodTimetable


@pytest.fixture
def timetable() -> ServicePeriodTimetable:
    return default_timetable()


# --- manual runs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("run_after", "expected"),
    [
        (utc("2026-11-10T12:00"), ("2026-11-08T05:00", "2026-11-22T05:00")),
        (utc("2026-11-08T05:00"), ("2026-11-08T05:00", "2026-11-22T05:00")),
        (utc("2026-11-08T04:59:59"), ("2026-10-25T04:00", "2026-11-08T05:00")),
        (local("2026-11-21T23:59:59"), ("2026-11-08T05:00", "2026-11-22T05:00")),
        (utc("2026-01-04T04:00"), ("2025-12-21T05:00", "2026-01-04T05:00")),
        (utc("2027-01-01T00:00"), ("2026-12-20T05:00", "2027-01-03T05:00")),
        (utc("2027-01-03T05:00"), ("2027-01-03T05:00", "2027-01-17T05:00")),
        (utc("2026-03-08T12:00"), ("2026-03-01T05:00", "2026-03-15T04:00")),
        (utc("2026-03-15T03:59"), ("2026-03-01T05:00", "2026-03-15T04:00")),
        (utc("2026-03-15T04:00"), ("2026-03-15T04:00", "2026-03-29T04:00")),
        (utc("2026-07-01T12:00"), ("2026-06-21T04:00", "2026-07-05T04:00")),
        (utc("2026-11-01T12:00"), ("2026-10-25T04:00", "2026-11-08T05:00")),
        (utc("2026-10-25T03:59"), ("2026-10-11T04:00", "2026-10-25T04:00")),
    ],
    ids=[
        "mid-period", "exact-local-midnight-start", "one-second-before-start", "local-last-second",
        "utc-date-differs-from-local", "year-boundary", "first-2027-period", "spring-forward-period",
        "just-before-spring-period-end", "spring-next-period-starts-0400Z", "summer", "fall-back-period",
        "before-fall-period-start",
    ],
)  # fmt: skip
def test_manual_run_covers_the_period_containing_the_date(timetable, run_after, expected):
    result = timetable.infer_manual_data_interval(run_after=run_after)
    assert result == interval(*expected)
    assert result.start.utcoffset() == dt.timedelta(0)
    assert result.end.utcoffset() == dt.timedelta(0)
    assert result.start <= run_after < result.end


# --- scheduled runs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("earliest", "latest", "expected_runs", "first", "last_start"),
    [
        (utc("2026-01-04T05:00"), local("2026-12-31T23:59"), 26, "2026-01-04", "2026-12-20"),
        (utc("2026-01-04T05:00"), local("2027-01-03T00:00"), 27, "2026-01-04", "2027-01-03"),
        (local("2025-12-21T00:00"), local("2026-12-31T00:00"), 27, "2025-12-21", "2026-12-20"),
    ],
    ids=["calendar-year-2026", "latest-is-inclusive", "from-previous-december"],
)
def test_catchup_walks_consecutive_periods_for_a_year(timetable, earliest, latest, expected_runs, first, last_start):
    infos = walk(timetable, TimeRestriction(earliest=earliest, latest=latest, catchup=True))
    assert len(infos) == expected_runs
    assert infos[0].data_interval.start == local(f"{first}T00:00")
    assert infos[-1].data_interval.start == local(f"{last_start}T00:00")
    for previous, current in itertools.pairwise(infos):
        assert current.data_interval.start == previous.data_interval.end  # no gap, no overlap
    for info in infos:
        start, end = info.data_interval
        assert isinstance(info, DagRunInfo)
        assert start.utcoffset() == dt.timedelta(0)
        assert start.in_timezone(STATE_TIMEZONE.key).isoweekday() == 7
        assert (start.in_timezone(STATE_TIMEZONE.key).hour, end.in_timezone(STATE_TIMEZONE.key).hour) == (0, 0)
        assert dt.timedelta(days=14, hours=-1) <= end - start <= dt.timedelta(days=14, hours=1)
        # A bounded walk (a backfill's): a closed period is due from its start, a later one after its grace.
        assert info.run_after == (start if end <= pendulum.now("UTC") else end + GRACE)
        assert info.logical_date == start


def test_run_after_without_grace_is_the_interval_end():
    # Periods that have not closed yet (a closed one in a bounded walk is due from its start).
    infos = walk(
        ServicePeriodTimetable(CALENDAR),
        TimeRestriction(earliest=utc("2099-03-08T05:00"), latest=utc("2099-03-22T04:00"), catchup=True),
    )
    assert [(i.data_interval, i.run_after) for i in infos] == [
        (interval("2099-03-08T05:00", "2099-03-22T04:00"), utc("2099-03-22T04:00")),
        (interval("2099-03-22T04:00", "2099-04-05T04:00"), utc("2099-04-05T04:00")),
    ]


def test_a_backfill_names_each_closed_period_by_its_start():
    """Airflow 3.3 builds a backfill run id from the run-after time the timetable gives each period."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.types import DagRunType

    restriction = TimeRestriction(earliest=utc("2026-09-27T00:00"), latest=utc("2026-11-07T00:00"), catchup=True)
    infos = walk(ServicePeriodTimetable(CALENDAR, grace=GRACE), restriction)
    run_ids = [
        DagRun.generate_run_id(run_type=DagRunType.BACKFILL_JOB, logical_date=i.logical_date, run_after=i.run_after)
        for i in infos
    ]
    assert run_ids == [
        "backfill__2026-09-27T04:00:00+00:00",
        "backfill__2026-10-11T04:00:00+00:00",
        "backfill__2026-10-25T04:00:00+00:00",
    ]
    assert [i.run_after for i in infos] == [i.logical_date for i in infos]
    # The scheduler's walk (no catch-up) keeps the grace: the latest closed period runs a day after it ends.
    scheduled = ServicePeriodTimetable(CALENDAR, grace=GRACE).next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(utc("2026-01-04T05:00"), None, catchup=False)
    )
    assert scheduled is not None
    assert scheduled.run_after == scheduled.data_interval.end + GRACE


@pytest.mark.parametrize(
    ("earliest", "expected"),
    [
        (local("2026-01-04T00:00"), ("2026-01-04T05:00", "2026-01-18T05:00")),
        (local("2026-01-04T00:00:01"), ("2026-01-18T05:00", "2026-02-01T05:00")),
        (utc("2026-01-10T12:00"), ("2026-01-18T05:00", "2026-02-01T05:00")),
        (local("2026-01-17T23:59"), ("2026-01-18T05:00", "2026-02-01T05:00")),
        (utc("2026-03-05T00:00"), ("2026-03-15T04:00", "2026-03-29T04:00")),
        (utc("2026-12-25T00:00"), ("2027-01-03T05:00", "2027-01-17T05:00")),
    ],
    ids=["exact-start", "one-second-late", "mid-period", "last-local-minute", "dst-next-start", "year-boundary"],
)
def test_first_run_aligns_to_a_period_start(timetable, earliest, expected):
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(earliest, None, catchup=True)
    )
    assert info is not None
    assert info.data_interval == interval(*expected)
    assert info.run_after == utc(expected[1]) + GRACE


def test_no_start_date_means_no_scheduled_run(timetable):
    restriction = TimeRestriction(earliest=None, latest=None, catchup=True)
    assert timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction) is None


@pytest.mark.parametrize(
    ("last", "latest", "expected"),
    [
        (interval("2026-01-18T05:00", "2026-02-01T05:00"), utc("2026-02-01T05:00"),
         ("2026-02-01T05:00", "2026-02-15T05:00")),
        (interval("2026-01-18T05:00", "2026-02-01T05:00"), utc("2026-02-01T04:59:59"), None),
        (interval("2026-01-18T05:00", "2026-02-01T05:00"), utc("2026-01-20T00:00"), None),
    ],
    ids=["latest-equals-next-start", "latest-just-before-next-start", "latest-inside-last-period"],
)  # fmt: skip
def test_restriction_latest_stops_the_schedule(timetable, last, latest, expected):
    restriction = TimeRestriction(earliest=utc("2026-01-04T05:00"), latest=latest, catchup=True)
    info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
    if expected is None:
        assert info is None
    else:
        assert info is not None
        assert info.data_interval == interval(*expected)


def test_first_run_after_latest_is_none(timetable):
    restriction = TimeRestriction(earliest=utc("2026-01-10T00:00"), latest=utc("2026-01-15T00:00"), catchup=True)
    assert timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction) is None
