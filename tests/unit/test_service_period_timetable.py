"""ServicePeriodTimetable: data interval = one service period in UTC; scheduling, catch-up, serialization."""

from __future__ import annotations

import datetime as dt
import itertools

import pendulum
import pytest
from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction

from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.periods import PeriodCalendar, ServicePeriod, load_calendar
from ccms_attendance.timetables import Phase, ServicePeriodTimetable

D = dt.date.fromisoformat
GRACE = dt.timedelta(hours=24)
CALENDAR = PeriodCalendar(anchor=D("2026-01-04"), length_days=14)


def utc(text: str) -> pendulum.DateTime:
    return pendulum.parse(text, tz="UTC")


def local(text: str) -> pendulum.DateTime:
    return pendulum.parse(text, tz=STATE_TIMEZONE.key)


def interval(start: str, end: str) -> DataInterval:
    return DataInterval(utc(start), utc(end))


def period_interval(period: ServicePeriod) -> DataInterval:
    return DataInterval(
        pendulum.instance(period.start_instant()).in_timezone("UTC"),
        pendulum.instance(period.end_instant()).in_timezone("UTC"),
    )


@pytest.fixture
def timetable() -> ServicePeriodTimetable:
    return ServicePeriodTimetable(CALENDAR, grace=GRACE)


def explicit_calendar(*rows: tuple[str, str]) -> PeriodCalendar:
    return PeriodCalendar(CALENDAR.anchor, 14, tuple(ServicePeriod(D(s), D(e)) for s, e in rows))


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


def walk(timetable, restriction, limit=60):
    infos, last = [], None
    for _ in range(limit):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None:
            return infos
        infos.append(info)
        last = info.data_interval
    raise AssertionError("the timetable never stopped")


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


# --- construction, serialization -------------------------------------------------------------


@pytest.mark.parametrize(
    "timetable",
    [
        ServicePeriodTimetable(CALENDAR),
        ServicePeriodTimetable(CALENDAR, grace=dt.timedelta(hours=24)),
        ServicePeriodTimetable(PeriodCalendar(D("2025-12-28"), 7), grace=dt.timedelta(minutes=90)),
        ServicePeriodTimetable(
            explicit_calendar(("2026-01-01", "2026-01-10"), ("2026-01-11", "2026-01-31")), grace=dt.timedelta(hours=6)
        ),
        ServicePeriodTimetable(CALENDAR, grace=GRACE, phase=Phase.FINAL),
        ServicePeriodTimetable(
            PeriodCalendar(
                CALENDAR.anchor,
                14,
                (ServicePeriod(D("2026-01-04"), D("2026-01-17")),),
                submission_days=10,
                deadlines=((D("2026-01-04"), D("2026-02-06")),),
            ),
            phase=Phase.FINAL,
        ),
    ],
    ids=["no-grace", "day-grace", "weekly-odd-grace", "explicit", "final", "final-with-deadline-override"],
)
def test_serialize_round_trip(timetable):
    data = timetable.serialize()
    restored = ServicePeriodTimetable.deserialize(data)
    assert restored == timetable
    assert hash(restored) == hash(timetable)
    assert restored.calendar == timetable.calendar
    assert restored.grace == timetable.grace
    assert restored.serialize() == data
    assert restored.description == timetable.description


def test_serialized_form(timetable):
    assert timetable.serialize() == {
        "anchor": "2026-01-04",
        "length_days": 14,
        "explicit": [],
        "grace_seconds": 86400,
        "phase": "provisional",
        "submission_days": 14,
        "deadlines": [],
    }
    explicit = ServicePeriodTimetable(explicit_calendar(("2026-01-01", "2026-01-10")))
    assert explicit.serialize()["explicit"] == [["2026-01-01", "2026-01-10"]]


@pytest.mark.parametrize(
    "other",
    [
        ServicePeriodTimetable(CALENDAR, grace=dt.timedelta(hours=23)),
        ServicePeriodTimetable(PeriodCalendar(D("2026-01-11"), 14), grace=GRACE),
        ServicePeriodTimetable(PeriodCalendar(D("2026-01-04"), 7), grace=GRACE),
        ServicePeriodTimetable(CALENDAR, grace=GRACE, phase=Phase.FINAL),
        ServicePeriodTimetable(PeriodCalendar(D("2026-01-04"), 14, submission_days=7), grace=GRACE),
    ],
    ids=["other-grace", "other-anchor", "other-length", "other-phase", "other-submission-days"],
)
def test_different_timetables_are_not_equal(timetable, other):
    assert timetable != other


def test_deserialize_defaults_missing_optional_fields():
    restored = ServicePeriodTimetable.deserialize({"anchor": "2026-01-04", "length_days": 14})
    assert restored == ServicePeriodTimetable(CALENDAR)


def test_from_config_reads_the_project_config():
    timetable = ServicePeriodTimetable.from_config()
    assert timetable == ServicePeriodTimetable(load_calendar(), grace=dt.timedelta(hours=24))
    assert timetable.calendar.anchor == D("2026-01-04")
    assert timetable.calendar.length_days == 14
    assert timetable.calendar.explicit == ()


