"""The bench's plain-pandas baseline makes exactly the GX suites' checks: same verdicts, same row counts.

``devtools/bench/pandas_checks.py`` is the floor that validation is compared with (issue 20:
validate within 2x the same checks in plain pandas). A baseline that skipped an expectation, or
judged one differently, would make that comparison meaningless: each suite here runs through GX
(``validate_frame``) and through the baseline on the same broken frame, and every expectation's
success and unexpected-row count must agree.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ccms_attendance.validation.engine import load_suite_dict
from ccms_attendance.validation.suite_definitions import SUITE_NAMES
from devtools.bench.pandas_checks import check_suite, unexpected_rows

UTC = "UTC"


def _break_extract(frame: pd.DataFrame) -> pd.DataFrame:
    labels = frame.index
    frame.loc[labels[1], "child_id"] = None
    frame.loc[labels[2], "site_id"] = None
    frame.loc[labels[3], "status"] = "late"
    frame.loc[labels[4], "attendance_date"] = pd.Timestamp("2025-01-05")
    frame.loc[labels[5], "attendance_date"] = pd.NaT
    frame.loc[labels[6], "source"] = "SOMEONE_ELSE"
    frame.loc[labels[7], "check_in"] = pd.Timestamp("2025-01-07 15:00", tz=UTC)
    frame.loc[labels[7], "check_out"] = pd.Timestamp("2025-01-07 14:00", tz=UTC)
    frame.loc[labels[8], "check_in"] = pd.Timestamp("2025-03-01 15:00", tz=UTC)  # far outside: a warning
    frame.loc[labels[8], "check_out"] = pd.Timestamp("2025-03-01 16:00", tz=UTC)
    for column in ("site_id", "child_id", "attendance_date", "source_record_id"):
        frame.loc[labels[11], column] = frame.loc[labels[10], column]  # a duplicated key: both rows fail
    frame.loc[labels[12], "day_code"] = "XX"
    frame.loc[labels[13], "absence_reason"] = "BORED"
    present = frame.index[frame["status"] == "present"]
    if len(present):
        frame.loc[present[-1], "check_in"] = pd.NaT
    return frame


def _break_daily(frame: pd.DataFrame) -> pd.DataFrame:
    labels = frame.index
    frame.loc[labels[1], "program"] = "OTHER"
    frame.loc[labels[9], "day_code"] = "PR"  # row 9 is pending: a code there is wrong
    frame.loc[labels[2], "basis"] = None
    frame.loc[labels[3], "check_out"] = frame.loc[labels[3], "check_in"] - pd.Timedelta(hours=1)
    frame.loc[labels[4], "attendance_date"] = pd.Timestamp("2025-02-01")
    frame.loc[labels[5], "voucher_id"] = None
    frame.loc[labels[6], "day_code"] = None
    frame.loc[labels[7], "basis"] = "recorded"
    frame.loc[labels[7], "source_record_id"] = None
    frame.loc[labels[19], "basis"] = "recorded"  # pending with a final basis
    frame.loc[labels[21], ["site_id", "child_id", "attendance_date"]] = frame.loc[
        labels[20], ["site_id", "child_id", "attendance_date"]
    ].to_numpy()
    return frame


def _break_summary(frame: pd.DataFrame) -> pd.DataFrame:
    labels = frame.index
    frame.loc[labels[1], "absent_days"] = 12  # more than enrolled
    frame.loc[labels[2], "off_days"] = -1
    frame.loc[labels[3], "absence_rate"] = 0.8  # the info-level notice
    frame.loc[labels[4], "enrolled_days"] = 11  # more than operating
    frame.loc[labels[5], "lifecycle"] = None
    frame.loc[labels[6], "absence_rate"] = 1.5
    frame.loc[labels[8], "child_id"] = frame.loc[labels[7], "child_id"]
    frame.loc[labels[8], "site_id"] = frame.loc[labels[7], "site_id"]
    return frame


def _broken(suite: str, frames) -> pd.DataFrame:
    frame = frames.for_suite(suite)
    if suite == "reconciled_daily_attendance":
        return _break_daily(frame)
    if suite == "reconciled_absence_summary":
        return _break_summary(frame)
    return _break_extract(frame)


@pytest.mark.parametrize("suite", SUITE_NAMES)
def test_baseline_agrees_with_gx_on_every_expectation(suite, frames, validate):
    frame = _broken(suite, frames)
    gx = validate(suite, frame.copy()).result["expectations"]
    baseline = check_suite(suite, frame.copy(), frames.period)
    assert len(baseline) == len(load_suite_dict(suite)["expectations"]) == len(gx)  # none dropped
    assert [(ok, count) for ok, count in baseline] == [(e["success"], e["unexpected_count"]) for e in gx]
    assert sum(count for _, count in baseline) >= 5  # the frame is broken in many places, not vacuously equal


@pytest.mark.parametrize("suite", SUITE_NAMES)
def test_baseline_passes_a_valid_frame(suite, frames):
    assert all(ok for ok, _ in check_suite(suite, frames.for_suite(suite), frames.period))


def test_an_unknown_expectation_is_refused_not_skipped(frames):
    expectation = {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "site_id", "regex": "^S"}}
    with pytest.raises(NotImplementedError, match="expect_column_values_to_match_regex"):
        unexpected_rows(frames.for_suite("ppp_entries"), expectation, {})
