"""validate_frame / quarantine_and_filter over every suite, one broken rule at a time."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from ccms_attendance.canonical import Source
from ccms_attendance.validation import quarantine_and_filter

ALL_SUITES = [
    "ppp_entries",
    "alliance_core_extract",
    "brightwheel_extract",
    "playground_extract",
    "reconciled_daily_attendance",
    "reconciled_absence_summary",
]
EXTRACT_SUITES = ALL_SUITES[:4]
UTC = dt.UTC


def _set(column, value, rows=(3,)):
    def mutate(frame: pd.DataFrame) -> list:
        labels = [frame.index[r] for r in rows]
        for label in labels:
            frame.loc[label, column] = value
        return labels

    return mutate


def _check_out_before_check_in(frame: pd.DataFrame) -> list:
    label = frame.index[1]
    frame.loc[label, "check_in"] = pd.Timestamp("2025-01-07 15:00", tz=UTC)
    frame.loc[label, "check_out"] = pd.Timestamp("2025-01-07 14:00", tz=UTC)
    return [label]


def _outside_period(days: int):
    def mutate(frame: pd.DataFrame) -> list:
        label = frame.index[4]
        frame.loc[label, "attendance_date"] = pd.Timestamp(dt.date(2025, 1, 6) + dt.timedelta(days=days))
        return [label]

    return mutate


def _more_than(column: str, other: str):
    def mutate(frame: pd.DataFrame) -> list:
        label = frame.index[2]
        frame.loc[label, column] = frame.loc[label, other] + 1
        return [label]

    return mutate


EXTRACT_RULES = [
    ("child_id_null", _set("child_id", None), "expect_column_values_to_not_be_null"),
    ("site_id_null", _set("site_id", None), "expect_column_values_to_not_be_null"),
    ("license_null", _set("license_number", None), "expect_column_values_to_not_be_null"),
    ("record_id_null", _set("source_record_id", None), "expect_column_values_to_not_be_null"),
    ("date_null", _set("attendance_date", pd.NaT), "expect_column_values_to_not_be_null"),
    ("date_before_period", _outside_period(-1), "expect_column_values_to_be_between"),
    ("date_after_period", _outside_period(14), "expect_column_values_to_be_between"),
    ("bad_status", _set("status", "late", rows=(5, 6)), "expect_column_values_to_be_in_set"),
    ("out_before_in", _check_out_before_check_in, "expect_column_pair_values_a_to_be_greater_than_b"),
    ("wrong_source", _set("source", "SOMEONE_ELSE"), "expect_column_values_to_be_in_set"),
]
CRITICAL_ROW_CASES = [
    pytest.param(suite, mutate, expectation, id=f"{suite}-{name}")
    for suite in EXTRACT_SUITES
    for name, mutate, expectation in EXTRACT_RULES
] + [
    pytest.param("ppp_entries", _set("day_code", "XX"), "expect_column_values_to_be_in_set", id="ppp-day_code"),
    pytest.param("ppp_entries", _set("day_code", None), "expect_column_values_to_not_be_null", id="ppp-day_code_null"),
    *(
        pytest.param("reconciled_daily_attendance", mutate, expectation, id=f"daily-{name}")
        for name, mutate, expectation in [
            ("status", _set("status", "late"), "expect_column_values_to_be_in_set"),
            ("basis", _set("basis", "guessed"), "expect_column_values_to_be_in_set"),
            ("source", _set("source", "PAPER"), "expect_column_values_to_be_in_set"),
            ("voucher_null", _set("voucher_id", None), "expect_column_values_to_not_be_null"),
            ("program", _set("program", "TANF"), "expect_column_values_to_be_in_set"),
            ("date_after_period", _outside_period(20), "expect_column_values_to_be_between"),
            ("recorded_without_ref", _set("source_record_id", None, rows=(1,)), "expect_column_values_to_not_be_null"),
            ("day_code", _set("day_code", "XX"), "expect_column_values_to_be_in_set"),
            ("day_code_null", _set("day_code", None), "expect_column_values_to_not_be_null"),
            # Pending child-days (row 9: data not final) never carry a code, and say why they are pending.
            ("pending_with_code", _set("day_code", "AB", rows=(9,)), "expect_column_values_to_be_null"),
            ("pending_basis", _set("basis", "recorded", rows=(9,)), "expect_column_values_to_be_in_set"),
        ]
    ),
    *(
        pytest.param("reconciled_absence_summary", mutate, expectation, id=f"summary-{name}")
        for name, mutate, expectation in [
            ("absent_gt_enrolled", _more_than("absent_days", "enrolled_days"), "expect_column_pair_values_a_to_be"),
            ("enrolled_gt_operating", _more_than("enrolled_days", "operating_days"), "expect_column_pair_values_a"),
            ("rate_above_one", _set("absence_rate", 1.5), "expect_column_values_to_be_between"),
            ("rate_negative", _set("absence_rate", -0.1), "expect_column_values_to_be_between"),
            ("off_days_negative", _set("off_days", -1), "expect_column_values_to_be_between"),
            ("pending_negative", _set("pending_days", -1), "expect_column_values_to_be_between"),
            ("lifecycle", _set("lifecycle", "open"), "expect_column_values_to_be_in_set"),
        ]
    ),
]


@pytest.mark.parametrize("suite", ALL_SUITES)
def test_valid_frame_passes(validate, frames, suite):
    outcome = validate(suite, frames.for_suite(suite))
    assert outcome.success, outcome.error_message()
    assert outcome.suite_name == suite
    assert outcome.evaluated_rows == frames.rows
    assert outcome.critical_failures == []
    assert outcome.warnings == []
    assert outcome.quarantine.empty
    assert list(outcome.quarantine.columns) == ["reason"]
    assert "passed" in outcome.error_message()


@pytest.mark.parametrize("source", list(Source))
def test_frame_as_read_from_postgres_passes(validate, frames, source):
    """Object columns of python dates and aware datetimes (what psycopg returns) validate the same."""
    frame = frames.extract(source, python_objects=True)
    assert frame["attendance_date"].dtype == object
    outcome = validate(f"{source.lower()}_extract" if source is not Source.PPP else "ppp_entries", frame)
    assert outcome.success, outcome.error_message()
    assert outcome.warnings == []


def test_microsecond_and_naive_date_units_are_accepted(validate, frames):
    frame = frames.extract(Source.BRIGHTWHEEL)
    frame["attendance_date"] = frame["attendance_date"].astype("datetime64[us]")
    frame["check_in"] = frame["check_in"].astype("datetime64[us, UTC]")
    outcome = validate("brightwheel_extract", frame)
    assert outcome.success, outcome.error_message()


@pytest.mark.parametrize(("suite", "mutate", "expectation"), CRITICAL_ROW_CASES)
def test_critical_row_rule_quarantines_exactly_the_offending_rows(validate, frames, suite, mutate, expectation):
    frame = frames.for_suite(suite)
    bad_labels = mutate(frame)

    outcome = validate(suite, frame)

    assert outcome.success, outcome.error_message()  # a few bad rows are not a suite failure
    assert outcome.warnings == [] or all(w.severity != "critical" for w in outcome.warnings)
    assert sorted(outcome.quarantine.index) == sorted(bad_labels)
    for reason in outcome.quarantine["reason"]:
        assert reason.startswith(f"{suite}: ")
        assert expectation in reason
    record = next(e for e in outcome.result["expectations"] if e["action"] == "quarantined")
    assert record["unexpected_count"] == len(bad_labels)

    kept, quarantined = quarantine_and_filter(frame, outcome)
    assert len(kept) + len(quarantined) == len(frame)
    assert sorted(quarantined.index) == sorted(bad_labels)
    assert not kept.index.isin(bad_labels).any()
    assert (quarantined["reason"] == outcome.quarantine.loc[quarantined.index, "reason"]).all()


def test_several_reasons_for_one_row_are_joined(validate, frames):
    frame = frames.extract(Source.ALLIANCE_CORE)
    label = frame.index[7]
    frame.loc[label, "child_id"] = None
    frame.loc[label, "status"] = "late"
    outcome = validate("alliance_core_extract", frame)
    assert list(outcome.quarantine.index) == [label]
    reason = outcome.quarantine.loc[label, "reason"]
    assert reason.count("; ") == 1
    assert "expect_column_values_to_not_be_null(child_id)" in reason
    assert "expect_column_values_to_be_in_set(status)" in reason


@pytest.mark.parametrize(
    ("suite", "key"),
    [
        ("playground_extract", ["site_id", "child_id", "attendance_date", "source_record_id"]),
        ("ppp_entries", ["site_id", "child_id", "attendance_date", "source_record_id"]),
        ("reconciled_daily_attendance", ["site_id", "child_id", "attendance_date"]),
        ("reconciled_absence_summary", ["site_id", "child_id"]),
    ],
)
def test_duplicate_key_fails_critically_with_a_readable_message(validate, frames, suite, key):
    frame = frames.for_suite(suite)
    duplicate = frame.iloc[[10]].copy()
    duplicate.index = [-1]
    frame = pd.concat([frame, duplicate])

    outcome = validate(suite, frame)

    assert not outcome.success
    assert outcome.quarantine.empty  # a table-level failure is not a row quarantine
    (failure,) = outcome.critical_failures
    assert failure.expectation_type == "expect_compound_columns_to_be_unique"
    assert failure.severity == "critical"
    assert failure.unexpected_count == 2
    assert len(failure.sample_rows) == 2
    assert {row["child_id"] for row in failure.sample_rows} == {frame.iloc[10]["child_id"]}
    json.dumps(failure.sample_rows)
    message = outcome.error_message()
    assert suite in message
    assert "expect_compound_columns_to_be_unique" in message
    assert all(column in message for column in key)
    assert str(frame.iloc[10]["child_id"]) in message


def test_missing_column_is_a_critical_failure(validate, frames):
    frame = frames.extract(Source.BRIGHTWHEEL).drop(columns=["license_number"])
    outcome = validate("brightwheel_extract", frame)
    assert not outcome.success
    types = [f.expectation_type for f in outcome.critical_failures]
    assert "expect_table_columns_to_match_set" in types
    assert "license_number" in outcome.error_message()


@pytest.mark.parametrize(
    ("suite", "mutate", "expectation", "severity"),
    [
        ("brightwheel_extract", _set("check_in", pd.NaT, rows=(1,)), "expect_column_values_to_not_be_null", "warning"),
        (
            "alliance_core_extract",
            _set("check_in", pd.NaT, rows=(1,)),
            "expect_column_values_to_not_be_null",
            "warning",
        ),
        (
            "playground_extract",
            _set("absence_reason", "XYZ", rows=(0,)),
            "expect_column_values_to_be_in_set",
            "warning",
        ),
        (
            "playground_extract",
            _set("check_in", pd.Timestamp("2024-12-01 12:00", tz=UTC), rows=(1,)),
            "expect_column_values_to_be_between",
            "warning",
        ),
        (
            "reconciled_daily_attendance",
            _set("check_out", pd.Timestamp("2025-01-01", tz=UTC), rows=(1,)),
            "expect_column_pair_values_a_to_be_greater_than_b",
            "warning",
        ),
        (
            "reconciled_absence_summary",
            _set("absence_rate", 0.8, rows=(1,)),
            "expect_column_values_to_be_between",
            "info",
        ),
    ],
)
def test_warnings_do_not_fail_or_quarantine(validate, frames, suite, mutate, expectation, severity):
    frame = frames.for_suite(suite)
    mutate(frame)
    outcome = validate(suite, frame)
    assert outcome.success, outcome.error_message()
    assert outcome.quarantine.empty
    (warning,) = outcome.warnings
    assert warning.expectation_type == expectation
    assert warning.severity == severity
    assert warning.unexpected_count == 1
    assert len(warning.sample_rows) == 1
    kept, quarantined = quarantine_and_filter(frame, outcome)
    assert len(kept) == len(frame)
    assert quarantined.empty


def test_ppp_without_check_in_is_not_warned(validate, frames):
    outcome = validate("ppp_entries", frames.extract(Source.PPP))
    assert outcome.warnings == []


def test_exceeding_max_quarantine_fraction_is_critical(validate, frames):
    frame = frames.extract(Source.BRIGHTWHEEL)
    bad = frame.index[:6]  # 6% of 100 rows > 5%
    frame.loc[bad, "child_id"] = None

    outcome = validate("brightwheel_extract", frame)

    assert not outcome.success
    assert sorted(outcome.quarantine.index) == sorted(bad)  # still listed, to be quarantined
    systemic = outcome.critical_failures[0]
    assert systemic.expectation_type == "max_quarantine_fraction"
    assert systemic.unexpected_count == 6
    assert "expect_column_values_to_not_be_null" in [f.expectation_type for f in outcome.critical_failures]
    message = outcome.error_message()
    assert "max_quarantine_fraction" in message
    assert "brightwheel_extract" in message
    assert outcome.result["quarantine_fraction"] == pytest.approx(0.06)


def test_at_max_quarantine_fraction_is_not_critical(validate, frames):
    frame = frames.extract(Source.BRIGHTWHEEL)
    frame.loc[frame.index[:5], "child_id"] = None
    outcome = validate("brightwheel_extract", frame)
    assert outcome.success
    assert len(outcome.quarantine) == 5


def test_period_bounds_come_from_context_values(validate, frames):
    frame = frames.extract(Source.PLAYGROUND)
    later = {"period_start": frames.period_start + dt.timedelta(days=7), "period_end": frames.period_end}
    outcome = validate("playground_extract", frame, later)
    expected = frame.index[pd.to_datetime(frame["attendance_date"]) < pd.Timestamp(later["period_start"])]
    # Half the rows fall before the new period start: quarantined, and a systemic failure.
    assert sorted(outcome.quarantine.index) == sorted(expected)
    assert not outcome.success
    assert outcome.result["parameters"]["period_start"].startswith("2025-01-13")
    assert "$period_start=2025-01-13" in outcome.error_message()


def test_missing_context_values_are_refused(frames):
    from ccms_attendance.validation import validate_frame

    with pytest.raises(ValueError, match="period_start"):
        validate_frame("ppp_entries", frames.extract(Source.PPP))


def test_unknown_suite_is_refused(frames):
    from ccms_attendance.validation import validate_frame

    with pytest.raises(KeyError, match="no_such_suite"):
        validate_frame("no_such_suite", frames.extract(Source.PPP), context_values=frames.period)


def test_result_is_json_serializable_summary_without_rows(validate, frames):
    frame = frames.extract(Source.ALLIANCE_CORE)
    frame.loc[frame.index[3], "status"] = "late"
    outcome = validate("alliance_core_extract", frame)
    text = json.dumps(outcome.result)
    assert "unexpected_list" not in text
    assert "C0003" not in text  # no row values
    assert outcome.result["statistics"]["evaluated_expectations"] == len(outcome.result["expectations"])
    assert outcome.result["quarantined_rows"] == 1
    by_action = {e["action"] for e in outcome.result["expectations"]}
    assert by_action == {"passed", "quarantined"}


def test_empty_frame_passes(validate, frames):
    frame = frames.extract(Source.BRIGHTWHEEL).iloc[:0]
    outcome = validate("brightwheel_extract", frame)
    assert outcome.success, outcome.error_message()
    assert outcome.evaluated_rows == 0


def test_gx_does_not_fingerprint_the_batch_but_still_judges_every_row(validate, frames):
    """GX would hash every value of the frame (twice) only to name the batch: that is switched off."""
    from great_expectations.execution_engine import pandas_execution_engine

    frame = frames.extract(Source.PLAYGROUND)
    frame.loc[frame.index[-1], "status"] = "late"  # the very last row is still looked at
    outcome = validate("playground_extract", frame)
    assert pandas_execution_engine.HASH_THRESHOLD == 0  # still GX's switch (an upgrade that drops it fails here)
    markers = outcome.gx_result["meta"].get("batch_markers") or {}
    assert "pandas_data_fingerprint" not in markers
    assert outcome.evaluated_rows == frames.rows
    assert list(outcome.quarantine.index) == [frame.index[-1]]


def test_importing_gx_does_not_flood_the_task_log():
    """GX logs ~200 docs-registry lines at INFO on import; under Airflow's logging they reach the task log."""
    import subprocess
    import sys

    code = (
        "import logging, airflow.sdk; logging.getLogger().setLevel(logging.INFO);"
        "from ccms_attendance.validation.gx_run import import_gx; import_gx(); print('imported')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert "imported" in done.stdout
    assert "Skipping registering" not in done.stdout + done.stderr
