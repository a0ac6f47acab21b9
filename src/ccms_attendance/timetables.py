"""A timetable whose every data interval is exactly one state service period.

Registered by ``plugins/ccms_plugin.py``; DAG files import it by this same module path
(``ccms_attendance.timetables``) so the scheduler and the DAG processor agree on its name.

Each period is run twice by the schedule (the period lifecycle, ``rules/lifecycle.py``): the
**provisional** phase runs it when it has closed, plus a grace; the **final** phase when its
submission deadline has passed, plus the same grace. Airflow allows one run per logical date and
DAG, so each phase is the schedule of its own DAG (``dags/ccms_attendance_period.py``). A manual
trigger for any date runs the period containing that date.

Run ids name the period: ``provisional__2026-11-08`` / ``final__2026-11-08`` for scheduled runs,
``manual__2026-11-08__<when>`` (unique per creation) for manual ones. Airflow 3.3 names backfill runs
itself, after their run-after time (``backfill__<run_after>``), so a backfilled closed period's
run-after is its start: ``backfill__2026-11-08T05:00:00+00:00``, the period's first local midnight.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import pendulum
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable
from airflow.utils.types import DagRunType

from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.periods import (
    DEFAULT_SUBMISSION_DAYS,
    PeriodCalendar,
    ServicePeriod,
    load_calendar,
    load_pipeline_config,
)


def _utc(moment: dt.datetime) -> pendulum.DateTime:
    return pendulum.instance(moment).in_timezone("UTC")


def _local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(STATE_TIMEZONE).date()


class Phase(StrEnum):
    """When in a period's lifecycle a scheduled run comes."""

    PROVISIONAL = "provisional"  # after the period closes
    FINAL = "final"  # after its submission deadline


class ServicePeriodTimetable(Timetable):
    """Data interval = one service period, ``[start 00:00, day after end 00:00)`` in state time."""

    periodic = True
    can_be_scheduled = True
    run_ordering = ("data_interval_end", "logical_date")

    def __init__(
        self, calendar: PeriodCalendar, grace: dt.timedelta = dt.timedelta(0), phase: Phase = Phase.PROVISIONAL
    ) -> None:
        if grace < dt.timedelta(0):
            raise ValueError("grace must not be negative")
        self.calendar = calendar
        self.grace = grace
        self.phase = Phase(phase)
        event = "closes" if self.phase is Phase.PROVISIONAL else "submission deadline passes"
        self.description = (
            f"service periods of {calendar.length_days} days from {calendar.anchor}"
            if not calendar.explicit
            else f"{len(calendar.explicit)} service periods from a calendar file"
        ) + (f", {self.phase} run {grace} after each {event}" if grace else f", {self.phase} run as each {event}")

    @classmethod
    def from_config(cls, phase: Phase = Phase.PROVISIONAL) -> ServicePeriodTimetable:
        """Build from ``pipeline.toml`` (a small file; cheap at parse time)."""
        grace_hours = load_pipeline_config()["service_periods"].get("grace_hours", 0)
        return cls(load_calendar(), grace=dt.timedelta(hours=grace_hours), phase=phase)

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
            "phase": str(self.phase),
            "submission_days": self.calendar.submission_days,
            "deadlines": [[start.isoformat(), day.isoformat()] for start, day in self.calendar.deadlines],
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
            submission_days=int(data.get("submission_days", DEFAULT_SUBMISSION_DAYS)),
            deadlines=tuple(
                (dt.date.fromisoformat(start), dt.date.fromisoformat(day)) for start, day in data.get("deadlines", [])
            ),
        )
        return cls(
            calendar,
            grace=dt.timedelta(seconds=int(data.get("grace_seconds", 0))),
            phase=Phase(data.get("phase", Phase.PROVISIONAL)),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServicePeriodTimetable):
            return NotImplemented
        return self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash(repr(self.serialize()))

    # --- the schedule ---
    def period_for(self, moment: dt.datetime) -> ServicePeriod:
        return self.calendar.period_containing(_local_day(moment))

    def run_after(self, period: ServicePeriod) -> dt.datetime:
        """When this phase's scheduled run of ``period`` is due."""
        due = period.end_instant() if self.phase is Phase.PROVISIONAL else self.calendar.deadline_instant(period)
        return due + self.grace

    def _info(self, period: ServicePeriod) -> DagRunInfo:
        info = DagRunInfo.interval(_utc(period.start_instant()), _utc(period.end_instant()))
        return info._replace(run_after=_utc(self.run_after(period)))

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
            # Without catch-up, start from the most recent period whose run is already due.
            latest_due = self._latest_due(dt.datetime.now(tz=dt.UTC))
            if latest_due is not None and latest_due.start > candidate.start:
                candidate = latest_due
        if candidate is None:
            return None
        if restriction.latest is not None and candidate.start_instant() > restriction.latest:
            return None
        info = self._info(candidate)
        if self._bounded_walk(restriction) and candidate.end_instant() <= dt.datetime.now(tz=dt.UTC):
            # Airflow 3.3 names a backfill run ``backfill__<run_after>`` (it does not ask the
            # timetable); a closed period has nothing to wait for, so its run is due from its start
            # and the run id names the period, like its logical date.
            info = info._replace(run_after=_utc(candidate.start_instant()))
        return info

    def _bounded_walk(self, restriction) -> bool:
        """A catch-up walk up to a given date: how ``airflow backfill create`` enumerates periods.

        The scheduler's own walk never is: both DAGs run without catch-up and without an end date.
        The final phase takes scheduled runs only, so its walks keep the deadline.
        """
        return restriction.catchup and restriction.latest is not None and self.phase is Phase.PROVISIONAL

    def latest_due(self, now: dt.datetime) -> ServicePeriod | None:
        """The most recent period whose run of this phase is due at ``now`` (None: none yet)."""
        return self._latest_due(now)

    def _latest_due(self, now: dt.datetime) -> ServicePeriod | None:
        period = self.calendar.last_ending_before(_local_day(now - self.grace))
        while period is not None and self.run_after(period) > now:
            period = self.calendar.previous_period(period)
        return period

    def generate_run_id(
        self, *, run_type: DagRunType, run_after: pendulum.DateTime, data_interval: DataInterval | None, **extra: Any
    ) -> str:
        """Run ids that name the period; manual and backfill ids are unique per creation."""
        if data_interval is None:
            return super().generate_run_id(run_type=run_type, run_after=run_after, data_interval=data_interval, **extra)
        period = self.period_for(data_interval.start).start.isoformat()
        if run_type == DagRunType.SCHEDULED:
            return f"{self.phase}__{period}"
        created = dt.datetime.now(tz=dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        return f"{DagRunType(run_type).value}__{period}__{created}"


def _first_whole_day(moment: dt.datetime) -> dt.date:
    """The first state calendar day starting at or after ``moment``."""
    local = moment.astimezone(STATE_TIMEZONE)
    return local.date() if local.time() == dt.time.min else local.date() + dt.timedelta(days=1)
