"""The statewide generator is deterministic and has the proportions the benchmark promises."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ccms_attendance.periods import load_calendar
from devtools.bench.statewide import StatewideSpec, describe, generate_statewide

SPEC = StatewideSpec(sites=200, children=4000, seed=7)


@pytest.fixture(scope="module")
def period_and_calendar():
    calendar = load_calendar()
    return calendar, calendar.period_containing(dt.date(2026, 11, 10))


@pytest.fixture(scope="module")
def state(period_and_calendar):
    calendar, period = period_and_calendar
    return generate_statewide(calendar, period, SPEC)


def test_same_seed_same_rows_and_scenario(state, period_and_calendar):
    again = generate_statewide(*period_and_calendar, SPEC)
    for table, frame in state.tables.items():
        assert frame.equals(again.tables[table]), table
    assert json.dumps(state.scenario, sort_keys=True) == json.dumps(again.scenario, sort_keys=True)


def test_another_seed_gives_another_state(state, period_and_calendar):
    other = generate_statewide(*period_and_calendar, StatewideSpec(sites=200, children=4000, seed=8))
    assert not other.tables["ref.voucher"]["program"].equals(state.tables["ref.voucher"]["program"])


def test_sizes_and_proportions(state):
    shape = describe(state)
    assert shape["sites"] == SPEC.sites
    assert shape["children"] == SPEC.children  # exactly the children asked for
    assert 0.12 <= shape["omw_share"] <= 0.18  # about 15 % On My Way Pre-K
    assert 0.27 <= shape["non_voucher_share"] <= 0.33  # about 30 % extra CCMS records to drop
    assert 0.65 <= shape["ccms_sites"] / shape["sites"] <= 0.85  # three quarters on a CCMS


def test_every_site_has_ten_operating_days_of_vendor_data(state):
    for site in state.scenario["sites"][:20]:
        assert len({day["date"] for day in site["days"]}) == 10
        assert all(dt.date.fromisoformat(day["date"]).isoweekday() <= 5 for day in site["days"])


def test_noise_children_carry_state_ids_the_roster_does_not_know(state):
    roster = set(state.tables["ref.child"]["child_id"])
    noise = [
        c for site in state.scenario["sites"] for c in site["children"] if c["vendor_child_key"].startswith("k-nv-")
    ]
    assert noise
    assert all(c["state_child_id"] and c["state_child_id"] not in roster for c in noise)


def test_exception_sources_are_a_few_percent_of_sites(state):
    sites = state.tables["ref.site"]
    unlinked = len(sites) - len(state.tables["ref.license_link"])
    under_ccms_edits = state.tables["portal.manual_entry"]["site_id"].isin(
        set(state.tables["portal.data_entry_selection"]["site_id"])
    )
    assert 0 < unlinked < 0.05 * len(sites)
    assert 0 < under_ccms_edits.sum() < 0.15 * len(sites)
