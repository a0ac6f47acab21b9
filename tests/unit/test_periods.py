"""Service periods: the regular biweekly cycle, the explicit calendar file, and local-midnight instants."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.periods import (
    PeriodCalendar,
    PeriodCalendarError,
    ServicePeriod,
    first_period_start,
    load_calendar,
    load_pipeline_config,
    local_midnight,
)

D = dt.date.fromisoformat
UTC = dt.UTC


def sp(start: str, end: str) -> ServicePeriod:
    return ServicePeriod(D(start), D(end))


@pytest.fixture(scope="module")
def calendar() -> PeriodCalendar:
    """The project's configured calendar (anchor 2026-01-04, 14 days, no calendar file)."""
    return load_calendar()


def test_project_config_is_the_documented_biweekly_cycle(calendar):
    assert calendar == PeriodCalendar(anchor=D("2026-01-04"), length_days=14)
    assert load_pipeline_config()["service_periods"]["grace_hours"] == 24


# --- the regular cycle ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-01-04", ("2026-01-04", "2026-01-17")),
        ("2026-01-17", ("2026-01-04", "2026-01-17")),
        ("2026-01-18", ("2026-01-18", "2026-01-31")),
        ("2026-01-03", ("2025-12-21", "2026-01-03")),
        ("2025-12-21", ("2025-12-21", "2026-01-03")),
        ("2025-12-20", ("2025-12-07", "2025-12-20")),
        ("2025-02-14", ("2025-02-02", "2025-02-15")),
        ("2026-03-08", ("2026-03-01", "2026-03-14")),
        ("2026-11-10", ("2026-11-08", "2026-11-21")),
        ("2026-12-31", ("2026-12-20", "2027-01-02")),
        ("2027-01-02", ("2026-12-20", "2027-01-02")),
        ("2027-01-03", ("2027-01-03", "2027-01-16")),
        ("2028-02-29", ("2028-02-27", "2028-03-11")),
    ],
    ids=[
        "anchor-itself", "anchor-period-last-day", "second-period-first-day", "day-before-anchor",
        "period-before-anchor-start", "two-periods-before-anchor", "a-year-before-anchor", "spring-forward-day",
        "november-mid-period", "year-boundary-2026", "year-boundary-last-day", "first-2027-period", "leap-day",
    ],
)  # fmt: skip
def test_period_containing_regular_cycle(calendar, day, expected):
    period = calendar.period_containing(D(day))
    assert period == sp(*expected)
    assert period.contains(D(day))
    assert len(period.days) == 14
    assert period.days[0] == period.start
    assert period.days[-1] == period.end


def test_year_boundary_with_another_anchor_phase():
    # With an anchor one week later in the cycle, the boundary period is 2026-12-27..2027-01-09.
    other = PeriodCalendar(anchor=D("2025-12-28"), length_days=14)
    assert other.period_containing(D("2027-01-01")) == sp("2026-12-27", "2027-01-09")
    assert other.period_containing(D("2026-12-26")) == sp("2026-12-13", "2026-12-26")


def test_regular_periods_are_contiguous_sunday_to_saturday(calendar):
    period = calendar.period_containing(D("2024-12-29"))
    for _ in range(26 * 4):
        following = calendar.next_period(period)
        assert following is not None
        assert following.start == period.end + dt.timedelta(days=1)
        assert following.start.isoweekday() == 7  # Sunday
        assert following.end.isoweekday() == 6  # Saturday
        assert (following.end - following.start).days == 13
        period = following


@pytest.mark.parametrize(
    ("day", "is_start"),
    [("2026-01-04", True), ("2026-01-18", True), ("2025-12-21", True), ("2027-01-03", True),
     ("2026-01-05", False), ("2026-01-11", False), ("2026-01-17", False), ("2026-12-27", False)],
    ids=["anchor", "next", "before-anchor", "next-year", "monday-after", "mid-period-sunday", "last-day",
         "boundary-sunday-mid-period"],
)  # fmt: skip
def test_period_starting_accepts_only_starts(calendar, day, is_start):
    assert calendar.is_period_start(D(day)) is is_start
    if is_start:
        assert calendar.period_starting(D(day)).start == D(day)
    else:
        with pytest.raises(PeriodCalendarError, match="not a service-period start"):
            calendar.period_starting(D(day))


