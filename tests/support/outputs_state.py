"""The portal state of the outputs e2e tests, relative to today: two final periods and the next one.

P1 and P2 are the two latest periods whose submission deadline has passed (well inside the 60-day
correction window); PROVISIONAL follows P2 (not submitted, deadline ahead). Child 1001 at S-A
(provider P-OUT) is absent every weekday of all three; 1002 is present.
"""

from __future__ import annotations

import datetime as dt

from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.periods import ServicePeriod, load_calendar
from support.portal_state import PortalState

TODAY = dt.datetime.now(STATE_TIMEZONE).date()
CALENDAR = load_calendar()


def _latest_final() -> ServicePeriod:
    period = CALENDAR.previous_period(CALENDAR.period_containing(TODAY))
    while CALENDAR.deadline(period) >= TODAY:
        period = CALENDAR.previous_period(period)
    return period


P2 = _latest_final()
P1 = CALENDAR.previous_period(P2)
PROVISIONAL = CALENDAR.next_period(P2)


def weekdays(period: ServicePeriod) -> list[dt.date]:
    return [d for d in period.days if d.isoweekday() <= 5]


def portal() -> PortalState:
    state = PortalState(P2)
    state.site("S-A", "CC-OUT-1", provider_id="P-OUT")
    for period in (P1, P2):  # PROVISIONAL is not submitted (and its deadline is ahead)
        state.submission("S-A", period.start)
    state.voucher("1001", "S-A", eligibility_start=P1.start - dt.timedelta(days=30)).voucher("1002", "S-A")
    for d in weekdays(P1) + weekdays(P2) + weekdays(PROVISIONAL):
        state.absence("S-A", "1001", d)
    return state
