"""The sandboxes render their scenario when it is loaded, not while a client pages through it."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from ccms_attendance.canonical import Source
from devtools.vendor_sandboxes.common import SandboxState, site_rendering
from devtools.vendor_sandboxes.server import MODULES

VENDORS = [Source.ALLIANCE_CORE, Source.BRIGHTWHEEL, Source.PLAYGROUND]


def _app_state(source: Source, scenario_file) -> SandboxState:
    state = SandboxState.from_environment(str(source), scenario_file)
    importlib.import_module(f"devtools.vendor_sandboxes.{MODULES[str(source)]}").create_app(state)
    return state


@pytest.mark.parametrize("source", VENDORS)
def test_every_site_is_rendered_before_the_first_request(source, base_scenario_file):
    state = _app_state(source, base_scenario_file)
    scenario, renderings = state.extra["site_renderings"]
    assert scenario is state.scenario
    sites = state.scenario.sites_for(str(source))
    assert sites
    assert set(renderings) == set(sites)
    render = state.extra["renderer"]
    assert all(renderings[license_number] == render(site) for license_number, site in sites.items())
    assert any(renderings.values())


@pytest.mark.parametrize("source", VENDORS)
def test_a_replaced_scenario_is_rendered_afresh(source, base_scenario_file):
    """A scenario swapped in without a re-render (not via the reload route) is never served stale."""
    state = _app_state(source, base_scenario_file)
    site = next(iter(state.scenario.sites_for(str(source)).values()))
    assert site_rendering(state, site)
    emptied = dataclasses.replace(site, days=())
    state.scenario = dataclasses.replace(state.scenario, sites=(emptied,))
    assert site_rendering(state, emptied) == []
    assert set(state.extra["site_renderings"][1]) == {site.license_number}
