"""Governing source (provider guide rules 1-3 and 5) over plain site facts."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from ccms_attendance.canonical import STATE_TIMEZONE, Source
from ccms_attendance.periods import PeriodCalendar, ServicePeriod
from ccms_attendance.rules.governing_source import (
    GoverningDecision,
    Selection,
    SiteFacts,
    decide,
    portal_read_only_from,
    selection_in_force,
    selection_problem,
)

D = dt.date.fromisoformat
CALENDAR = PeriodCalendar(anchor=D("2026-01-04"), length_days=14)
# Periods used below: 03-01, 03-15, 03-29, 04-12, 04-26, 05-10 (each 14 days).
PPP, BW, PG, AC = Source.PPP, Source.BRIGHTWHEEL, Source.PLAYGROUND, Source.ALLIANCE_CORE


def at(text: str) -> dt.datetime:
    """A local (state time) instant."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=STATE_TIMEZONE)


def sel(selection_id: int, method: Source, effective: str, saved: str) -> Selection:
    return Selection(selection_id, method, D(effective), at(saved), chosen_by="director@example.org")


def period(start: str) -> ServicePeriod:
    return CALENDAR.period_starting(D(start))


def facts(*selections: Selection, **overrides) -> SiteFacts:
    base = SiteFacts(
        site_id="S1",
        license_number="CC-123-456",
        selections=selections,
        first_submission_at=at("2026-01-20T10:00"),
        license_linked_at_start=True,
    )
    return replace(base, **overrides)


def kinds(decision: GoverningDecision) -> list[tuple[str, str]]:
    return [(e.kind, e.severity) for e in decision.exceptions]


# --- rule 1 (and 5): the selection in force at the period start ------------------------------

RULE_1_CASES = {
    "no-selection-is-ppp": ([], "2026-04-12", PPP, PPP),
    "ccms-effective-at-this-start": ([sel(1, BW, "2026-04-12", "2026-03-20T10:00")], "2026-04-12", BW, BW),
    "ccms-effective-earlier-stays": ([sel(1, BW, "2026-03-15", "2026-03-02T10:00")], "2026-04-12", BW, BW),
    "ccms-effective-next-period-not-yet": ([sel(1, BW, "2026-04-26", "2026-03-20T10:00")], "2026-04-12", PPP, PPP),
    "ccms-effective-next-period-then": ([sel(1, BW, "2026-04-26", "2026-03-20T10:00")], "2026-04-26", BW, BW),
    "later-save-same-start-wins": (
        [sel(1, BW, "2026-04-12", "2026-03-20T10:00"), sel(2, PG, "2026-04-12", "2026-03-25T10:00")],
        "2026-04-12", PG, PG,
    ),
    "later-save-wins-whatever-the-list-order": (
        [sel(2, PG, "2026-04-12", "2026-03-25T10:00"), sel(1, BW, "2026-04-12", "2026-03-20T10:00")],
        "2026-04-12", PG, PG,
    ),
    "later-save-earlier-start-wins": (
        [sel(1, BW, "2026-04-26", "2026-03-20T10:00"), sel(2, AC, "2026-04-12", "2026-03-25T10:00")],
        "2026-04-26", AC, AC,
    ),
    "same-save-time-higher-id-wins": (
        [sel(7, PG, "2026-04-12", "2026-03-20T10:00"), sel(3, BW, "2026-04-12", "2026-03-20T10:00")],
        "2026-04-12", PG, PG,
    ),
    "pending-replaced-by-later-start": (
        [sel(1, BW, "2026-04-12", "2026-03-20T10:00"), sel(2, PG, "2026-04-26", "2026-03-25T10:00")],
        "2026-04-12", PPP, PPP,
    ),
    "pending-switch-does-not-end-the-one-in-force": (
        [sel(1, BW, "2026-03-15", "2026-03-02T10:00"), sel(2, PPP, "2026-04-26", "2026-04-01T10:00")],
        "2026-04-12", BW, BW,
    ),
    "switch-back-to-ppp-governs-from-its-start": (
        [sel(1, BW, "2026-03-15", "2026-03-02T10:00"), sel(2, PPP, "2026-04-12", "2026-03-20T10:00")],
        "2026-04-12", PPP, PPP,
    ),
    "switch-back-to-ppp-not-before-its-start": (
        [sel(1, BW, "2026-03-15", "2026-03-02T10:00"), sel(2, PPP, "2026-04-12", "2026-03-20T10:00")],
        "2026-03-29", BW, BW,
    ),
    "ccms-again-after-ppp": (
        [sel(1, BW, "2026-03-15", "2026-03-02T10:00"), sel(2, PPP, "2026-04-12", "2026-03-20T10:00"),
         sel(3, PG, "2026-05-10", "2026-04-20T10:00")],
        "2026-05-10", PG, PG,
    ),
    "saved-in-an-earlier-period-is-seen-at-its-start": (
        [sel(1, BW, "2026-05-10", "2026-04-20T10:00")], "2026-05-10", BW, BW),
    "saved-evening-before-local-day-decides": ([sel(1, BW, "2026-03-29", "2026-03-28T21:00")], "2026-04-12", BW, BW),
    "saved-at-last-local-minute-counts": ([sel(1, BW, "2026-04-12", "2026-04-11T23:59")], "2026-04-12", BW, BW),
}  # fmt: skip


