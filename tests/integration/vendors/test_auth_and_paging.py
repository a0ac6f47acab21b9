"""Auth flows (incl. Alliance CORE token expiry mid-period) and every pagination style."""

from __future__ import annotations

import math

import pytest

from ccms_attendance.canonical import Source
from ccms_attendance.hooks import CcmsExtractionError


def test_alliance_core_fetches_one_token_for_many_pages(world, fleet, extract):
    items = extract(Source.ALLIANCE_CORE, page_size=7)
    assert items
    counters = fleet.stats(Source.ALLIANCE_CORE)["counters"]
    assert counters["tokens_issued"] == 1
    assert counters["GET /v1/facilities/{license_number}/attendance-events"] > 3


def test_alliance_core_token_expiring_mid_period_is_refreshed(world, fleet, make_hook, use_scenario):
    use_scenario(world.base_scenario({"alliance_core_token_ttl_seconds": 1}))
    fleet.set_faults(
        [{"kind": "slow", "delay_seconds": 1.2, "times": 1, "path": "/v1/facilities/*/attendance-events"}],
        Source.ALLIANCE_CORE,
    )
    hook = make_hook(Source.ALLIANCE_CORE, page_size=10)
    items = list(hook.iter_site_period(world.license(Source.ALLIANCE_CORE, "main"), world.JANUARY))
    baseline = list(
        make_hook(Source.ALLIANCE_CORE).iter_site_period(world.license(Source.ALLIANCE_CORE, "main"), world.JANUARY)
    )
    assert items == baseline
    assert hook.stats["tokens_fetched"] == 2
    assert fleet.stats(Source.ALLIANCE_CORE)["counters"]["tokens_issued"] == 3  # 2 + the baseline run's


def test_alliance_core_token_rejected_by_the_server_is_refreshed_after_401(world, fleet, make_hook, use_scenario):
    use_scenario(world.base_scenario({"alliance_core_token_max_uses": 2}))
    hook = make_hook(Source.ALLIANCE_CORE, page_size=7)
    items = list(hook.iter_site_period(world.license(Source.ALLIANCE_CORE, "main"), world.JANUARY))
    records, _ = world.split(items)
    assert len(records) > 20
    counters = fleet.stats(Source.ALLIANCE_CORE)["counters"]
    assert counters["unauthorized"] >= 2
    assert hook.stats["reauthentications"] == counters["unauthorized"]
    assert counters["tokens_issued"] == hook.stats["tokens_fetched"] >= 3


@pytest.mark.parametrize("source", [Source.ALLIANCE_CORE, Source.BRIGHTWHEEL, Source.PLAYGROUND])
def test_wrong_credentials_are_a_clear_error(world, make_hook, source):
    hook = make_hook(source, password="not-the-sandbox-secret")
    with pytest.raises(CcmsExtractionError, match=r"HTTP 401, credentials rejected") as caught:
        list(hook.iter_site_period(world.license(source, "main"), world.JANUARY))
    assert str(caught.value).startswith(f"{source} site {world.license(source, 'main')} period 2026-01-04..2026-01-17")
    assert "not-the-sandbox-secret" not in str(caught.value)


def test_playground_logs_in_again_when_its_token_expires(world, fleet, make_hook, use_scenario):
    # The token outlives any ordinary gap between two requests, even on a loaded machine (0.3 s did
    # not: a fresh token expired again before the request after the login), but not the slow poll.
    use_scenario(world.base_scenario({"playground_token_ttl_seconds": 1.5, "playground_polls_before_complete": 3}))
    fleet.set_faults(
        [{"kind": "slow", "delay_seconds": 1.8, "times": 1, "path": "/api/v2/exports/*"}], Source.PLAYGROUND
    )
    hook = make_hook(Source.PLAYGROUND, page_size=10)
    records, _ = world.split(list(hook.iter_site_period(world.license(Source.PLAYGROUND, "main"), world.JANUARY)))
    assert len(records) > 20
    assert hook.stats["logins"] >= 2


@pytest.mark.parametrize("source", [Source.ALLIANCE_CORE, Source.BRIGHTWHEEL, Source.PLAYGROUND])
def test_small_pages_give_the_same_records_with_a_partial_last_page(world, fleet, extract, source):
    whole = extract(source, page_size=100)
    fleet.reset_stats()
    paged = extract(source, page_size=7)
    assert paged == whole
    log = [e for e in fleet.stats(source, log=True)["log"] if e["method"] == "GET" and e.get("body")]
    pages = [e for e in log if e["route"].endswith(("attendance-events", "attendance_records", "/rows"))]
    import json

    key = {Source.ALLIANCE_CORE: "data", Source.BRIGHTWHEEL: "attendance_records", Source.PLAYGROUND: "rows"}[source]
    sizes = [len(json.loads(e["body"])[key]) for e in pages]
    assert sum(sizes) > 7
    assert len(sizes) == math.ceil(sum(sizes) / 7)
    assert all(size == 7 for size in sizes[:-1])
    assert 0 < sizes[-1] < 7


def test_server_page_cap_is_respected(world, extract, use_scenario, fleet):
    use_scenario(world.base_scenario({"page_size": 4}))
    assert extract(Source.PLAYGROUND, page_size=100) == extract(Source.PLAYGROUND, page_size=4)
    assert extract(Source.BRIGHTWHEEL, page_size=100) == extract(Source.BRIGHTWHEEL, page_size=3)


def test_playground_export_is_polled_until_complete(world, fleet, make_hook, use_scenario):
    use_scenario(world.base_scenario({"playground_polls_before_complete": 4}))
    hook = make_hook(Source.PLAYGROUND)
    assert list(hook.iter_site_period(world.license(Source.PLAYGROUND, "main"), world.JANUARY))
    assert hook.stats["export_polls"] == 4
    assert fleet.stats(Source.PLAYGROUND)["counters"]["GET /api/v2/exports/{export_id}"] == 4
