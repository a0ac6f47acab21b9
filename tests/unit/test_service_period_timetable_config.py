"""ServicePeriodTimetable: construction from configuration, serialization, equality, description."""

from __future__ import annotations

import datetime as dt

import pytest
from support.timetable_cases import (
    CALENDAR,
    GRACE,
    D,
    default_timetable,
    explicit_calendar,
)

from ccms_attendance.periods import PeriodCalendar, ServicePeriod, load_calendar
from ccms_attendance.timetables import Phase, ServicePeriodTimetable


@pytest.fixture
def timetable() -> ServicePeriodTimetable:
    return default_timetable()


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