@pytest.mark.parametrize(
    ("selections", "start", "selected", "governing"), list(RULE_1_CASES.values()), ids=list(RULE_1_CASES)
)
def test_rule_1_selection_in_force(selections, start, selected, governing):
    decision = decide(facts(*selections), period(start), CALENDAR)
    assert (decision.site_id, decision.selected_method, decision.governing_source) == ("S1", selected, governing)
    assert decision.incomplete_reason is None
    assert decision.exceptions == ()


def test_backfill_does_not_see_selections_saved_later():
    later = [sel(1, BW, "2026-05-10", "2026-04-20T10:00"), sel(2, PG, "2026-04-26", "2026-04-12T00:00")]
    decision = decide(facts(*later), period("2026-04-12"), CALENDAR)
    assert (decision.selected_method, decision.governing_source, decision.exceptions) == (PPP, PPP, ())


REJECTED_CASES = {
    "start-not-a-period-start": sel(1, BW, "2026-04-13", "2026-03-20T10:00"),
    "start-is-a-saturday-period-end": sel(1, BW, "2026-04-25", "2026-03-20T10:00"),
    "start-in-the-saving-period": sel(1, BW, "2026-03-29", "2026-04-01T10:00"),
    "start-in-a-past-period": sel(1, BW, "2026-03-15", "2026-04-01T10:00"),
    "saved-on-the-start-day-itself": sel(1, BW, "2026-03-29", "2026-03-29T00:00"),
}


@pytest.mark.parametrize("selection", list(REJECTED_CASES.values()), ids=list(REJECTED_CASES))
def test_invalid_selection_is_rejected_not_shifted(selection):
    assert selection_problem(selection, CALENDAR)
    later = decide(facts(selection), period("2026-04-12"), CALENDAR)
    assert (later.selected_method, later.governing_source, later.exceptions) == (PPP, PPP, ())
    # Reported by the period in which it was saved.
    saved_in = CALENDAR.period_containing(selection.chosen_at.date())
    decision = decide(facts(selection), saved_in, CALENDAR)
    assert (decision.selected_method, decision.governing_source) == (PPP, PPP)
    assert kinds(decision) == [("selection_rejected", "warning")]
    exception = decision.exceptions[0]
    assert exception.site_id == "S1"
    assert f"selection {selection.selection_id}" in exception.detail
    assert str(selection.effective_start) in exception.detail


