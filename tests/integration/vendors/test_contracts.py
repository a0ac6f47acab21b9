"""Contract tests: every sandbox response the hooks saw validates against the vendor's OpenAPI
document, and every request a hook made is a path/method (and query parameters) of that contract."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
import yaml

from ccms_attendance.canonical import Source
from ccms_attendance.hooks import CcmsExtractionError
from ccms_attendance.paths import CONTRACTS_DIR

CONTRACTS = CONTRACTS_DIR
FILES = {
    Source.ALLIANCE_CORE: "alliance_core.openapi.yaml",
    Source.BRIGHTWHEEL: "brightwheel.openapi.yaml",
    Source.PLAYGROUND: "playground.openapi.yaml",
}
VENDORS = list(FILES)


def contract(source: Source) -> dict:
    return yaml.safe_load((CONTRACTS / FILES[source]).read_text())


def deref(doc: dict, node: dict) -> dict:
    """Follow a local ``$ref`` (``#/components/...``) at the top of ``node``."""
    while isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operation(doc: dict, route: str, method: str) -> dict:
    return doc["paths"][route][method.lower()]


def response_schema(doc: dict, route: str, method: str, status: int) -> dict:
    responses = operation(doc, route, method)["responses"]
    spec = responses.get(str(status)) or responses.get(f"{status // 100}XX") or responses.get("default")
    assert spec is not None, f"{method} {route}: status {status} is not in the contract"
    return deref(doc, spec)["content"]["application/json"]["schema"]


def validate(doc: dict, schema: dict, instance) -> None:
    validator = jsonschema.Draft202012Validator(
        {**schema, "components": doc["components"]}, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(instance)


def query_names(doc: dict, route: str, method: str) -> set[str]:
    params = [deref(doc, p) for p in operation(doc, route, method).get("parameters", [])]
    return {p["name"] for p in params if p["in"] == "query"}


@pytest.mark.parametrize("source", VENDORS)
def test_contract_documents_are_openapi_31_with_resolvable_refs(source):
    doc = contract(source)
    assert doc["openapi"] == "3.1.0"
    assert doc["paths"]
    text = json.dumps(doc)
    for ref in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        deref(doc, {"$ref": ref})  # raises KeyError if dangling
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert op["responses"], f"{method} {path}"
            declared = {deref(doc, p)["name"] for p in op.get("parameters", []) if deref(doc, p)["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), f"{method} {path}: path parameters"
    jsonschema.Draft202012Validator.check_schema({"components": doc["components"]})


@pytest.mark.parametrize("source", VENDORS)
def test_sandbox_serves_exactly_the_contract_paths(source, base_scenario_file, monkeypatch):
    import importlib

    from devtools.vendor_sandboxes.common import ADMIN_PREFIX, SandboxState

    module = importlib.import_module(f"devtools.vendor_sandboxes.{FILES[source].split('.')[0]}")
    app = module.create_app(SandboxState.from_environment(str(source), base_scenario_file))
    served = {
        (route.path, method.lower())
        for route in app.routes
        if hasattr(route, "methods") and not route.path.startswith(ADMIN_PREFIX)
        for method in route.methods
    }
    declared = {(path, method) for path, item in contract(source)["paths"].items() for method in item}
    assert served == declared


def check_query(doc: dict, route: str, method: str, query: dict) -> None:
    """A request's query parameters: the required ones present, every value valid for its schema."""
    for param in (deref(doc, p) for p in operation(doc, route, method).get("parameters", [])):
        if param["in"] != "query":
            continue
        name = param["name"]
        assert name in query or not param.get("required"), f"{method} {route}: required query parameter {name}"
        if name in query:
            value = int(query[name]) if param["schema"].get("type") == "integer" else query[name]
            validate(doc, param["schema"], value)


#: Each site's submission marker while the contract is exercised: submitted (default), a draft
#: with a through-date, nothing to say.
MARKERS = {"dst": {"submitted": False, "data_through": "2026-03-09"}, "empty": {"submitted": False}}


def _exercise(world, fleet, make_hook, use_scenario, source):
    """Happy paths (paged), empty period, DST days, every kind of marker, and the error statuses the
    contract lists."""
    licence = world.license(source, "main")
    scenario = world.base_scenario()
    for kind, submission in MARKERS.items():
        site = next(s for s in scenario["sites"] if s["license_number"] == world.license(source, kind))
        site["submission"] = submission
    use_scenario(scenario)
    for kind, period in (("main", world.JANUARY), ("dst", world.MARCH), ("empty", world.JANUARY)):
        list(make_hook(source, page_size=7).iter_site_period(world.license(source, kind), period))
    with pytest.raises(CcmsExtractionError):
        list(make_hook(source).iter_site_period("CC-99999-9", world.JANUARY))
    with pytest.raises(CcmsExtractionError):
        list(make_hook(source, password="wrong-secret").iter_site_period(licence, world.JANUARY))
    fleet.set_faults(
        [{"kind": "http_429", "retry_after": 0, "times": 1}, {"kind": "http_5xx", "status": 503, "times": 1}], source
    )
    list(make_hook(source, page_size=20).iter_site_period(licence, world.JANUARY))
    fleet.set_faults([{"kind": "extra_fields", "times": None}], source)
    list(make_hook(source, page_size=20).iter_site_period(licence, world.JANUARY))
    fleet.clear_faults(source)


@pytest.mark.parametrize("source", VENDORS)
def test_every_response_validates_and_every_request_is_in_the_contract(world, fleet, make_hook, use_scenario, source):
    _exercise(world, fleet, make_hook, use_scenario, source)
    doc = contract(source)
    log = fleet.stats(source, log=True)["log"]
    assert len(log) > 10
    statuses = set()
    for entry in log:
        route, method = entry["route"], entry["method"]
        assert route in doc["paths"], f"{method} {entry['path']} is not a contract path"
        assert method.lower() in doc["paths"][route], f"{method} {entry['path']} is not a contract method"
        unknown = set(entry.get("query", {})) - query_names(doc, route, method)
        assert not unknown, f"{method} {route}: query parameters {unknown} are not in the contract"
        check_query(doc, route, method, entry.get("query", {}))
        if entry.get("status") is None or entry.get("body") is None:
            continue
        statuses.add(entry["status"])
        schema = response_schema(doc, route, method, entry["status"])
        validate(doc, schema, json.loads(entry["body"]))
    assert {200, 401, 429, 503} <= statuses
    markers = [json.loads(e["body"]) for e in log if e["route"] == MARKER_ROUTES[source] and e.get("status") == 200]
    assert len(markers) >= 3  # submitted, draft, nothing (validated above)


MARKER_ROUTES = {
    Source.ALLIANCE_CORE: "/v1/facilities/{license_number}/attendance-certifications",
    Source.BRIGHTWHEEL: "/v1/schools/{school_id}/state_reports",
    Source.PLAYGROUND: "/api/v2/centers/{center_license}/cca-attendance-submissions",
}


def test_validator_catches_a_contract_violation():
    doc = contract(Source.BRIGHTWHEEL)
    schema = response_schema(doc, "/v1/schools/{school_id}/attendance_records", "GET", 200)
    bad = {"attendance_records": [{"id": "ar_1", "date": "2026-01-05", "status": "late", "school": {}, "student": {}}]}
    with pytest.raises(jsonschema.ValidationError):
        validate(doc, schema, bad)


@pytest.mark.parametrize(
    ("source", "entry"),
    [
        (Source.BRIGHTWHEEL, {"status": "submitted", "created_at": "2026-01-19T23:00:00Z", "submitted_at": None}),
        (Source.ALLIANCE_CORE, {"certified": True, "updated_at": "2026-01-19T23:00:00Z"}),
        (Source.PLAYGROUND, {"locked": True, "locked_at": None, "uploaded_at": "2026-01-19T18:00:00-05:00"}),
    ],
)
def test_validator_catches_a_marker_that_says_submitted_without_saying_when(source, entry):
    doc = contract(source)
    route, key, base = {
        Source.BRIGHTWHEEL: (MARKER_ROUTES[source], "state_reports", {"id": "r", "report_type": "indiana_ilead"}),
        Source.ALLIANCE_CORE: (
            MARKER_ROUTES[source],
            "data",
            {"certification_id": "c", "facility_license_number": "L"},
        ),
        Source.PLAYGROUND: (MARKER_ROUTES[source], "submissions", {"upload_id": "u", "center_license": "L"}),
    }[source]
    body = {key: [{**base, "period_start": "2026-01-04", "period_end": "2026-01-17", **entry}], "next_cursor": None}
    if source is Source.PLAYGROUND:
        body |= {"page": 1, "per_page": 50, "total": 1, "total_pages": 1}
    with pytest.raises(jsonschema.ValidationError):
        validate(doc, response_schema(doc, route, "GET", 200), body)
