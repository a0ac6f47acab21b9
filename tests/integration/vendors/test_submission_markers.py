"""Submission markers over real HTTP: each vendor's marker endpoint, rendered from the scenario's
``submission`` / ``submissions`` (docs/vendors.md), read by the hook into the one
:class:`SiteSubmission` it yields after a site's records; faults and malformed markers fail the site."""

from __future__ import annotations

import datetime as dt

import pytest

from ccms_attendance.canonical import STATE_TIMEZONE, SiteSubmission, Source
from ccms_attendance.hooks import CcmsExtractionError
from ccms_attendance.periods import ServicePeriod
from devtools.vendor_sandboxes.brightwheel import school_id_for

VENDORS = [Source.ALLIANCE_CORE, Source.BRIGHTWHEEL, Source.PLAYGROUND]
MARKER_ROUTE = {
    Source.ALLIANCE_CORE: "/v1/facilities/{license_number}/attendance-certifications",
    Source.BRIGHTWHEEL: "/v1/schools/{school_id}/state_reports",
    Source.PLAYGROUND: "/api/v2/centers/{center_license}/cca-attendance-submissions",
}
MARKER_PATH = {
    Source.ALLIANCE_CORE: "/v1/facilities/*/attendance-certifications",
    Source.BRIGHTWHEEL: "/v1/schools/*/state_reports",
    Source.PLAYGROUND: "/api/v2/centers/*/cca-attendance-submissions",
}
#: The first request of a site's records at each vendor (the marker must come before it).
RECORDS_ROUTE = {
    Source.ALLIANCE_CORE: "GET /v1/facilities/{license_number}/attendance-events",
    Source.BRIGHTWHEEL: "GET /v1/schools/{school_id}/attendance_records",
    Source.PLAYGROUND: "POST /api/v2/exports",
}
LIST_KEY = {Source.ALLIANCE_CORE: "data", Source.BRIGHTWHEEL: "state_reports", Source.PLAYGROUND: "submissions"}
LATE_JANUARY = ServicePeriod(dt.date(2026, 1, 18), dt.date(2026, 1, 31))


def marker_path(world, source: Source, kind: str = "main") -> str:
    license_number = world.license(source, kind)
    return {
        Source.ALLIANCE_CORE: f"/v1/facilities/{license_number}/attendance-certifications",
        Source.BRIGHTWHEEL: f"/v1/schools/{school_id_for(license_number)}/state_reports",
        Source.PLAYGROUND: f"/api/v2/centers/{license_number}/cca-attendance-submissions",
    }[source]


def prefix(world, source: Source, kind: str = "main", period=None) -> str:
    return f"{source} site {world.license(source, kind)} period {period or world.JANUARY}: "


def with_site(world, source: Source, kind: str = "main", **fields) -> dict:
    """The base scenario, with ``fields`` added to one site."""
    scenario = world.base_scenario()
    for site in scenario["sites"]:
        if site["license_number"] == world.license(source, kind):
            site.update(fields)
    return scenario


def submission_of(items: list) -> SiteSubmission:
    """The one marker, which must be the last item."""
    markers = [item for item in items if isinstance(item, SiteSubmission)]
    assert markers == items[-1:], "exactly one SiteSubmission, after the records"
    return markers[0]


def raw_entry(world, source: Source, kind: str = "main", **fields) -> dict:
    """A vendor-shaped marker entry about the January period of ``kind``'s site."""
    period = {"period_start": "2026-01-04", "period_end": "2026-01-17"}
    license_number = world.license(source, kind)
    base = {
        Source.ALLIANCE_CORE: {"certification_id": "cert-raw", "facility_license_number": license_number},
        Source.BRIGHTWHEEL: {"id": "rpt_raw", "report_type": "indiana_ilead"},
        Source.PLAYGROUND: {"upload_id": "cca-raw", "center_license": license_number},
    }[source]
    return {**base, **period, **fields}


@pytest.mark.parametrize("source", VENDORS)
def test_by_default_every_site_has_submitted_its_period(world, extract, source):
    items = extract(source)
    records, _ = world.split(items)
    assert records
    local_evening = dt.datetime(2026, 1, 19, 18, 0, tzinfo=STATE_TIMEZONE)  # period end + 2 days, 18:00
    assert submission_of(items) == SiteSubmission(
        source, world.license(source, "main"), True, local_evening, world.JANUARY.end
    )
    assert submission_of(items).submitted_at.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("source", VENDORS)
def test_an_unsubmitted_period_with_a_through_date(world, extract, use_scenario, source):
    baseline = extract(source)
    use_scenario(with_site(world, source, submission={"submitted": False, "data_through": "2026-01-10"}))
    items = extract(source)
    assert submission_of(items) == SiteSubmission(
        source, world.license(source, "main"), False, None, dt.date(2026, 1, 10)
    )
    assert items[:-1] == baseline[:-1]  # the records do not depend on the marker


@pytest.mark.parametrize("source", VENDORS)
def test_nothing_submitted_means_not_yet_known(world, extract, use_scenario, source):
    use_scenario(with_site(world, source, submission={"submitted": False}))
    assert submission_of(extract(source)) == SiteSubmission(source, world.license(source, "main"), False, None, None)


