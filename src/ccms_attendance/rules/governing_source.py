"""Which source governs a site's attendance for a service period (provider guide, rules 1-5).

Plain functions over plain data: the plan step reads the portal state as it was for the period,
hands it here, and stores the decision.

1. The governing source is the Data Entry Settings selection in force at the period start, replayed
   from the saved history as the portal keeps it: a save replaces any selection still pending, and a
   pending selection takes effect at its start. No selection means PPP.
   A selection whose start is not a service-period start, or was not in a future period when it
   was saved, is rejected, never shifted to a nearby date; the rejection is reported once, by the
   period in which the selection was saved.
2. A site is not CCMS-governed before it submitted its first attendance period in the portal;
   such periods fall back to PPP, with an exception.
3. A CCMS-governed site whose license number is not linked to the program at the period start
   cannot have its CCMS records matched: the site-period is incomplete, with an exception.
4./5. The portal is read-only while a CCMS governs, and PPP governs again from the period start a
   site switches back to (both follow from rule 1; the reconcile step enforces read-only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ccms_attendance.canonical import STATE_TIMEZONE, Source
from ccms_attendance.periods import PeriodCalendar, PeriodCalendarError, ServicePeriod


@dataclass(frozen=True, slots=True)
class Selection:
    selection_id: int
    method: Source
    effective_start: dt.date
    chosen_at: dt.datetime  # aware
    chosen_by: str


@dataclass(frozen=True, slots=True)
class SiteFacts:
    """The portal state of one site, as it was for the period being decided."""

    site_id: str
    license_number: str
    selections: Sequence[Selection]
    first_submission_at: dt.datetime | None  # earliest period submission, if any
    license_linked_at_start: bool


@dataclass(frozen=True, slots=True)
class RuleException:
    kind: str
    severity: str  # critical | warning | info
    detail: str
    site_id: str | None = None
    child_id: str | None = None
    attendance_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class GoverningDecision:
    site_id: str
    selected_method: Source  # what Data Entry Settings said for the period
    governing_source: Source  # what actually governs after rules 2-3
    incomplete_reason: str | None = None
    exceptions: tuple[RuleException, ...] = field(default_factory=tuple)


def selection_problem(selection: Selection, calendar: PeriodCalendar) -> str | None:
    """Why a saved selection is invalid under rule 1, or ``None`` when it is valid."""
    if not calendar.is_period_start(selection.effective_start):
        return (
            f"selection {selection.selection_id} ({selection.method}) starts {selection.effective_start}, "
            "which is not a service-period start"
        )
    try:
        saved_in = calendar.period_containing(selection.chosen_at.astimezone(STATE_TIMEZONE).date())
    except PeriodCalendarError:
        return None  # saved before the calendar begins: nothing to compare with
    if selection.effective_start <= saved_in.start:
        return (
            f"selection {selection.selection_id} ({selection.method}) saved {selection.chosen_at.isoformat()} "
            f"starts {selection.effective_start}, not in a future service period"
        )
    return None


def selection_in_force(
    selections: Iterable[Selection], period: ServicePeriod, calendar: PeriodCalendar
) -> tuple[Selection | None, list[RuleException]]:
    """Rule 1: the valid selection in force at ``period.start``, and the selections rejected that
    were saved during ``period`` (each rejection is reported once: by the period it was saved in).

    Replays the Data Entry Settings as the portal keeps them: one selection in effect and at most
    one pending. A save replaces the pending one (whatever its start); a pending selection takes
    effect at its start. Saves made at or after the period start do not govern it (backfills see
    the past as it was).
    """
    start_instant, end_instant = period.start_instant(), period.end_instant()
    rejected: list[RuleException] = []
    in_effect: Selection | None = None
    pending: Selection | None = None
    for selection in sorted(selections, key=lambda s: (s.chosen_at, s.selection_id)):
        if selection.chosen_at >= end_instant:
            break
        problem = selection_problem(selection, calendar)
        if problem and selection.chosen_at >= start_instant:
            rejected.append(RuleException("selection_rejected", "warning", problem))
        if problem or selection.chosen_at >= start_instant:
            continue
        if pending is not None and _starts_by(pending, selection.chosen_at):
            in_effect = pending
        pending = selection
    if pending is not None and pending.effective_start <= period.start:
        in_effect = pending
    return in_effect, rejected


def _starts_by(selection: Selection, moment: dt.datetime) -> bool:
    start = dt.datetime.combine(selection.effective_start, dt.time.min, tzinfo=STATE_TIMEZONE)
    return start <= moment


def decide(site: SiteFacts, period: ServicePeriod, calendar: PeriodCalendar) -> GoverningDecision:
    """Apply rules 1-3 to one site for one period."""
    in_force, rejected = selection_in_force(site.selections, period, calendar)
    exceptions = [RuleException(e.kind, e.severity, e.detail, site_id=site.site_id) for e in rejected]
    selected = in_force.method if in_force else Source.PPP
    if not selected.is_ccms:
        return _ppp_governs(site, selected, exceptions)

    if site.first_submission_at is None or site.first_submission_at >= period.start_instant():
        exceptions.append(
            RuleException(
                "ccms_before_first_submission",
                "warning",
                f"{selected} selected, but the site had not submitted its first attendance period in the "
                f"portal before {period.start}; PPP governs this period",
                site_id=site.site_id,
            )
        )
        return _ppp_governs(site, selected, exceptions)

    if not site.license_linked_at_start:
        reason = (
            f"license {site.license_number} is not linked to the program at {period.start}; "
            f"{selected} records cannot be matched"
        )
        exceptions.append(RuleException("license_not_linked", "critical", reason, site_id=site.site_id))
        return GoverningDecision(site.site_id, selected, selected, reason, tuple(exceptions))

    return GoverningDecision(site.site_id, selected, selected, exceptions=tuple(exceptions))


def _ppp_governs(site: SiteFacts, selected: Source, exceptions: list[RuleException]) -> GoverningDecision:
    return GoverningDecision(site.site_id, selected, Source.PPP, None, tuple(exceptions))


def portal_read_only_from(site: SiteFacts, period: ServicePeriod, calendar: PeriodCalendar) -> dt.datetime | None:
    """Rule 4 in time: the instant from which the site's portal entries for ``period`` are ignored.

    Once the site's CCMS connection is established the portal is read-only, also for earlier
    periods: an entry typed from then on (``entered_at``) is not used, even for a period PPP
    governs. The connection is established at the start of the first later period a CCMS governs
    (rules 1 and 2 replayed over every selection the run knows, saved up to its "now"). ``None``:
    the site has not connected a CCMS since ``period`` (as far as the run knows).
    """
    # Who governs changes only where a selection takes effect, or after the first submission (rule 2).
    starts = {s.effective_start for s in site.selections if s.method.is_ccms}
    if site.first_submission_at is not None:
        try:
            after = calendar.next_period(_period_of(site.first_submission_at, calendar))
        except PeriodCalendarError:
            after = None  # outside the calendar: the selections' starts still tell
        if after is not None:
            starts.add(after.start)
    for start in sorted(d for d in starts if d > period.start):
        try:
            later = calendar.period_containing(start)
        except PeriodCalendarError:
            continue
        if later.start != start:
            continue  # not a period start: rejected by rule 1
        in_force, _ = selection_in_force(site.selections, later, calendar)
        submitted_before = site.first_submission_at is not None and site.first_submission_at < later.start_instant()
        if in_force is not None and in_force.method.is_ccms and submitted_before:
            return later.start_instant()
    return None


def _period_of(moment: dt.datetime, calendar: PeriodCalendar) -> ServicePeriod:
    return calendar.period_containing(moment.astimezone(STATE_TIMEZONE).date())
