"""A timetable whose every data interval is exactly one state service period.

Registered by ``plugins/ccms_plugin.py``; DAG files import it by this same module path
(``ccms_attendance.timetables``) so the scheduler and the DAG processor agree on its name.

Scheduled runs are created when a period has closed plus a grace (late CCMS uploads); a manual
trigger for any date runs the period containing that date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable

from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.periods import PeriodCalendar, ServicePeriod, load_calendar, load_pipeline_config


def _utc(moment: dt.datetime) -> pendulum.DateTime:
    return pendulum.instance(moment).in_timezone("UTC")


def _local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(STATE_TIMEZONE).date()


class ServicePeriodTimetable(Timetable):
    """Data interval = one service period, ``[start 00:00, day after end 00:00)`` in state time."""

    periodic = True
    can_be_scheduled = True
    run_ordering = ("data_interval_end", "logical_date")

    def __init__(self, calendar: PeriodCalendar, grace: dt.timedelta = dt.timedelta(0)) -> None:
        if grace < dt.timedelta(0):
            raise ValueError("grace must not be negative")
        self.calendar = calendar
        self.grace = grace
        self.description = (
            f"service periods of {calendar.length_days} days from {calendar.anchor}"
            if not calendar.explicit
            else f"{len(calendar.explicit)} service periods from a calendar file"
        ) + (f", run {grace} after each closes" if grace else "")

    @classmethod
    def from_config(cls) -> ServicePeriodTimetable:
        """Build from ``src/ccms_attendance/config/pipeline.toml`` (a small file; cheap at parse time)."""
        grace_hours = load_pipeline_config()["service_periods"].get("grace_hours", 0)
        return cls(load_calendar(), grace=dt.timedelta(hours=grace_hours))

    @property
    def summary(self) -> str:
        return self.description

    # --- serialization: the scheduler rebuilds the timetable from this, never from config ---
    def serialize(self) -> dict[str, Any]:
        return {
            "anchor": self.calendar.anchor.isoformat(),
            "length_days": self.calendar.length_days,
            "explicit": [[p.start.isoformat(), p.end.isoformat()] for p in self.calendar.explicit],
            "grace_seconds": int(self.grace.total_seconds()),
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> ServicePeriodTimetable:
        calendar = PeriodCalendar(
            anchor=dt.date.fromisoformat(data["anchor"]),
            length_days=int(data["length_days"]),
            explicit=tuple(
                ServicePeriod(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
                for start, end in data.get("explicit", [])
            ),
        )
        return cls(calendar, grace=dt.timedelta(seconds=int(data.get("grace_seconds", 0))))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServicePeriodTimetable):
            return NotImplemented
        return self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash(repr(self.serialize()))

    # --- the schedule ---
    def period_for(self, moment: dt.datetime) -> ServicePeriod:
        return self.calendar.period_containing(_local_day(moment))

    def _info(self, period: ServicePeriod) -> DagRunInfo:
        info = DagRunInfo.interval(_utc(period.start_instant()), _utc(period.end_instant()))
        return info._replace(run_after=info.run_after + self.grace)

    def infer_manual_data_interval(self, *, run_after: dt.datetime) -> DataInterval:
        period = self.period_for(run_after)
        return DataInterval(_utc(period.start_instant()), _utc(period.end_instant()))

    def next_dagrun_info(self, *, last_automated_data_interval, restriction) -> DagRunInfo | None:
        if last_automated_data_interval is not None:
            candidate = self.calendar.next_period(self.period_for(last_automated_data_interval.start))
        elif restriction.earliest is None:
            return None
        else:
            candidate = self.calendar.first_starting_on_or_after(_first_whole_day(restriction.earliest))
        if candidate is not None and not restriction.catchup:
            # Without catch-up, start from the most recent period that has already closed (+ grace).
            now = dt.datetime.now(tz=dt.UTC)
            latest_closed = self.calendar.last_ending_before(_local_day(now - self.grace))
            if latest_closed is not None and latest_closed.start > candidate.start:
                candidate = latest_closed
        if candidate is None:
            return None
        if restriction.latest is not None and candidate.start_instant() > restriction.latest:
            return None
        return self._info(candidate)


def _first_whole_day(moment: dt.datetime) -> dt.date:
    """The first state calendar day starting at or after ``moment``."""
    local = moment.astimezone(STATE_TIMEZONE)
    return local.date() if local.time() == dt.time.min else local.date() + dt.timedelta(days=1)
