"""GX runs every expectation for its counts, then only the failed ones again for their rows
(``gx_run.validate_batch``): the outcome is the one a single COMPLETE pass gives."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from ccms_attendance.validation import engine, gx_run
from ccms_attendance.validation.suite_definitions import SUITE_NAMES


def _one_complete_pass(suite_name: str, frame: pd.DataFrame, period: dict) -> engine.ValidationOutcome:
    """What ``validate_frame`` returned before the two passes: one COMPLETE pass of the whole suite."""
    suite = engine.load_suite_dict(suite_name)
    params = engine.expectation_parameters(period)
    data = engine.prepare_frame(frame, suite.get("meta", {}))
    source = gx_run.ephemeral_context().data_sources.add_pandas("reference")
    batch = gx_run.frame_batch(source, suite_name, data)
    suite_object = gx_run.gx_suite(gx_run.import_gx(), suite)
    result = batch.validate(suite_object, result_format=gx_run.ROWS_FORMAT, expectation_parameters=params)
    return engine.build_outcome(suite, frame, result, params)


@pytest.mark.parametrize("suite", SUITE_NAMES)
def test_counts_then_rows_of_the_failed_gives_the_one_pass_outcome(suite, frames):
    frame = frames.broken(suite)
    outcome = engine.validate_frame(suite, frame.copy(), context_values=frames.period)
    reference = _one_complete_pass(suite, frame.copy(), frames.period)

    assert outcome.result == reference.result  # verdicts, counts, statistics, actions, in suite order
    pd.testing.assert_frame_equal(outcome.quarantine, reference.quarantine)
    assert [dataclasses.asdict(f) for f in outcome.critical_failures] == [
        dataclasses.asdict(f) for f in reference.critical_failures
    ]
    assert [dataclasses.asdict(f) for f in outcome.warnings] == [dataclasses.asdict(f) for f in reference.warnings]
    failed = [e for e in outcome.result["expectations"] if not e["success"]]
    assert failed
    assert len(failed) < len(outcome.result["expectations"])


def test_only_the_failed_expectations_are_evaluated_for_their_rows(frames):
    outcome = engine.validate_frame(
        "brightwheel_extract", frames.broken("brightwheel_extract"), context_values=frames.period
    )
    results = sorted(outcome.gx_result["results"], key=lambda r: r["expectation_config"]["meta"]["ccms_position"])
    with_rows = [r["success"] for r in results if "unexpected_index_list" in r["result"]]
    assert with_rows
    assert not any(with_rows)
    assert sum(not r["success"] for r in results) == len(with_rows)
    # The data docs' copy of the result still holds every expectation, in GX's own result shape.
    assert len(results) == len(engine.load_suite_dict("brightwheel_extract")["expectations"])


def test_a_valid_frame_is_validated_once(frames, monkeypatch):
    calls = []
    original = gx_run.gx_suite

    def counting(gx, suite, positions=None):
        calls.append(positions)
        return original(gx, suite, positions)

    monkeypatch.setattr(gx_run, "gx_suite", counting)
    outcome = engine.validate_frame("ppp_entries", frames.for_suite("ppp_entries"), context_values=frames.period)
    assert outcome.success
    assert calls == [None]
