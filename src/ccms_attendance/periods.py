"""Service periods: the state's biweekly reporting calendar and its submission deadlines.

A period is a run of whole state-calendar days, ``start`` to ``end`` inclusive. Periods come from
an anchor and a length, or from an explicit calendar file that replaces them. Providers submit a
period until its **submission deadline**: ``submission_days`` after the period ends (14 by default,
"within two weeks"), or the calendar file's ``submission_deadline`` for that period; submissions are
accepted through the whole deadline day. The timetable, the governing-source rules, the lifecycle
and the reconciliation all ask this one module what a period is and when it is due.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.paths import CONFIG_DIR


class PeriodCalendarError(ValueError):
    """The period configuration is unusable, or a date falls outside every known period."""


@dataclass(frozen=True, slots=True, order=True)
class ServicePeriod:
    start: dt.date
    end: dt.date  # inclusive: the period's last calendar day

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodCalendarError(f"period {self.start}..{self.end} ends before it starts")

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def start_instant(self) -> dt.datetime:
        """Midnight at the period start in the state's time zone (aware)."""
        return local_midnight(self.start)

    def end_instant(self) -> dt.datetime:
        """Midnight after the last day: the exclusive end of the period's data interval."""
        return local_midnight(self.end + dt.timedelta(days=1))

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def local_midnight(day: dt.date) -> dt.datetime:
    """The instant a state calendar day begins (aware, DST-correct)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=STATE_TIMEZONE)


#: Days after a period's end by which providers must submit it ("within two weeks").
DEFAULT_SUBMISSION_DAYS = 14


@dataclass(frozen=True, slots=True)
class PeriodCalendar:
    """Either a regular cycle (anchor + length) or an explicit, contiguous list of periods.

    ``deadlines`` holds per-period deadline overrides (period start, deadline day), from the
    calendar file; every other period is due ``submission_days`` after its end.
    """

    anchor: dt.date
    length_days: int
    explicit: tuple[ServicePeriod, ...] = ()
    submission_days: int = DEFAULT_SUBMISSION_DAYS
    deadlines: tuple[tuple[dt.date, dt.date], ...] = ()

    def __post_init__(self) -> None:
        if self.length_days < 1:
            raise PeriodCalendarError("length_days must be at least 1")
        if self.submission_days < 0:
            raise PeriodCalendarError("submission_days must not be negative")
        for earlier, later in zip(self.explicit, self.explicit[1:], strict=False):
            if later.start != earlier.end + dt.timedelta(days=1):
                raise PeriodCalendarError(f"calendar periods must be contiguous: {earlier} is followed by {later}")
        for start, deadline in self.deadlines:
            period = self.period_containing(start)
            if period.start != start or deadline < period.end:
                raise PeriodCalendarError(
                    f"submission deadline {deadline} for {start}: must name a period start and not precede its end"
                )

    def period_containing(self, day: dt.date) -> ServicePeriod:
        if self.explicit:
            for period in self.explicit:
                if period.contains(day):
                    return period
            raise PeriodCalendarError(
                f"{day} is outside the service-period calendar ({self.explicit[0].start}..{self.explicit[-1].end})"
            )
        offset = (day - self.anchor).days // self.length_days
        start = self.anchor + dt.timedelta(days=offset * self.length_days)
        return ServicePeriod(start, start + dt.timedelta(days=self.length_days - 1))

    def period_starting(self, day: dt.date) -> ServicePeriod:
        """The period that starts exactly on ``day``; error when ``day`` is not a period start."""
        period = self.period_containing(day)
        if period.start != day:
            raise PeriodCalendarError(f"{day} is not a service-period start (that period starts {period.start})")
        return period

    def is_period_start(self, day: dt.date) -> bool:
        try:
            return self.period_containing(day).start == day
        except PeriodCalendarError:
            return False

    def next_period(self, period: ServicePeriod) -> ServicePeriod | None:
        try:
            return self.period_containing(period.end + dt.timedelta(days=1))
        except PeriodCalendarError:
            return None

    def previous_period(self, period: ServicePeriod) -> ServicePeriod | None:
        try:
            return self.period_containing(period.start - dt.timedelta(days=1))
        except PeriodCalendarError:
            return None

    def first_starting_on_or_after(self, day: dt.date) -> ServicePeriod | None:
        """The first period whose start is ``day`` or later (``None`` past an explicit calendar's end)."""
        if self.explicit:
            return next((p for p in self.explicit if p.start >= day), None)
        period = self.period_containing(day)
        return period if period.start == day else self.next_period(period)

    def last_ending_before(self, day: dt.date) -> ServicePeriod | None:
        """The latest period whose last day is before ``day`` (``None`` before a calendar's start)."""
        if self.explicit:
            ended = [p for p in self.explicit if p.end < day]
            return ended[-1] if ended else None
        return self.previous_period(self.period_containing(day))

    def deadline(self, period: ServicePeriod) -> dt.date:
        """The last day providers may submit ``period``."""
        override = dict(self.deadlines).get(period.start)
        return override if override is not None else period.end + dt.timedelta(days=self.submission_days)

    def deadline_instant(self, period: ServicePeriod) -> dt.datetime:
        """When submissions for ``period`` close: midnight after its deadline day, state time."""
        return local_midnight(self.deadline(period) + dt.timedelta(days=1))

    def periods_between(self, first_day: dt.date, last_day: dt.date) -> list[ServicePeriod]:
        """Every period overlapping ``first_day..last_day``, in order."""
        periods: list[ServicePeriod] = []
        period: ServicePeriod | None = self.period_containing(first_day)
        while period is not None and period.start <= last_day:
            periods.append(period)
            period = self.next_period(period)
        return periods


def _read_calendar_file(path: Path) -> tuple[tuple[ServicePeriod, ...], tuple[tuple[dt.date, dt.date], ...]]:
    """The periods of a calendar file and its deadline overrides (optional column ``submission_deadline``)."""
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise PeriodCalendarError(f"cannot read service-period calendar {path}: {error}") from error
    periods = []
    deadlines = []
    for line_no, row in enumerate(rows, start=2):
        try:
            period = ServicePeriod(dt.date.fromisoformat(row["period_start"]), dt.date.fromisoformat(row["period_end"]))
            if (deadline := (row.get("submission_deadline") or "").strip()) != "":
                deadlines.append((period.start, dt.date.fromisoformat(deadline)))
        except (KeyError, TypeError, ValueError) as error:
            raise PeriodCalendarError(
                f"{path}:{line_no}: expected ISO dates in columns period_start,period_end"
                f"[,submission_deadline] ({error})"
            ) from error
        periods.append(period)
    if not periods:
        raise PeriodCalendarError(f"{path} lists no periods")
    return tuple(sorted(periods)), tuple(sorted(deadlines))


#: Names another ``pipeline.toml`` (one per deployment or test environment); default: the package's.
CONFIG_ENV = "CCMS_PIPELINE_CONFIG"


def pipeline_config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or CONFIG_DIR / "pipeline.toml")


