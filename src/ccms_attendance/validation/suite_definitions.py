"""The source of the GX suites in ``validation/expectations/*.json``, written as plain dicts in GX's own format.

The JSON files are what runs; this module is how they are written and reviewed. Regenerate them
after a change with ``.venv/bin/python -m ccms_attendance.validation.suite_definitions`` (a unit test fails
while the files and this module disagree). No GX import here: the dicts are exactly what
``ExpectationSuite.to_json_dict()`` produces for these suites, so GX loads them unchanged.

Severity is GX 1.x's native ``severity`` field of each expectation (critical | warning | info).
Run values are GX suite parameters: ``{"$PARAMETER": "period_start"}`` in kwargs, resolved from
``validate_frame(..., context_values=...)``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ccms_attendance.canonical import REPORTED_PROGRAMS, AttendanceStatus, Source
from ccms_attendance.paths import EXPECTATIONS_DIR
from ccms_attendance.rules.day_codes import STATUS_BY_CODE, DayCode
from ccms_attendance.rules.lifecycle import PendingBasis
from ccms_attendance.rules.missing_data import PENDING_STATUS

GX_VERSION = "1.24.1"
DEFAULT_MAX_QUARANTINE_FRACTION = 0.05

STATUSES = sorted(str(s) for s in AttendanceStatus)
SOURCES = sorted(str(s) for s in Source)
PROGRAMS = sorted(REPORTED_PROGRAMS)
PENDING_BASES = sorted(str(basis) for basis in PendingBasis)
BASES = sorted(["no_absence_entry", "no_check_in", "recorded", "site_closure", "unscheduled_day", *PENDING_BASES])
PPP_DAY_CODES = ["AB", "NP", "OD", "PC"]
DAY_CODES = sorted(str(code) for code in DayCode)
DAILY_STATUSES = sorted({*STATUS_BY_CODE.values(), PENDING_STATUS})
ABSENCE_REASONS = ["FAM", "ILL", "OTH", "VAC"]
EXTRACT_COLUMNS = [
    "source", "site_id", "license_number", "child_id", "attendance_date", "status", "day_code", "check_in",
    "check_out", "absence_reason", "source_record_id",
]  # fmt: skip
EXTRACT_KEY = ["site_id", "child_id", "attendance_date", "source_record_id"]

SUITE_BY_SOURCE = {
    Source.PPP: "ppp_entries",
    Source.ALLIANCE_CORE: "alliance_core_extract",
    Source.BRIGHTWHEEL: "brightwheel_extract",
    Source.PLAYGROUND: "playground_extract",
}
RECONCILED_DAILY = "reconciled_daily_attendance"
RECONCILED_SUMMARY = "reconciled_absence_summary"
SUITE_NAMES = (*SUITE_BY_SOURCE.values(), RECONCILED_DAILY, RECONCILED_SUMMARY)


def _param(name: str) -> dict[str, str]:
    return {"$PARAMETER": name}


def _equals(column: str, value: str, operator: str = "==") -> dict[str, Any]:
    """GX 1.x row condition ``column == value`` in its serialized form (``Column(column) == value``)."""
    return {"column": {"name": column}, "operator": operator, "parameter": value, "type": "comparison"}


def _exp(type_: str, severity: str = "critical", description: str | None = None, **kwargs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type_, "kwargs": kwargs, "meta": {}}
    if description:
        out["description"] = description
    out["severity"] = severity
    return out


def not_null(column: str, severity: str = "critical", **kwargs: Any) -> dict[str, Any]:
    return _exp("expect_column_values_to_not_be_null", severity, column=column, **kwargs)


def in_set(column: str, values: list[str], severity: str = "critical", **kwargs: Any) -> dict[str, Any]:
    return _exp("expect_column_values_to_be_in_set", severity, column=column, value_set=values, **kwargs)


def in_period(column: str = "attendance_date") -> dict[str, Any]:
    return _exp(
        "expect_column_values_to_be_between",
        column=column,
        min_value=_param("period_start"),
        max_value=_param("period_end"),
    )


def a_not_before_b(a: str, b: str, severity: str = "critical") -> dict[str, Any]:
    """``a >= b`` on every row where both are present."""
    return _exp(
        "expect_column_pair_values_a_to_be_greater_than_b",
        severity,
        column_A=a,
        column_B=b,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    )


def unique_key(columns: list[str]) -> dict[str, Any]:
    return _exp("expect_compound_columns_to_be_unique", column_list=columns)


def has_columns(columns: list[str]) -> dict[str, Any]:
    return _exp("expect_table_columns_to_match_set", column_set=columns, exact_match=False)


def _suite(
    name: str,
    expectations: list[dict[str, Any]],
    *,
    description: str,
    date_columns: Sequence[str] = (),
    timestamp_columns: Sequence[str] = (),
    numeric_columns: Sequence[str] = (),
) -> dict[str, Any]:
    return {
        "name": name,
        "id": None,
        "expectations": expectations,
        "meta": {
            "description": description,
            "max_quarantine_fraction": DEFAULT_MAX_QUARANTINE_FRACTION,
            # How validate_frame normalizes columns before GX sees them (see the package docstring).
            "date_columns": list(date_columns),
            "timestamp_columns": list(timestamp_columns),
            "numeric_columns": list(numeric_columns),
            "great_expectations_version": GX_VERSION,
        },
        "notes": None,
    }


def extract_suite(source: Source) -> dict[str, Any]:
    expectations = [
        has_columns(EXTRACT_COLUMNS),
        in_set("source", [str(source)]),
        not_null("site_id"),
        not_null("license_number"),
        not_null("child_id"),
        not_null("source_record_id"),
        not_null("attendance_date"),
        in_period("attendance_date"),
        in_set("status", STATUSES),
        a_not_before_b("check_out", "check_in"),
        unique_key(EXTRACT_KEY),
    ]
    if source is Source.PPP:
        expectations += [not_null("day_code"), in_set("day_code", PPP_DAY_CODES)]
    if source in (Source.ALLIANCE_CORE, Source.BRIGHTWHEEL):
        # These vendors report sign-in times: a present day without one is suspicious, not invalid.
        expectations.append(not_null("check_in", "warning", row_condition=_equals("status", "present")))
    if source is not Source.PPP:
        # Sign-ins far outside the period's days (state time) hint at a vendor time-zone slip.
        expectations.append(
            _exp(
                "expect_column_values_to_be_between",
                "warning",
                column="check_in",
                min_value=_param("period_start_instant"),
                max_value=_param("period_end_instant"),
            )
        )
    if source is Source.PLAYGROUND:
        expectations.append(in_set("absence_reason", ABSENCE_REASONS, "warning"))
    return _suite(
        SUITE_BY_SOURCE[source],
        expectations,
        description=f"{source} records of one run, staged in the canonical shape, before reconciliation.",
        date_columns=["attendance_date"],
        timestamp_columns=["check_in", "check_out"],
    )


def reconciled_daily_suite() -> dict[str, Any]:
    expectations = [
        has_columns(
            ["site_id", "child_id", "attendance_date", "voucher_id", "program", "status", "day_code", "basis", "source"]
        ),
        unique_key(["site_id", "child_id", "attendance_date"]),
        not_null("site_id"),
        not_null("child_id"),
        not_null("attendance_date"),
        in_period("attendance_date"),
        not_null("voucher_id"),
        in_set("program", PROGRAMS),
        in_set("status", DAILY_STATUSES),
        not_null("status"),
        in_set("day_code", DAY_CODES),
        # Every final child-day has a code; a pending one (data not final) never has one.
        not_null("day_code", row_condition=_equals("status", PENDING_STATUS, "!=")),
        _exp("expect_column_values_to_be_null", column="day_code", row_condition=_equals("status", PENDING_STATUS)),
        in_set("basis", PENDING_BASES, row_condition=_equals("status", PENDING_STATUS)),
        in_set("basis", BASES),
        not_null("basis"),
        in_set("source", SOURCES),
        not_null("source"),
        not_null("source_record_id", row_condition=_equals("basis", "recorded")),
        a_not_before_b("check_out", "check_in", "warning"),
    ]
    return _suite(
        RECONCILED_DAILY,
        expectations,
        description="Reconciled daily attendance of one period: one row per enrolled child-day.",
        date_columns=["attendance_date"],
        timestamp_columns=["check_in", "check_out"],
    )


SUMMARY_COUNTS = [
    "operating_days", "enrolled_days", "absent_days", "off_days", "paid_closure_days", "unpaid_closure_days",
    "pending_days",
]  # fmt: skip


def reconciled_summary_suite() -> dict[str, Any]:
    expectations = [
        has_columns(["site_id", "child_id", "operating_days", "enrolled_days", "absent_days", "absence_rate"]),
        unique_key(["site_id", "child_id"]),
        not_null("site_id"),
        not_null("child_id"),
        *(
            _exp("expect_column_values_to_be_between", column=column, min_value=0)
            for column in ("absent_days", "off_days", "paid_closure_days", "unpaid_closure_days", "pending_days")
        ),
        in_set("lifecycle", ["final", "provisional"]),
        not_null("lifecycle"),
        a_not_before_b("enrolled_days", "absent_days"),
        a_not_before_b("operating_days", "enrolled_days"),
        _exp("expect_column_values_to_be_between", column="absence_rate", min_value=0, max_value=1),
        _exp(
            "expect_column_values_to_be_between",
            "info",
            description="High-absence notice: the child was absent on more than half of the enrolled days.",
            column="absence_rate",
            max_value=0.5,
        ),
    ]
    return _suite(
        RECONCILED_SUMMARY,
        expectations,
        description="Per child and site: operating, enrolled and absent days of one period.",
        numeric_columns=[*SUMMARY_COUNTS, "absence_rate"],
    )


def all_suites() -> dict[str, dict[str, Any]]:
    suites = [extract_suite(source) for source in SUITE_BY_SOURCE]
    suites += [reconciled_daily_suite(), reconciled_summary_suite()]
    return {suite["name"]: suite for suite in suites}


def render(suite: dict[str, Any]) -> str:
    return json.dumps(suite, indent=2) + "\n"


def write_all(directory: Path = EXPECTATIONS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, suite in all_suites().items():
        path = directory / f"{name}.json"
        path.write_text(render(suite))
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else EXPECTATIONS_DIR):
        print(written_path)
