"""The bench's plain-pandas baseline makes exactly the GX suites' checks: same verdicts, same row counts.

``devtools/bench/pandas_checks.py`` is the floor that validation is compared with (issue 20:
validate within 2x the same checks in plain pandas). A baseline that skipped an expectation, or
judged one differently, would make that comparison meaningless: each suite here runs through GX
(``validate_frame``) and through the baseline on the same broken frame, and every expectation's
success and unexpected-row count must agree.
"""

from __future__ import annotations

import pytest

from ccms_attendance.validation.engine import load_suite_dict
from ccms_attendance.validation.suite_definitions import SUITE_NAMES
from devtools.bench.pandas_checks import check_suite, unexpected_rows


@pytest.mark.parametrize("suite", SUITE_NAMES)
def test_baseline_agrees_with_gx_on_every_expectation(suite, frames, validate):
    frame = frames.broken(suite)
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
