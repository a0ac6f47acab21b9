"""The suite JSON files: GX's own format, in sync with suite_definitions, severities set."""

from __future__ import annotations

import json
import os

import pytest

from ccms_attendance.paths import EXPECTATIONS_DIR
from ccms_attendance.validation import suite_definitions

SUITES = list(suite_definitions.SUITE_NAMES)


def test_every_suite_has_a_json_file_and_nothing_else_is_there():
    assert sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json")) == sorted(SUITES)


@pytest.mark.parametrize("name", SUITES)
def test_json_file_matches_suite_definitions(name):
    written = (EXPECTATIONS_DIR / f"{name}.json").read_text()
    assert written == suite_definitions.render(suite_definitions.all_suites()[name]), (
        "validation/expectations/*.json is stale: run .venv/bin/python -m ccms_attendance.validation.suite_definitions"
    )


@pytest.mark.parametrize("name", SUITES)
def test_json_loads_into_a_gx_suite_unchanged(name):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    data = json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text())
    suite = gx.ExpectationSuite(**data)
    assert suite.name == name
    assert len(suite.expectations) == len(data["expectations"])
    assert suite.to_json_dict() == data
    assert {str(e.severity.value) for e in suite.expectations} <= {"critical", "warning", "info"}


@pytest.mark.parametrize("name", SUITES)
def test_suite_meta_and_severities(name):
    data = suite_definitions.all_suites()[name]
    assert 0 < data["meta"]["max_quarantine_fraction"] < 1
    severities = [e["severity"] for e in data["expectations"]]
    assert "critical" in severities
    assert set(severities) <= {"critical", "warning", "info"}
    types = {e["type"] for e in data["expectations"]}
    assert "expect_compound_columns_to_be_unique" in types


@pytest.mark.parametrize("name", [n for n in SUITES if n != "reconciled_absence_summary"])
def test_attendance_date_is_bounded_by_the_period_parameters(name):
    (between,) = [
        e
        for e in suite_definitions.all_suites()[name]["expectations"]
        if e["type"] == "expect_column_values_to_be_between" and e["kwargs"]["column"] == "attendance_date"
    ]
    assert between["kwargs"]["min_value"] == {"$PARAMETER": "period_start"}
    assert between["kwargs"]["max_value"] == {"$PARAMETER": "period_end"}
    assert between["severity"] == "critical"