@pytest.mark.parametrize("source", VENDORS)
def test_a_per_period_override_applies_to_its_period_only(world, extract, use_scenario, source):
    late = {"period_start": "2026-01-18", "submitted": True, "submitted_at": "2026-02-03T10:15:00-05:00"}
    use_scenario(
        with_site(
            world,
            source,
            submission={"submitted": False, "data_through": "2026-01-12"},
            submissions=[late, {"period_start": "2025-12-21", "submitted": False}],
        )
    )
    license_number = world.license(source, "main")
    assert submission_of(extract(source)) == SiteSubmission(source, license_number, False, None, dt.date(2026, 1, 12))
    at = dt.datetime(2026, 2, 3, 15, 15, tzinfo=dt.UTC)
    assert submission_of(extract(source, "main", LATE_JANUARY)) == SiteSubmission(
        source, license_number, True, at, LATE_JANUARY.end
    )


@pytest.mark.parametrize("source", VENDORS)
def test_a_through_date_beyond_the_period_is_clamped_and_one_before_it_says_nothing(
    world, extract, use_scenario, source
):
    use_scenario(with_site(world, source, submission={"submitted": False, "data_through": "2026-02-20"}))
    assert submission_of(extract(source)).data_through == world.JANUARY.end
    use_scenario(with_site(world, source, submission={"submitted": False, "data_through": "2026-01-02"}))
    assert submission_of(extract(source)) == SiteSubmission(source, world.license(source, "main"), False, None, None)


@pytest.mark.parametrize("source", VENDORS)
def test_entries_about_another_period_are_ignored_and_pages_are_followed(world, extract, use_scenario, source):
    """Page size 1: the marker spans pages. The latest unsubmitted entry gives the through-date."""
    flag, at, through, issued = {
        Source.ALLIANCE_CORE: ("certified", "certified_at", "complete_through", "updated_at"),
        Source.BRIGHTWHEEL: ("status", "submitted_at", "data_complete_through", "created_at"),
        Source.PLAYGROUND: ("locked", "locked_at", "attendance_through", "uploaded_at"),
    }[source]
    yes, no = ("submitted", "draft") if source is Source.BRIGHTWHEEL else (True, False)
    december = raw_entry(world, source, "empty", period_start="2025-12-21", period_end="2026-01-03")
    later_draft = raw_entry(world, source, "empty", **{flag: no, through: "2026-01-14", issued: "2026-01-19T12:00:00Z"})
    raw = [{**december, flag: yes, at: "2026-01-05T12:00:00Z"}, later_draft]
    use_scenario(
        with_site(
            world, source, "empty", submission={"submitted": False, "data_through": "2026-01-09"}, raw_submissions=raw
        )
    )
    items = extract(source, "empty", page_size=1)
    assert items == [SiteSubmission(source, world.license(source, "empty"), False, None, dt.date(2026, 1, 14))]


@pytest.mark.parametrize("source", VENDORS)
def test_the_marker_is_read_before_the_records(world, fleet, extract, source):
    """A submission made while the records are fetched never vouches for records read before it."""
    extract(source)
    routes = [f"{entry['method']} {entry['route']}" for entry in fleet.stats(source, log=True)["log"]]
    assert routes.index(f"GET {MARKER_ROUTE[source]}") < routes.index(RECORDS_ROUTE[source])


@pytest.mark.parametrize("source", VENDORS)
def test_a_5xx_storm_on_the_marker_alone_fails_the_site_after_bounded_retries(world, fleet, extract, source):
    fault = {"kind": "http_5xx", "status": 500, "times": None, "path": MARKER_PATH[source]}
    fleet.set_faults([fault], source)
    with pytest.raises(CcmsExtractionError) as caught:
        extract(source, max_attempts=3)
    assert str(caught.value) == prefix(world, source) + f"HTTP 500 after 3 attempts (GET {marker_path(world, source)})"
    assert caught.value.license_number == world.license(source, "main")
    log = fleet.stats(source, log=True)["log"]
    assert [entry["status"] for entry in log if entry["route"] == MARKER_ROUTE[source]] == [500] * 3
    assert all(entry["status"] in (200, 202) for entry in log if entry["route"] != MARKER_ROUTE[source])
    fleet.set_faults([dict(fault, times=2)], source)  # a shorter storm is ridden out
    assert submission_of(extract(source, max_attempts=3)).submitted


@pytest.mark.parametrize("source", VENDORS)
def test_a_malformed_marker_entry_fails_the_site_naming_the_field(world, extract, use_scenario, source):
    bad = {
        Source.ALLIANCE_CORE: (
            {"certified": "yes", "updated_at": "2026-01-19T12:00:00Z"},
            "certified is not true or false",
        ),
        Source.BRIGHTWHEEL: (
            {"status": "submitted", "submitted_at": "2026-01-19T18:00:00", "created_at": "2026-01-19T23:00:00Z"},
            "submitted_at is not an ISO 8601 timestamp with a UTC offset",
        ),
        Source.PLAYGROUND: (
            {"locked": True, "locked_at": "2026-01-19 6pm", "uploaded_at": "2026-01-19T18:00:00-05:00"},
            "locked_at is not an ISO 8601 timestamp with a UTC offset",
        ),
    }
    fields, problem = bad[source]
    use_scenario(with_site(world, source, raw_submissions=[raw_entry(world, source, **fields)]))
    with pytest.raises(CcmsExtractionError) as caught:
        extract(source)
    where = f"{LIST_KEY[source]}[1].{problem} (GET {marker_path(world, source)})"
    assert str(caught.value) == prefix(world, source) + f"unusable submission marker: {where}"


