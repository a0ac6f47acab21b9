"""Pipeline steps against a real warehouse: what stops a run before anything loads, and what a failed
validation does (rows quarantined with their suite and expectation, a vendor made unusable).
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from support.ccms_steps import (
    MONDAY,
    WEDNESDAY,
    VendorDown,
    bw_record,
    extract_batch,
    plan_run,
    stage_and_reconcile,
)
from support.portal_state import at

from ccms_attendance.canonical import Source
from ccms_attendance.pipeline.extract import extract_ccms_batch, extract_ppp
from ccms_attendance.pipeline.load import NothingToLoadError, load_period
from ccms_attendance.pipeline.reconcile import (
    ReconciledValidationError,
    UnfinishedInputsError,
    check_and_stage,
    ensure_valid,
    reconcile_run,
)
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.pipeline.validate import validate_source


@pytest.fixture
def run(conn) -> RunContext:
    return plan_run(conn)


def test_records_whose_validation_never_completed_stop_the_run_before_anything_is_staged(conn, run):
    # An infrastructure failure (the validate task never completed) is no verdict on the data: the
    # run refuses to reconcile, so its sites are not made incomplete and nothing can load.
    extract_batch(conn, run)
    extract_ppp(conn, run)
    assert validate_source(conn, run, Source.PPP).success  # BRIGHTWHEEL's validate "crashed"
    with pytest.raises(UnfinishedInputsError, match="BRIGHTWHEEL: records were never validated") as refused:
        reconcile_run(conn, run)
    assert "PPP" not in str(refused.value)
    assert "nothing will load" in str(refused.value)
    assert conn.execute("SELECT count(*) FROM staging.site_period").fetchone()[0] == 0
    with pytest.raises(NothingToLoadError):
        load_period(conn, run)


def test_sites_without_an_extraction_result_stop_the_run(conn, run):
    # The brightwheel extract task never completed (e.g. its session was killed, retries used up):
    # only PPP's rows are staged. That is no verdict on S-1 and S-2's data either.
    extract_ppp(conn, run)
    assert validate_source(conn, run, Source.PPP).success
    with pytest.raises(UnfinishedInputsError, match=r"BRIGHTWHEEL: no extraction result for 2 site\(s\) \(S-1, S-2\)"):
        reconcile_run(conn, run)


def test_reconciled_output_breaking_a_critical_expectation_stops_the_run(conn, run):
    stage_and_reconcile(conn, run)
    staged_before = _staged_output(conn, run)
    assert staged_before[0] > 0  # the valid output of the first reconcile is staged
    result = reconcile_run(conn, run)
    broken = dataclasses.replace(result, daily=pd.concat([result.daily, result.daily.head(1)], ignore_index=True))
    with pytest.raises(ReconciledValidationError, match="reconciled_daily_attendance"):
        ensure_valid(run, check_and_stage(conn, run, broken))
    persisted = conn.execute(
        "SELECT suite_name, success FROM reconciled.validation_result WHERE run_id = %s ORDER BY 1", (run.run_id,)
    ).fetchall()
    assert ("reconciled_daily_attendance", False) in persisted
    # Checked while it was being staged: the broken output's COPY was rolled back, not committed.
    assert _staged_output(conn, run) == staged_before


def _staged_output(conn, run) -> tuple[int, int]:
    return conn.execute(
        "SELECT (SELECT count(*) FROM staging.daily_attendance WHERE run_id = %(r)s),"
        " (SELECT count(*) FROM staging.absence_summary WHERE run_id = %(r)s)",
        {"r": run.run_id},
    ).fetchone()


def _bad_rows_extractor(license_number: str):
    if license_number != "CC-1":
        return
    yield bw_record("CC-1", "111", MONDAY, "bw-ok")
    backwards = bw_record("CC-1", "111", WEDNESDAY, "bw-backwards")
    yield dataclasses.replace(backwards, check_in=at(WEDNESDAY, 17, 0), check_out=at(WEDNESDAY, 8, 0))


def test_rows_failing_row_level_expectations_are_quarantined_with_suite_and_expectation(conn, run):
    extract_ccms_batch(conn, run, Source.BRIGHTWHEEL, 0, _bad_rows_extractor, (VendorDown,))
    summary = validate_source(conn, run, Source.BRIGHTWHEEL)

    assert summary.rows == 2
    assert summary.quarantined == 1
    assert conn.execute("SELECT source_record_id FROM staging.source_record").fetchall() == [("bw-ok",)]
    moved = conn.execute(
        "SELECT source_record_id, child_id, attendance_date, reason FROM staging.quarantine"
    ).fetchall()
    assert len(moved) == 1
    assert moved[0][:3] == ("bw-backwards", "111", WEDNESDAY)
    assert "brightwheel_extract" in moved[0][3]
    assert "check_out" in moved[0][3]
    stored = conn.execute(
        "SELECT suite_name, evaluated, quarantined_rows FROM reconciled.validation_result WHERE run_id = %s",
        (run.run_id,),
    ).fetchall()
    assert stored == [("brightwheel_extract", 2, 1)]


def _duplicating_extractor(license_number: str):
    if license_number == "CC-1":
        yield bw_record("CC-1", "111", MONDAY, "bw-same")
        yield bw_record("CC-1", "111", MONDAY, "bw-same")


def test_a_critical_table_level_failure_makes_the_vendor_unusable_not_absent(conn, run):
    extract_ccms_batch(conn, run, Source.BRIGHTWHEEL, 0, _duplicating_extractor, (VendorDown,))
    extract_ppp(conn, run)
    summary = validate_source(conn, run, Source.BRIGHTWHEEL)

    assert not summary.success
    assert "brightwheel_extract" in summary.error
    assert "bw-same" in summary.error  # sample bad rows are named
    validate_source(conn, run, Source.PPP)
    result = reconcile_run(conn, run)
    states = result.site_period.set_index("site_id")
    assert not states.loc["S-1", "complete"]
    assert "failed validation" in states.loc["S-1", "incomplete_reason"]
    assert (result.daily["basis"] == "no_check_in").sum() == 0