@pytest.mark.parametrize(
    ("first", "last", "expected_starts"),
    [
        ("2026-01-10", "2026-02-01", ["2026-01-04", "2026-01-18", "2026-02-01"]),
        ("2026-01-04", "2026-01-17", ["2026-01-04"]),
        ("2026-01-05", "2026-01-05", ["2026-01-04"]),
        ("2026-01-17", "2026-01-18", ["2026-01-04", "2026-01-18"]),
        ("2026-12-15", "2027-01-05", ["2026-12-06", "2026-12-20", "2027-01-03"]),
    ],
    ids=["three-periods", "exactly-one", "single-day", "straddles-a-boundary", "across-year-end"],
)
def test_periods_between(calendar, first, last, expected_starts):
    periods = calendar.periods_between(D(first), D(last))
    assert [p.start for p in periods] == [D(s) for s in expected_starts]


def test_periods_between_a_whole_year_has_no_gaps(calendar):
    periods = calendar.periods_between(D("2026-01-04"), D("2026-12-31"))
    assert len(periods) == 26
    assert periods[0].start == D("2026-01-04")
    assert periods[-1] == sp("2026-12-20", "2027-01-02")
    assert all(b.start == a.end + dt.timedelta(days=1) for a, b in itertools.pairwise(periods))


def test_period_that_ends_before_it_starts_is_rejected():
    with pytest.raises(PeriodCalendarError, match="ends before it starts"):
        sp("2026-01-10", "2026-01-09")


def test_length_must_be_positive():
    with pytest.raises(PeriodCalendarError, match="length_days"):
        PeriodCalendar(anchor=D("2026-01-04"), length_days=0)


def test_str_is_iso_range():
    assert str(sp("2026-01-04", "2026-01-17")) == "2026-01-04..2026-01-17"


# --- instants: local midnight, DST-correct ---------------------------------------------------


@pytest.mark.parametrize(
    ("day", "start_utc", "end_utc", "absolute_length"),
    [
        ("2026-01-10", "2026-01-04T05:00", "2026-01-18T05:00", dt.timedelta(days=14)),
        ("2026-03-08", "2026-03-01T05:00", "2026-03-15T04:00", dt.timedelta(days=14, hours=-1)),
        ("2026-07-01", "2026-06-21T04:00", "2026-07-05T04:00", dt.timedelta(days=14)),
        ("2026-11-01", "2026-10-25T04:00", "2026-11-08T05:00", dt.timedelta(days=14, hours=1)),
        ("2026-12-31", "2026-12-20T05:00", "2027-01-03T05:00", dt.timedelta(days=14)),
    ],
    ids=["winter", "spring-forward", "summer", "fall-back", "year-boundary"],
)
def test_start_and_end_instants_are_local_midnight(calendar, day, start_utc, end_utc, absolute_length):
    period = calendar.period_containing(D(day))
    start, end = period.start_instant(), period.end_instant()
    assert start.tzinfo is STATE_TIMEZONE
    assert end.tzinfo is STATE_TIMEZONE
    assert (start.date(), start.time()) == (period.start, dt.time(0, 0))
    assert (end.date(), end.time()) == (period.end + dt.timedelta(days=1), dt.time(0, 0))
    assert start.astimezone(UTC) == dt.datetime.fromisoformat(start_utc).replace(tzinfo=UTC)
    assert end.astimezone(UTC) == dt.datetime.fromisoformat(end_utc).replace(tzinfo=UTC)
    assert end.astimezone(UTC) - start.astimezone(UTC) == absolute_length


def test_consecutive_periods_share_their_boundary_instant(calendar):
    period = calendar.period_containing(D("2026-02-20"))
    following = calendar.next_period(period)
    assert following is not None
    assert period.end_instant().astimezone(UTC) == following.start_instant().astimezone(UTC)


# --- the explicit calendar file ----------------------------------------------------------------


def write_config(
    tmp_path: Path, rows: list[tuple[str, str]] | None, *, header: str = "period_start,period_end"
) -> Path:
    calendar_file = ""
    if rows is not None:
        lines = [header, *(f"{start},{end}" for start, end in rows)]
        (tmp_path / "calendar.csv").write_text("\n".join(lines) + "\n")
        calendar_file = "calendar.csv"
    config = tmp_path / "pipeline.toml"
    config.write_text(
        "[service_periods]\n"
        "anchor = 2026-01-04\n"
        "length_days = 14\n"
        f'calendar_file = "{calendar_file}"\n'
        "grace_hours = 6\n"
    )
    return config