@pytest.mark.parametrize(
    ("timetable", "fragments"),
    [
        (ServicePeriodTimetable(CALENDAR), ["14 days", "2026-01-04"]),
        (ServicePeriodTimetable(CALENDAR, grace=GRACE), ["14 days", "2026-01-04", "after each closes"]),
        (ServicePeriodTimetable(explicit_calendar(("2026-01-01", "2026-01-10"), ("2026-01-11", "2026-01-31"))),
         ["2 service periods", "calendar file"]),
    ],
    ids=["regular", "with-grace", "explicit"],
)  # fmt: skip
def test_description_and_summary(timetable, fragments):
    assert timetable.description
    assert timetable.summary == timetable.description
    for fragment in fragments:
        assert fragment in timetable.description
    if timetable.grace == dt.timedelta(0):
        assert "after each closes" not in timetable.description


def test_negative_grace_is_refused():
    with pytest.raises(ValueError, match="grace must not be negative"):
        ServicePeriodTimetable(CALENDAR, grace=dt.timedelta(seconds=-1))


def test_timetable_flags():
    assert ServicePeriodTimetable.periodic is True
    assert ServicePeriodTimetable.can_be_scheduled is True


# --- the final phase: a second run at each submission deadline ---------------------------------


def test_final_phase_runs_each_period_after_its_submission_deadline():
    final = ServicePeriodTimetable(CALENDAR, grace=GRACE, phase=Phase.FINAL)
    infos = walk(final, TimeRestriction(earliest=utc("2026-11-08T05:00"), latest=utc("2026-11-22T05:00"), catchup=True))
    assert [(i.data_interval, i.run_after) for i in infos] == [
        # 2026-11-08..21 is due on 12-05 (14 days after its end), submissions close at 12-06 00:00 local.
        (interval("2026-11-08T05:00", "2026-11-22T05:00"), local("2026-12-06T00:00") + GRACE),
        (interval("2026-11-22T05:00", "2026-12-06T05:00"), local("2026-12-20T00:00") + GRACE),
    ]


def test_final_phase_honours_a_deadline_override():
    calendar = PeriodCalendar(CALENDAR.anchor, 14, deadlines=((D("2026-11-08"), D("2026-12-12")),))
    final = ServicePeriodTimetable(calendar, phase=Phase.FINAL)
    info = final.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(utc("2026-11-08T05:00"), None, catchup=True)
    )
    assert info is not None
    assert info.run_after == local("2026-12-13T00:00")


def latest_final_interval(calendar: PeriodCalendar, grace: dt.timedelta) -> DataInterval:
    now = dt.datetime.now(tz=dt.UTC)
    period = calendar.period_containing(D("2024-01-01"))
    due = None
    while calendar.deadline_instant(period) + grace <= now:
        due = period
        period = calendar.next_period(period)
    assert due is not None
    return period_interval(due)


def test_final_phase_without_catchup_runs_the_latest_period_past_its_deadline():
    final = ServicePeriodTimetable(CALENDAR, grace=GRACE, phase=Phase.FINAL)
    restriction = TimeRestriction(earliest=utc("2024-01-07T05:00"), latest=None, catchup=False)
    before = latest_final_interval(CALENDAR, GRACE)
    info = final.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    after = latest_final_interval(CALENDAR, GRACE)
    assert info is not None
    assert info.data_interval in {before, after}
    assert info.run_after <= pendulum.now("UTC")
    # The provisional phase has already run the period after it (it closed two weeks later).
    provisional = ServicePeriodTimetable(CALENDAR, grace=GRACE).next_dagrun_info(
        last_automated_data_interval=None, restriction=restriction
    )
    assert provisional is not None
    assert provisional.data_interval.start >= info.data_interval.end


@pytest.mark.parametrize(
    ("phase", "run_type", "expected"),
    [
        (Phase.PROVISIONAL, "scheduled", "provisional__2026-11-08"),
        (Phase.FINAL, "scheduled", "final__2026-11-08"),
        (Phase.PROVISIONAL, "manual", "manual__2026-11-08__"),
        (Phase.PROVISIONAL, "backfill", "backfill__2026-11-08__"),
    ],
)
def test_run_ids_name_the_period(phase, run_type, expected):
    from airflow.utils.types import DagRunType

    timetable = ServicePeriodTimetable(CALENDAR, grace=GRACE, phase=phase)
    run_id = timetable.generate_run_id(
        run_type=DagRunType(run_type),
        run_after=utc("2026-12-07T05:00"),
        data_interval=interval("2026-11-08T05:00", "2026-11-22T05:00"),
    )
    assert run_id.startswith(expected)
    if run_type != "scheduled":  # unique per creation: a backfill may rerun a period beside its old run
        second = timetable.generate_run_id(
            run_type=DagRunType(run_type),
            run_after=utc("2026-12-07T05:00"),
            data_interval=interval("2026-11-08T05:00", "2026-11-22T05:00"),
        )
        assert second != run_id
    else:
        assert run_id == expected
