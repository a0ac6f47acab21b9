"""Injected faults: retried then succeeded, or a clear CcmsExtractionError naming vendor, site and period."""

from __future__ import annotations

import time

import pytest

from ccms_attendance.canonical import RepeatedRecord, Source
from ccms_attendance.hooks import CcmsExtractionError

VENDORS = [Source.ALLIANCE_CORE, Source.BRIGHTWHEEL, Source.PLAYGROUND]
#: The data endpoint of each vendor (where page faults are aimed).
DATA_PATH = {
    Source.ALLIANCE_CORE: "/v1/facilities/*/attendance-events",
    Source.BRIGHTWHEEL: "/v1/schools/*/attendance_records",
    Source.PLAYGROUND: "/api/v2/exports/*/rows",
}
RECOVERABLE = {
    "http_429": {"kind": "http_429", "retry_after": 1, "times": 1},
    "http_5xx_burst": {"kind": "http_5xx", "status": 502, "times": 3},
    "http_503_retry_after": {"kind": "http_5xx", "status": 503, "retry_after": 1, "times": 1},
    "truncated_json": {"kind": "truncated_json", "times": 1},
    "malformed_json": {"kind": "malformed_json", "times": 2},
    "connection_drop": {"kind": "connection_drop", "times": 2},
}


@pytest.fixture
def baseline(world, extract):
    return {source: extract(source, page_size=10) for source in VENDORS}


def _prefix(world, source):
    return f"{source} site {world.license(source, 'main')} period 2026-01-04..2026-01-17: "


@pytest.mark.parametrize("fault_name", sorted(RECOVERABLE))
@pytest.mark.parametrize("source", VENDORS)
def test_transient_fault_is_retried_and_succeeds(world, fleet, extract, baseline, source, fault_name):
    fault = dict(RECOVERABLE[fault_name], path=DATA_PATH[source])
    fleet.set_faults([fault], source)
    started = time.monotonic()
    assert extract(source, page_size=10) == baseline[source]
    counters = fleet.stats(source)["counters"]
    assert counters[f"fault:{fault['kind']}"] == fault["times"]
    if "retry_after" in fault:
        assert time.monotonic() - started >= 1.0, "Retry-After must be honoured"


@pytest.mark.parametrize("source", VENDORS)
def test_faults_on_the_auth_endpoint_are_retried_too(world, fleet, extract, baseline, source):
    fleet.set_faults([{"kind": "http_5xx", "status": 500, "times": 2}], source)  # first requests: auth/lookup
    assert extract(source, page_size=10) == baseline[source]


@pytest.mark.parametrize("source", VENDORS)
def test_persistent_5xx_is_a_clear_error_after_bounded_attempts(world, fleet, extract, source):
    fleet.set_faults([{"kind": "http_5xx", "status": 500, "times": None, "path": DATA_PATH[source]}], source)
    with pytest.raises(CcmsExtractionError) as caught:
        extract(source, max_attempts=3)
    message = str(caught.value)
    assert message.startswith(_prefix(world, source))
    # No timing in the text: it is stored as the site's incomplete reason, and a rerun against the
    # same outage must store the same reason.
    assert message.removeprefix(_prefix(world, source)).startswith("HTTP 500 after 3 attempts (")
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert caught.value.source is source
    assert caught.value.license_number == world.license(source, "main")


@pytest.mark.parametrize("source", VENDORS)
def test_persistent_malformed_json_gives_up_after_json_retries(world, fleet, extract, source):
    fleet.set_faults([{"kind": "malformed_json", "times": None, "path": DATA_PATH[source]}], source)
    with pytest.raises(CcmsExtractionError, match=r"response is not valid JSON after 2 attempts") as caught:
        extract(source, json_retries=1, max_attempts=5)
    assert str(caught.value).startswith(_prefix(world, source))


@pytest.mark.parametrize("source", VENDORS)
def test_persistent_connection_drop_is_a_clear_error(world, fleet, extract, source):
    fleet.set_faults([{"kind": "connection_drop", "times": None, "path": DATA_PATH[source]}], source)
    with pytest.raises(CcmsExtractionError, match=r"connection failed after 3 attempts") as caught:
        extract(source, max_attempts=3)
    assert str(caught.value).startswith(_prefix(world, source))


@pytest.mark.parametrize("source", VENDORS)
def test_slow_response_beyond_the_read_timeout_is_retried(world, fleet, extract, baseline, source):
    fleet.set_faults([{"kind": "slow", "delay_seconds": 1.0, "times": 1, "path": DATA_PATH[source]}], source)
    assert extract(source, page_size=10, read_timeout=0.4) == baseline[source]


def test_slow_response_within_the_read_timeout_just_succeeds(world, fleet, extract, baseline):
    fleet.set_faults([{"kind": "slow", "delay_seconds": 0.3, "times": 2}], Source.BRIGHTWHEEL)
    assert extract(Source.BRIGHTWHEEL, page_size=10) == baseline[Source.BRIGHTWHEEL]


def test_persistent_timeouts_are_a_clear_error(world, fleet, extract):
    fleet.set_faults([{"kind": "slow", "delay_seconds": 0.5, "times": None}], Source.BRIGHTWHEEL)
    with pytest.raises(CcmsExtractionError, match=r"timed out after 2 attempts"):
        extract(Source.BRIGHTWHEEL, read_timeout=0.2, max_attempts=2)