EXPLICIT_ROWS = [
    ("2026-01-01", "2026-01-10"),
    ("2026-01-11", "2026-01-31"),
    ("2026-02-01", "2026-02-14"),
]


def test_calendar_file_replaces_the_regular_cycle(tmp_path):
    cal = load_calendar(write_config(tmp_path, EXPLICIT_ROWS))
    assert cal.explicit == tuple(sp(*row) for row in EXPLICIT_ROWS)
    # The anchor cycle would say 2026-01-04..2026-01-17 here; the file wins.
    assert cal.period_containing(D("2026-01-05")) == sp("2026-01-01", "2026-01-10")
    assert cal.period_containing(D("2026-01-20")) == sp("2026-01-11", "2026-01-31")
    assert cal.is_period_start(D("2026-01-11"))
    assert not cal.is_period_start(D("2026-01-04"))
    assert cal.period_starting(D("2026-02-01")) == sp("2026-02-01", "2026-02-14")
    with pytest.raises(PeriodCalendarError, match="not a service-period start"):
        cal.period_starting(D("2026-01-18"))


def test_calendar_file_rows_are_sorted(tmp_path):
    cal = load_calendar(write_config(tmp_path, list(reversed(EXPLICIT_ROWS))))
    assert [p.start for p in cal.explicit] == [D("2026-01-01"), D("2026-01-11"), D("2026-02-01")]


def test_empty_calendar_file_setting_uses_the_anchor(tmp_path):
    cal = load_calendar(write_config(tmp_path, None))
    assert cal == PeriodCalendar(anchor=D("2026-01-04"), length_days=14)


@pytest.mark.parametrize(
    "day",
    ["2025-12-31", "2026-02-15", "2027-06-01"],
    ids=["before-first-period", "day-after-last-period", "far-after"],
)
def test_dates_outside_the_explicit_calendar_raise(tmp_path, day):
    cal = load_calendar(write_config(tmp_path, EXPLICIT_ROWS))
    with pytest.raises(PeriodCalendarError, match="outside the service-period calendar"):
        cal.period_containing(D(day))
    assert cal.is_period_start(D(day)) is False


def test_explicit_calendar_ends(tmp_path):
    cal = load_calendar(write_config(tmp_path, EXPLICIT_ROWS))
    assert cal.next_period(sp("2026-02-01", "2026-02-14")) is None
    assert cal.periods_between(D("2026-01-20"), D("2026-12-31")) == [sp(*EXPLICIT_ROWS[1]), sp(*EXPLICIT_ROWS[2])]


@pytest.mark.parametrize(
    "rows",
    [
        [("2026-01-01", "2026-01-10"), ("2026-01-12", "2026-01-31")],
        [("2026-01-01", "2026-01-10"), ("2026-01-10", "2026-01-31")],
        [("2026-01-01", "2026-01-14"), ("2026-01-05", "2026-01-20")],
    ],
    ids=["one-day-gap", "shared-day", "overlap"],
)
def test_calendar_file_must_be_contiguous(tmp_path, rows):
    with pytest.raises(PeriodCalendarError, match="contiguous"):
        load_calendar(write_config(tmp_path, rows))


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        ([("2026-01-01", "2026/01/10")], "period_start,period_end", r"calendar\.csv:2: expected ISO dates"),
        ([("2026-01-01", "2026-01-10")], "start,end", r"calendar\.csv:2: expected ISO dates"),
        ([("2026-01-10", "2026-01-01")], "period_start,period_end", "ends before it starts"),
        ([], "period_start,period_end", "lists no periods"),
    ],
    ids=["bad-date", "wrong-header", "reversed-period", "no-rows"],
)
def test_bad_calendar_file_is_refused(tmp_path, rows, header, message):
    with pytest.raises(PeriodCalendarError, match=message):
        load_calendar(write_config(tmp_path, rows, header=header))


def test_missing_calendar_file_is_refused(tmp_path):
    config = write_config(tmp_path, EXPLICIT_ROWS)
    (tmp_path / "calendar.csv").unlink()
    with pytest.raises(PeriodCalendarError, match="cannot read service-period calendar"):
        load_calendar(config)