@pytest.mark.parametrize(
    ("selection", "fragment"),
    [
        (sel(4, BW, "2026-04-13", "2026-03-20T10:00"), "not a service-period start"),
        (sel(4, BW, "2026-03-29", "2026-04-01T10:00"), "not in a future service period"),
        (sel(4, BW, "2026-03-29", "2026-03-28T23:59"), None),
        (sel(4, BW, "2026-04-12", "2026-03-15T00:00"), None),
        # 21:00 local on 03-28 is 02:00Z on 03-29: the save belongs to the 03-15 period (local day).
        (sel(4, BW, "2026-03-29", "2026-03-28T21:00"), None),
    ],
    ids=["not-a-start", "same-period", "next-period-last-minute", "two-periods-ahead", "local-day-not-utc-day"],
)
def test_selection_problem(selection, fragment):
    problem = selection_problem(selection, CALENDAR)
    if fragment is None:
        assert problem is None
    else:
        assert fragment in problem


def test_rejected_selection_does_not_hide_the_valid_one():
    selections = [sel(1, BW, "2026-03-15", "2026-03-02T10:00"), sel(2, PPP, "2026-04-13", "2026-03-20T10:00")]
    decision = decide(facts(*selections), period("2026-04-12"), CALENDAR)
    assert (decision.selected_method, decision.governing_source) == (BW, BW)
    # Selection 2 was saved (and rejected) during 03-15..03-28: that period reports it, not this one.
    assert kinds(decision) == []
    assert kinds(decide(facts(*selections), period("2026-03-15"), CALENDAR)) == [("selection_rejected", "warning")]


def test_selection_in_force_returns_the_winner_and_the_rejected_saved_during_the_period():
    valid = sel(1, BW, "2026-03-15", "2026-03-02T10:00")
    bad = sel(2, PG, "2026-03-16", "2026-03-02T11:00")
    future = sel(3, AC, "2026-03-29", "2026-03-20T10:00")
    in_force, rejected = selection_in_force([bad, valid, future], period("2026-03-15"), CALENDAR)
    assert in_force == valid
    assert rejected == []  # saved in 03-01..03-14, reported there
    in_force, rejected = selection_in_force([bad, valid, future], period("2026-03-01"), CALENDAR)
    assert in_force is None  # both were saved during 03-01..03-14: they govern later periods only
    assert [(r.kind, r.severity) for r in rejected] == [("selection_rejected", "warning")]
    assert "selection 2" in rejected[0].detail


def test_a_rejected_selection_is_reported_once_over_many_periods():
    selections = [sel(1, BW, "2026-03-15", "2026-03-02T10:00"), sel(2, PG, "2026-03-16", "2026-03-20T11:00")]
    reported = {
        start: kinds(decide(facts(*selections), period(start), CALENDAR))
        for start in ("2026-03-01", "2026-03-15", "2026-03-29", "2026-04-12", "2026-04-26", "2026-05-10")
    }
    assert reported == {
        "2026-03-01": [],
        "2026-03-15": [("selection_rejected", "warning")],
        "2026-03-29": [],
        "2026-04-12": [],
        "2026-04-26": [],
        "2026-05-10": [],
    }


def test_selection_saved_before_an_explicit_calendar_begins_is_valid():
    explicit = PeriodCalendar(
        CALENDAR.anchor,
        14,
        (ServicePeriod(D("2026-03-01"), D("2026-03-14")), ServicePeriod(D("2026-03-15"), D("2026-03-28"))),
    )
    selection = sel(1, BW, "2026-03-15", "2026-01-10T10:00")
    assert selection_problem(selection, explicit) is None
    assert decide(facts(selection), explicit.period_starting(D("2026-03-15")), explicit).governing_source == BW


# --- rules 2 and 3 ----------------------------------------------------------------------------

CCMS_IN_FORCE = (sel(1, BW, "2026-03-15", "2026-03-02T10:00"),)