def test_retry_budget_bounds_a_long_retry_after(world, fleet, extract):
    fleet.set_faults([{"kind": "http_429", "retry_after": 30, "times": 1}], Source.BRIGHTWHEEL)
    started = time.monotonic()
    with pytest.raises(CcmsExtractionError, match=r"HTTP 429 after 1 attempt "):
        extract(Source.BRIGHTWHEEL, max_retry_seconds=5)
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("source", VENDORS)
def test_duplicate_records_across_pages_are_dropped(world, fleet, extract, baseline, source):
    fleet.set_faults([{"kind": "duplicate_records", "times": None}], source)
    hook_items = extract(source, page_size=10)
    # Dropped, and announced so that the extract step counts them (staging.site_extract.duplicates_dropped).
    repeats = [item for item in hook_items if isinstance(item, RepeatedRecord)]
    assert [item for item in hook_items if not isinstance(item, RepeatedRecord)] == baseline[source]
    assert len(repeats) >= 3
    assert all(r.same_content and r.source is source for r in repeats)
    assert fleet.stats(source)["counters"]["fault:duplicate_records"] >= 3


@pytest.mark.parametrize("source", VENDORS)
def test_unknown_extra_fields_are_ignored(world, fleet, extract, baseline, source):
    fleet.set_faults([{"kind": "extra_fields", "times": None}], source)
    assert extract(source, page_size=10) == baseline[source]


MISSING = {
    # (field dropped by the sandbox, reason the hook gives)
    Source.ALLIANCE_CORE: [
        ("occurred_at", "missing event timestamp"),
        ("facility_license_number", "missing license number"),
    ],
    Source.BRIGHTWHEEL: [("date", "missing attendance date"), ("school.license_number", "missing license number")],
    Source.PLAYGROUND: [("attendance_date", "missing attendance date"), ("center_license", "missing license number")],
}


@pytest.mark.parametrize("source", VENDORS)
def test_records_missing_required_fields_become_rejections(world, fleet, extract, baseline, source):
    for field, reason in MISSING[source]:
        fleet.set_faults(
            [{"kind": "missing_required_field", "field": field, "times": 1, "path": DATA_PATH[source]}], source
        )
        records, rejected = world.split(extract(source, page_size=10))
        assert reason in {r.reason for r in rejected}, (field, [r.reason for r in rejected])
        assert all(r.source is source and r.license_number == world.license(source, "main") for r in rejected)
        assert len(records) < len(world.split(baseline[source])[0])


@pytest.mark.parametrize("source", VENDORS)
def test_a_fault_that_edits_records_leaves_the_next_extraction_intact(world, fleet, extract, baseline, source):
    """Sandboxes re-use a site's rendering across pages and requests; a fault must edit only its own response."""
    for kind in ("missing_required_field", "extra_fields"):
        fleet.set_faults(
            [{"kind": kind, "field": MISSING[source][0][0], "times": 1, "path": DATA_PATH[source]}], source
        )
        extract(source, page_size=10)
        assert extract(source, page_size=10) == baseline[source], kind


def test_missing_state_child_id_field_becomes_a_rejection(world, fleet, extract):
    before = sum(r.reason == "missing state child id" for r in world.split(extract(Source.BRIGHTWHEEL))[1])
    fault = {"kind": "missing_required_field", "field": "student.state_child_id", "path": DATA_PATH[Source.BRIGHTWHEEL]}
    fleet.set_faults([fault], Source.BRIGHTWHEEL)
    _, rejected = world.split(extract(Source.BRIGHTWHEEL, page_size=10))
    assert sum(r.reason == "missing state child id" for r in rejected) > before


def test_a_failed_playground_export_is_created_again(world, fleet, make_hook, baseline):
    fleet.set_faults([{"kind": "export_failed", "times": 1}], Source.PLAYGROUND)
    hook = make_hook(Source.PLAYGROUND, page_size=10)
    assert (
        list(hook.iter_site_period(world.license(Source.PLAYGROUND, "main"), world.JANUARY))
        == baseline[Source.PLAYGROUND]
    )
    assert hook.stats["exports"] == 2


def test_a_playground_export_that_keeps_failing_is_a_clear_error(world, fleet, extract):
    fleet.set_faults([{"kind": "export_failed", "times": None}], Source.PLAYGROUND)
    with pytest.raises(CcmsExtractionError, match=r"the export failed at the vendor 2 times") as caught:
        extract(Source.PLAYGROUND)
    assert str(caught.value).startswith(_prefix(world, Source.PLAYGROUND))


def test_faults_filtered_by_license_spare_other_sites(world, fleet, extract):
    other = world.license(Source.BRIGHTWHEEL, "dst")
    fleet.set_faults([{"kind": "http_5xx", "times": None, "license_number": other}], Source.BRIGHTWHEEL)
    assert extract(Source.BRIGHTWHEEL)  # the main site is unaffected
    with pytest.raises(CcmsExtractionError, match=other):
        extract(Source.BRIGHTWHEEL, "dst", world.MARCH, max_attempts=2)


def test_response_size_limit_is_a_clear_error(world, extract):
    with pytest.raises(CcmsExtractionError, match=r"exceeds max_response_bytes=2000"):
        extract(Source.PLAYGROUND, max_response_bytes=2000)