def load_pipeline_config(path: Path | None = None) -> dict:
    """The parsed ``pipeline.toml`` (tiny; safe to read at DAG-parse time)."""
    path = path or pipeline_config_path()
    with path.open("rb") as handle:
        return tomllib.load(handle)


def load_calendar(config_path: Path | None = None) -> PeriodCalendar:
    config_path = config_path or pipeline_config_path()
    return _calendar_from(load_pipeline_config(config_path)["service_periods"], config_path)


def _calendar_from(section: dict, config_path: Path) -> PeriodCalendar:
    """The calendar that ``service_periods`` of ``config_path`` describes (its calendar file is relative to it)."""
    anchor = section["anchor"]
    if not isinstance(anchor, dt.date):
        raise PeriodCalendarError(f"{config_path}: service_periods.anchor must be a date, got {anchor!r}")
    explicit: tuple[ServicePeriod, ...] = ()
    deadlines: tuple[tuple[dt.date, dt.date], ...] = ()
    if section.get("calendar_file"):
        explicit, deadlines = _read_calendar_file(config_path.parent / section["calendar_file"])
    return PeriodCalendar(
        anchor=anchor,
        length_days=int(section["length_days"]),
        explicit=explicit,
        submission_days=int(section.get("submission_days", DEFAULT_SUBMISSION_DAYS)),
        deadlines=deadlines,
    )


def first_period_start(config_path: Path | None = None) -> dt.datetime:
    """The start of the first service period the DAGs run, as their ``start_date`` (midnight, state time).

    ``service_periods.first_period`` in ``pipeline.toml``; by default the calendar file's first
    period, else the anchor. Airflow gives a run of an earlier logical date no tasks at all and marks
    it successful, so a period before it could be "run" and load nothing: set it to the first period
    the state serves, or backfills. It must be a period start of the calendar.
    """
    config_path = config_path or pipeline_config_path()
    section = load_pipeline_config(config_path)["service_periods"]
    calendar = _calendar_from(section, config_path)
    default = calendar.explicit[0].start if calendar.explicit else calendar.anchor
    first = section.get("first_period", default)
    if not isinstance(first, dt.date) or isinstance(first, dt.datetime):
        raise PeriodCalendarError(f"{config_path}: service_periods.first_period must be a date, got {first!r}")
    if not calendar.is_period_start(first):
        raise PeriodCalendarError(f"{config_path}: service_periods.first_period {first} is not a period start")
    return local_midnight(first)
