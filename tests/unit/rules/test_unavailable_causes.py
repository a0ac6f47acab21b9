"""Why a site-period's data is unavailable (rules.site_state), and which causes are data verdicts."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from ccms_attendance.periods import ServicePeriod
from ccms_attendance.rules.lifecycle import Deadline, UnavailableCause
from ccms_attendance.rules.site_state import site_states

PERIOD = ServicePeriod(dt.date(2026, 1, 4), dt.date(2026, 1, 17))
DEADLINE = Deadline(dt.date(2026, 1, 31), passed=True)


def states(plan_reason=None, outcome="retrieved", recorded=True) -> pd.Series:
    plan = pd.DataFrame({"site_id": ["S1"], "governing_source": ["BRIGHTWHEEL"], "incomplete_reason": [plan_reason]})
    extracts = pd.DataFrame(
        [("BRIGHTWHEEL", "S1", outcome, None if outcome == "retrieved" else "why", True, pd.NaT, pd.NaT)]
        if outcome
        else [],
        columns=["source", "site_id", "outcome", "error", "submitted", "submitted_at", "data_through"],
    )
    recorded_sites = pd.Series(["S1"] if recorded else [], dtype=object)
    result = site_states(PERIOD, DEADLINE, plan, extracts, recorded_sites, pd.Series(["S1"]))
    return result.iloc[0]


@pytest.mark.parametrize(
    ("inputs", "cause", "verdict"),
    [
        ({"plan_reason": "license CC-1 not linked"}, "plan", True),
        ({"outcome": "failed_validation"}, "failed_validation", True),
        ({"outcome": "failed"}, "source_failed", False),
        ({"recorded": False}, "no_records", False),
        ({"outcome": None}, "not_extracted", False),
    ],
    ids=["unlinked-license", "failed-validation", "vendor-failed", "vendor-sent-nothing", "never-extracted"],
)
def test_each_cause_of_unavailable_data(inputs, cause, verdict):
    state = states(**inputs)
    assert (state["complete"], state["incomplete_kind"], state["unavailable_cause"]) == (
        False,
        "data_unavailable",
        cause,
    )
    assert UnavailableCause(cause).is_data_verdict is verdict


def test_usable_data_has_no_cause():
    state = states()
    assert (state["complete"], state["unavailable_cause"]) == (True, None)