@pytest.mark.parametrize("source", VENDORS)
def test_junk_in_the_marker_list_fails_the_site(world, extract, use_scenario, source):
    use_scenario(with_site(world, source, raw_submissions=["submitted"]))
    with pytest.raises(
        CcmsExtractionError, match=rf"unusable submission marker: {LIST_KEY[source]}\[1\] is not an object"
    ):
        extract(source)


@pytest.mark.parametrize("source", VENDORS)
def test_a_submitted_marker_missing_its_submission_time_fails_the_site(world, fleet, extract, source):
    """The sandbox's missing_required_field fault drops the submission time of the first entry."""
    fleet.set_faults([{"kind": "missing_required_field", "times": 1, "path": MARKER_PATH[source]}], source)
    at = {Source.ALLIANCE_CORE: "certified_at", Source.BRIGHTWHEEL: "submitted_at", Source.PLAYGROUND: "locked_at"}
    with pytest.raises(CcmsExtractionError) as caught:
        extract(source)
    assert str(caught.value).startswith(prefix(world, source) + f"unusable submission marker: {LIST_KEY[source]}[0].")
    assert f"[0].{at[source]} is not an ISO 8601 timestamp" in str(caught.value)


@pytest.mark.parametrize("source", VENDORS)
def test_a_marker_that_is_not_json_fails_the_site_after_json_retries(world, fleet, extract, source):
    fleet.set_faults([{"kind": "malformed_json", "times": None, "path": MARKER_PATH[source]}], source)
    with pytest.raises(CcmsExtractionError) as caught:
        extract(source, json_retries=1)
    expected = f"response is not valid JSON after 2 attempts (GET {marker_path(world, source)})"
    assert str(caught.value) == prefix(world, source) + expected


def test_a_playground_marker_failure_fails_only_its_own_site(world, fleet, make_hook, use_scenario):
    """Markers are read when each export is created, ahead for the next sites: a failure stays with its site."""
    numbers = ["CC-50001-1", "CC-50002-2", "CC-50003-3"]
    sites = [{"vendor": "PLAYGROUND", "license_number": n, "children": world.CHILDREN, "days": []} for n in numbers]
    use_scenario({"sites": sites, "settings": {"playground_polls_before_complete": 1}})
    fault = {"kind": "http_5xx", "status": 502, "times": None, "license_number": numbers[1]}
    fleet.set_faults([dict(fault, path=MARKER_PATH[Source.PLAYGROUND])], Source.PLAYGROUND)
    hook = make_hook(Source.PLAYGROUND, export_concurrency=3, max_attempts=2)
    streams = [hook.iter_site_period(number, world.JANUARY) for number in numbers]
    outcome = []
    for stream in streams:
        try:
            outcome.append(list(stream))
        except CcmsExtractionError as error:
            outcome.append(error)
    assert [type(o).__name__ for o in outcome] == ["list", "CcmsExtractionError", "list"]
    assert str(outcome[1]) == (
        f"PLAYGROUND site {numbers[1]} period {world.JANUARY}: HTTP 502 after 2 attempts"
        f" (GET /api/v2/centers/{numbers[1]}/cca-attendance-submissions)"
    )
    assert all(submission_of(items).submitted for items in (outcome[0], outcome[2]))
    assert fleet.stats(Source.PLAYGROUND)["counters"]["exports_created"] == 2  # none for the failed site


@pytest.mark.parametrize(
    ("site_fields", "problem"),
    [
        ({"submission": {"data_through": "2026-01-10"}}, r"sites\[0\].submission: a submission is an object with"),
        ({"submission": {"submitted": "no"}}, "'submitted': true or false"),
        ({"submission": {"submitted": True, "submitted_at": "2026-01-19T18:00:00"}}, "needs a UTC offset"),
        ({"submission": {"submitted": False, "data_through": "2026-01-32"}}, r"sites\[0\].submission: "),
        ({"submissions": [{"submitted": True}]}, r"sites\[0\].submissions\[0\]: 'period_start' is required"),
        ({"submissions": {"2026-01-04": {"submitted": True}}}, "'submissions' must be a list"),
        ({"raw_submissions": {"status": "submitted"}}, "'raw_submissions' must be lists"),
    ],
)
def test_scenario_submission_fields_are_checked_when_loaded(site_fields, problem):
    from devtools.vendor_sandboxes.scenario import ScenarioError, parse_scenario

    site = {"vendor": "BRIGHTWHEEL", "license_number": "CC-1", **site_fields}
    with pytest.raises(ScenarioError, match=problem):
        parse_scenario({"sites": [site]})