def test_anchor_must_be_a_toml_date(tmp_path):
    config = tmp_path / "pipeline.toml"
    config.write_text('[service_periods]\nanchor = "2026-01-04"\nlength_days = 14\n')
    with pytest.raises(PeriodCalendarError, match="anchor must be a date"):
        load_calendar(config)


# --- submission deadlines ------------------------------------------------------------------------


def test_the_deadline_is_two_weeks_after_the_period_end_by_default():
    cal = PeriodCalendar(anchor=D("2026-01-04"), length_days=14)
    period = sp("2026-11-08", "2026-11-21")
    assert cal.deadline(period) == D("2026-12-05")
    # Submissions are accepted through the deadline day: they close at the next local midnight.
    assert cal.deadline_instant(period) == dt.datetime(2026, 12, 6, tzinfo=STATE_TIMEZONE)


def test_submission_days_come_from_the_config(tmp_path):
    config = write_config(tmp_path, None)
    config.write_text(config.read_text() + "submission_days = 10\n")
    cal = load_calendar(config)
    assert cal.submission_days == 10
    assert cal.deadline(sp("2026-11-08", "2026-11-21")) == D("2026-12-01")


def test_calendar_file_may_override_a_period_deadline(tmp_path):
    config = write_config(tmp_path, None)
    (tmp_path / "calendar.csv").write_text(
        "period_start,period_end,submission_deadline\n2026-01-01,2026-01-10,2026-02-02\n2026-01-11,2026-01-31,\n"
    )
    config.write_text(config.read_text().replace('calendar_file = ""', 'calendar_file = "calendar.csv"'))
    cal = load_calendar(config)
    assert cal.deadline(sp("2026-01-01", "2026-01-10")) == D("2026-02-02")
    assert cal.deadline(sp("2026-01-11", "2026-01-31")) == D("2026-02-14")  # no override: end + 14


@pytest.mark.parametrize(
    ("deadline", "message"),
    [("2026-01-09", "not precede its end"), ("2026-01-xx", "expected ISO dates")],
    ids=["before-the-period-end", "not-a-date"],
)
def test_a_bad_deadline_override_is_refused(tmp_path, deadline, message):
    config = write_config(tmp_path, None)
    (tmp_path / "calendar.csv").write_text(
        f"period_start,period_end,submission_deadline\n2026-01-01,2026-01-10,{deadline}\n"
    )
    config.write_text(config.read_text().replace('calendar_file = ""', 'calendar_file = "calendar.csv"'))
    with pytest.raises(PeriodCalendarError, match=message):
        load_calendar(config)


def test_the_config_file_can_be_named_by_the_environment(tmp_path, monkeypatch):
    config = write_config(tmp_path, EXPLICIT_ROWS)
    monkeypatch.setenv("CCMS_PIPELINE_CONFIG", str(config))
    assert load_pipeline_config()["service_periods"]["grace_hours"] == 6
    assert load_calendar().explicit == tuple(sp(*row) for row in EXPLICIT_ROWS)


# --- the first period the DAGs run ---------------------------------------------------------------


def test_first_period_defaults_to_the_anchor_at_local_midnight(tmp_path):
    assert first_period_start(write_config(tmp_path, None)) == local_midnight(D("2026-01-04"))
    assert first_period_start() == local_midnight(D("2026-01-04"))  # the package's pipeline.toml


def test_an_earlier_first_period_lets_older_periods_run(tmp_path):
    config = write_config(tmp_path, None)
    config.write_text(config.read_text().replace("length_days", "first_period = 2025-08-03\nlength_days"))
    assert first_period_start(config) == local_midnight(D("2025-08-03"))


@pytest.mark.parametrize("value", ["2025-08-04", '"2025-08-03"'], ids=["not-a-period-start", "not-a-date"])
def test_a_first_period_that_is_not_a_period_start_is_refused(tmp_path, value):
    config = write_config(tmp_path, None)
    config.write_text(config.read_text().replace("length_days", f"first_period = {value}\nlength_days"))
    with pytest.raises(PeriodCalendarError, match="first_period"):
        first_period_start(config)


def test_with_a_calendar_file_the_first_period_defaults_to_its_first(tmp_path):
    assert first_period_start(write_config(tmp_path, EXPLICIT_ROWS)) == local_midnight(D("2026-01-01"))