OUTCOME_CASES = {
    "ccms-complete": ({}, BW, BW, None, []),
    "no-first-submission": (
        {"first_submission_at": None}, BW, PPP, None, [("ccms_before_first_submission", "warning")]),
    "first-submission-after-start": (
        {"first_submission_at": at("2026-04-15T09:00")}, BW, PPP, None, [("ccms_before_first_submission", "warning")]),
    "first-submission-exactly-at-start": (
        {"first_submission_at": at("2026-04-12T00:00")}, BW, PPP, None, [("ccms_before_first_submission", "warning")]),
    "first-submission-just-before-start": ({"first_submission_at": at("2026-04-11T23:59")}, BW, BW, None, []),
    "license-not-linked": (
        {"license_linked_at_start": False}, BW, BW, "license CC-123-456 is not linked to the program at 2026-04-12",
        [("license_not_linked", "critical")]),
}  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "selected", "governing", "reason", "exception_kinds"),
    list(OUTCOME_CASES.values()),
    ids=list(OUTCOME_CASES),
)
def test_rules_2_and_3(overrides, selected, governing, reason, exception_kinds):
    decision = decide(facts(*CCMS_IN_FORCE, **overrides), period("2026-04-12"), CALENDAR)
    assert (decision.selected_method, decision.governing_source) == (selected, governing)
    if reason is None:
        assert decision.incomplete_reason is None
    else:
        assert decision.incomplete_reason is not None
        assert decision.incomplete_reason.startswith(reason)
    assert kinds(decision) == exception_kinds
    assert all(e.site_id == "S1" for e in decision.exceptions)


def test_unlinked_license_exception_carries_the_reason():
    decision = decide(facts(*CCMS_IN_FORCE, license_linked_at_start=False), period("2026-04-12"), CALENDAR)
    (exception,) = decision.exceptions
    assert exception.detail == decision.incomplete_reason
    assert "BRIGHTWHEEL records cannot be matched" in exception.detail


@pytest.mark.parametrize(
    "selections",
    [(), (sel(1, BW, "2026-03-15", "2026-03-02T10:00"), sel(2, PPP, "2026-04-12", "2026-03-20T10:00"))],
    ids=["ppp", "switched-back-to-ppp"],
)
def test_ppp_governs_without_a_plan_reason(selections):
    # Whether the portal period was submitted is the lifecycle's question (rules/site_state.py), not
    # the governing decision's: the plan never marks a PPP site incomplete.
    decision = decide(facts(*selections), period("2026-04-12"), CALENDAR)
    assert decision.governing_source == PPP
    assert decision.incomplete_reason is None
    assert decision.exceptions == ()


# --- rule 4 in time: when the portal became read-only for a PPP period ----------------------------


def test_the_portal_is_read_only_from_the_start_of_the_first_later_ccms_period():
    later_ccms = sel(1, BW, "2026-04-26", "2026-04-01T10:00")
    assert portal_read_only_from(facts(later_ccms), period("2026-03-15"), CALENDAR) == at("2026-04-26T00:00")
    assert portal_read_only_from(facts(), period("2026-03-15"), CALENDAR) is None


def test_a_ccms_selection_that_never_took_effect_connects_nothing():
    replaced = [sel(1, BW, "2026-04-26", "2026-04-01T10:00"), sel(2, PPP, "2026-04-26", "2026-04-02T10:00")]
    assert portal_read_only_from(facts(*replaced), period("2026-03-15"), CALENDAR) is None
    not_a_start = sel(3, BW, "2026-04-27", "2026-04-01T10:00")
    assert portal_read_only_from(facts(not_a_start), period("2026-03-15"), CALENDAR) is None


def test_a_ccms_before_the_first_submission_connects_only_once_the_site_submitted():
    later_ccms = sel(1, BW, "2026-04-12", "2026-03-20T10:00")
    not_yet = facts(later_ccms, first_submission_at=at("2026-04-20T10:00"))
    # 04-12 falls back to PPP (rule 2); the CCMS governs from the next period start after the submission.
    assert portal_read_only_from(not_yet, period("2026-03-15"), CALENDAR) == at("2026-04-26T00:00")
    never = facts(later_ccms, first_submission_at=None)
    assert portal_read_only_from(never, period("2026-03-15"), CALENDAR) is None
