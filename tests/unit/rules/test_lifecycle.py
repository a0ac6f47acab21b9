"""The period lifecycle (rules/lifecycle.py): open -> provisional -> final, and what is final per site."""

from __future__ import annotations

import datetime as dt

import pytest

from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.rules.lifecycle import (
    Deadline,
    Lifecycle,
    PeriodNotEndedError,
    final_through,
    period_lifecycle,
    period_phase,
    require_ended,
    site_lifecycle,
)

D = dt.date.fromisoformat
PERIOD = ServicePeriod(D("2026-11-22"), D("2026-12-05"))
DEADLINE_INSTANT = dt.datetime(2026, 12, 20, tzinfo=STATE_TIMEZONE)  # deadline day 12-19, through its end


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=STATE_TIMEZONE)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-12-05T23:59:59", Lifecycle.OPEN),
        ("2026-12-06T00:00:00", Lifecycle.PROVISIONAL),
        ("2026-12-19T23:59:59", Lifecycle.PROVISIONAL),
        ("2026-12-20T00:00:00", Lifecycle.FINAL),
    ],
    ids=["last-second-of-the-period", "first-second-after", "last-second-of-the-deadline-day", "after-deadline"],
)
def test_period_phase_by_the_clock(as_of, expected):
    assert period_phase(PERIOD, DEADLINE_INSTANT, local(as_of)) == expected


def test_an_open_period_is_refused_with_one_clear_line():
    with pytest.raises(PeriodNotEndedError) as raised:
        require_ended(PERIOD, local("2026-12-03T10:00"), provisional_run_at=local("2026-12-07T00:00"))
    message = str(raised.value)
    assert "\n" not in message
    assert "Service period 2026-11-22..2026-12-05 has not ended" in message
    assert "today is 2026-12-03 in America/Indiana/Indianapolis" in message
    assert "nothing was written" in message
    assert "Pick a logical date inside a past period" in message
    assert "2026-12-07 00:00" in message


def test_an_ended_period_is_not_refused():
    require_ended(PERIOD, local("2026-12-06T00:00"), provisional_run_at=local("2026-12-07T00:00"))


def test_today_is_the_state_calendar_day_not_the_utc_one():
    # 02:00Z on 12-04 is still 12-03 in Indianapolis.
    with pytest.raises(PeriodNotEndedError, match="today is 2026-12-03"):
        require_ended(PERIOD, dt.datetime(2026, 12, 4, 2, tzinfo=dt.UTC), provisional_run_at=local("2026-12-07T00:00"))


@pytest.mark.parametrize(
    ("submitted", "data_through", "is_ccms", "expected"),
    [
        (True, None, True, "2026-12-05"),
        (True, "2026-11-24", True, "2026-12-05"),  # submitted: the whole period is final
        (False, "2026-11-24", True, "2026-11-24"),
        (False, "2026-12-30", True, "2026-12-05"),  # capped at the period end
        (False, "2026-11-01", True, None),  # before the period: nothing final
        (False, None, True, None),
        (True, None, False, "2026-12-05"),
        (False, "2026-11-24", False, None),  # the portal cannot vouch for a prefix of a period
    ],
    ids=[
        "ccms-submitted", "ccms-submitted-with-through", "ccms-through", "ccms-through-after-end",
        "ccms-through-before-start", "ccms-nothing", "ppp-submitted", "ppp-not-submitted",
    ],
)  # fmt: skip
def test_final_through(submitted, data_through, is_ccms, expected):
    through = final_through(
        PERIOD, submitted=submitted, data_through=D(data_through) if data_through else None, is_ccms=is_ccms
    )
    assert through == (D(expected) if expected else None)


def test_site_and_period_lifecycles():
    assert site_lifecycle(submitted=True, deadline_passed=False) == Lifecycle.FINAL
    assert site_lifecycle(submitted=False, deadline_passed=True) == Lifecycle.FINAL
    assert site_lifecycle(submitted=False, deadline_passed=False) == Lifecycle.PROVISIONAL
    assert period_lifecycle(deadline_passed=False, site_lifecycles=["final", "final"]) == Lifecycle.FINAL
    assert period_lifecycle(deadline_passed=False, site_lifecycles=["final", "provisional"]) == Lifecycle.PROVISIONAL
    assert period_lifecycle(deadline_passed=True, site_lifecycles=["provisional"]) == Lifecycle.FINAL
    assert period_lifecycle(deadline_passed=False, site_lifecycles=[]) == Lifecycle.PROVISIONAL


def test_the_deadline_is_passed_after_its_whole_day():
    assert Deadline.as_of(D("2026-12-19"), local("2026-12-19T23:59:59")).passed is False
    assert Deadline.as_of(D("2026-12-19"), local("2026-12-20T00:00")).passed is True
