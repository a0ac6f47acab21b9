"""Shared by the ServicePeriodTimetable tests (tests/unit/test_service_period_timetable*.py): the
two-week calendar they schedule, instants in UTC and in the state's zone, and walking a schedule.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.timetables.base import DataInterval

from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.periods import PeriodCalendar, ServicePeriod
from ccms_attendance.timetables import ServicePeriodTimetable

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


def default_timetable() -> ServicePeriodTimetable:
    """The provisional phase over :data:`CALENDAR` with :data:`GRACE` (the tests' ``timetable`` fixture)."""
    return ServicePeriodTimetable(CALENDAR, grace=GRACE)


def explicit_calendar(*rows: tuple[str, str]) -> PeriodCalendar:
    return PeriodCalendar(CALENDAR.anchor, 14, tuple(ServicePeriod(D(s), D(e)) for s, e in rows))


def walk(timetable, restriction, limit=60):
    infos, last = [], None
    for _ in range(limit):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None:
            return infos
        infos.append(info)
        last = info.data_interval
    raise AssertionError("the timetable never stopped")
