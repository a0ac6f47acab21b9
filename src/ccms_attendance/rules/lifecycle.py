"""The period lifecycle: which data is final, so that no absence comes from data that is not.

A service period is **open** until its last day has ended, **provisional** from then until its
submission deadline (``PeriodCalendar.deadline``), and **final** once the deadline has passed or
every site submitted it. The same holds per site-period: it is final once the site submitted the
period (PPP: the portal's period submission; a CCMS: the vendor's submission marker, see
``canonical.SiteSubmission``) or the deadline passed, provisional before.

What a run may conclude from each day of a site-period (the reconciliation applies it):

* Only days up to the site-period's **final-through** day carry day codes. That is the period's
  last day once the site submitted; for a CCMS site not submitted yet, the last day the vendor says
  its data is complete through (``data_through``); otherwise no day. Later days are ``pending``:
  not absent, not present, no code. A deadline that passes without a submission leaves them so
  (missing data is never an absence); the site-period is then final but incomplete.
* A run never loads an open period: its days have not all happened (:func:`require_ended`).
* Absence limits count only site-periods that are final and complete.

"Now" is the run's ``as_of`` instant, taken once when the run plans, so every task of a run agrees.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.periods import ServicePeriod, local_midnight


class Lifecycle(StrEnum):
    OPEN = "open"
    PROVISIONAL = "provisional"
    FINAL = "final"


class PeriodNotEndedError(ValueError):
    """A run was asked to load a period that has not ended: its days have not all happened."""


def period_phase(period: ServicePeriod, deadline_instant: dt.datetime, as_of: dt.datetime) -> Lifecycle:
    """The period's lifecycle by the clock alone (submissions can make a provisional period final)."""
    if as_of < period.end_instant():
        return Lifecycle.OPEN
    return Lifecycle.FINAL if as_of >= deadline_instant else Lifecycle.PROVISIONAL


def require_ended(period: ServicePeriod, as_of: dt.datetime, provisional_run_at: dt.datetime) -> None:
    """Refuse an open period with one line: the period, today in the state, and what to do."""
    if as_of >= period.end_instant():
        return
    today = as_of.astimezone(STATE_TIMEZONE).date()
    raise PeriodNotEndedError(
        f"Service period {period} has not ended (today is {today} in {STATE_TIMEZONE.key}): a run only loads "
        f"ended periods, so nothing was written. Pick a logical date inside a past period (trigger form), or let "
        f"the schedule run this one after {provisional_run_at.astimezone(STATE_TIMEZONE):%Y-%m-%d %H:%M %Z}."
    )


def final_through(
    period: ServicePeriod, *, submitted: bool, data_through: dt.date | None, is_ccms: bool
) -> dt.date | None:
    """The last day of a site-period whose data is final (``None``: no day is).

    A submitted site-period is final whole. Before submission, only a CCMS may vouch for a prefix
    of the period (its data-through day, capped at the period end); the portal has no such notion.
    """
    if submitted:
        return period.end
    if not is_ccms or data_through is None or data_through < period.start:
        return None
    return min(data_through, period.end)


def site_lifecycle(*, submitted: bool, deadline_passed: bool) -> Lifecycle:
    return Lifecycle.FINAL if submitted or deadline_passed else Lifecycle.PROVISIONAL


def pending_reason(
    source: str, *, is_ccms: bool, through: dt.date | None, deadline: dt.date, deadline_passed: bool
) -> str:
    """Why a site-period has pending days (its incomplete reason)."""
    where = f"{source} has not submitted the period" if is_ccms else "period not yet submitted in the portal"
    if deadline_passed:
        where = (
            f"{source} did not submit the period by the deadline {deadline}"
            if is_ccms
            else f"period not submitted in the portal by the deadline {deadline}"
        )
    if through is not None:
        return f"{where}; its data is complete through {through} only, later days are pending"
    return f"{where}; its days are pending"


@dataclass(frozen=True, slots=True)
class Deadline:
    """A period's submission deadline as a run sees it: the day, and whether it had passed at ``as_of``."""

    day: dt.date
    passed: bool

    @classmethod
    def as_of(cls, day: dt.date, as_of: dt.datetime) -> Deadline:
        """Submissions are accepted through the whole deadline day (state time)."""
        return cls(day, as_of >= local_midnight(day + dt.timedelta(days=1)))


class PendingBasis(StrEnum):
    """Why a child-day is ``pending`` (no status, no code); also a site-period's ``incomplete_kind``."""

    NOT_SUBMITTED = "not_submitted"  # the site has not submitted the period
    AFTER_DATA_THROUGH = "after_data_through"  # after the day the vendor's data is complete through
    DATA_UNAVAILABLE = "data_unavailable"  # the source's data could not be retrieved or used

    @property
    def awaits_submission(self) -> bool:
        """The normal state of a provisional period: the provider still has to submit."""
        return self is not PendingBasis.DATA_UNAVAILABLE


class UnavailableCause(StrEnum):
    """Why a site-period's data is unavailable (``PendingBasis.DATA_UNAVAILABLE``).

    Only a **data verdict** may take a site-period's usable data away: the plan's decision from the
    portal's own facts (license not linked at the period start) or the source's records failing a
    critical expectation. A source that could not be read at all (the vendor's outage, a 4xx such
    as an unknown license or rejected credentials, a response that cannot be used) or that sent
    nothing for a site with enrolled children says nothing about the attendance: a load then keeps
    the site's previous version when it had usable data (``pipeline.load``). A record set that was
    never extracted or never validated (the warehouse or GX failed) is no verdict either, and the
    run refuses to reconcile it at all (``pipeline.reconcile``).
    """

    PLAN = "plan"  # the plan decided from the portal's facts (a license not linked at the period start)
    FAILED_VALIDATION = "failed_validation"  # a critical expectation of the source's suite failed
    SOURCE_FAILED = "source_failed"  # the vendor call failed (outage, 4xx, unusable response)
    NO_RECORDS = "no_records"  # a CCMS sent nothing for a site with enrolled children
    NOT_EXTRACTED = "not_extracted"  # no extraction result (the extract step did not complete)

    @property
    def is_data_verdict(self) -> bool:
        return self in (UnavailableCause.PLAN, UnavailableCause.FAILED_VALIDATION)


def period_lifecycle(*, deadline_passed: bool, site_lifecycles: list[str]) -> Lifecycle:
    """An ended period is final once its deadline passed or every one of its sites submitted it."""
    if deadline_passed or (site_lifecycles and all(s == Lifecycle.FINAL for s in site_lifecycles)):
        return Lifecycle.FINAL
    return Lifecycle.PROVISIONAL
