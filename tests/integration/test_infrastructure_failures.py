"""Issue 17.2: a failure of the machinery is no verdict on the data; the run fails, nothing loads.

Real steps against a real warehouse and real Great Expectations. (The same through real Airflow
with a session killed during validation: ``tests/e2e/test_faults_warehouse.py``.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil

import pytest
from support.ccms_steps import bw_record
from support.period_steps import AFTER_DEADLINES, run_ppp_period
from support.portal_state import PortalState, at
from support.roles import acting_as

from ccms_attendance.canonical import Source
from ccms_attendance.paths import EXPECTATIONS_DIR, KEPT_OUTCOMES_DIR
from ccms_attendance.periods import ServicePeriod, load_calendar
from ccms_attendance.pipeline.extract import extract_ccms_batch, extract_ppp
from ccms_attendance.pipeline.plan import plan_period
from ccms_attendance.pipeline.reconcile import UnfinishedInputsError, reconcile_run
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.pipeline.validate import ValidationCrashError, run_data_docs, validate_run, validate_source
from ccms_attendance.warehouse.sql_files import fetch_one

PERIOD = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
MONDAY = dt.date(2026, 11, 9)


def _run(run_id: str) -> RunContext:
    return RunContext(run_id=run_id, dag_id="ccms_attendance_period", period=PERIOD)


@pytest.fixture
def crashing_suites(tmp_path, monkeypatch):
    """The suites, with one PPP expectation GX cannot evaluate (its column is not in the frame)."""
    folder = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS_DIR, folder)
    suite = json.loads((folder / "ppp_entries.json").read_text())
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "no_such_column"},
            "meta": {},
            "severity": "critical",
        }
    )
    (folder / "ppp_entries.json").write_text(json.dumps(suite))
    monkeypatch.setenv("CCMS_EXPECTATIONS_DIR", str(folder))
    monkeypatch.setenv("CCMS_DATA_DOCS_DIR", str(tmp_path / "data_docs"))


def test_an_expectation_gx_cannot_evaluate_is_no_verdict_and_stops_the_run(conn, crashing_suites):
    state = PortalState(PERIOD).site("S-1", "CC-1").submission("S-1", PERIOD.start)
    state.voucher("111", "S-1").absence("S-1", "111", MONDAY).write(conn)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CCMS_EXPECTATIONS_DIR")
        run_ppp_period(conn, _run("run-1"))  # a complete version of the period
    before = fetch_one(conn, "period_checksums", {"period_start": PERIOD.start})

    run = _run("run-2")
    plan_period(conn, run, load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
    extract_ppp(conn, run)
    with pytest.raises(ValidationCrashError, match=r"could not evaluate 1 expectation.*no_such_column"):
        validate_source(conn, run, Source.PPP)
    # Nothing recorded: no result, no quarantine, the site not marked unusable.
    assert conn.execute("SELECT count(*) FROM reconciled.validation_result WHERE run_id = 'run-2'").fetchone()[0] == 0
    assert conn.execute("SELECT outcome FROM staging.site_extract WHERE run_id = 'run-2'").fetchall() == [
        ("retrieved",)
    ]
    with pytest.raises(UnfinishedInputsError, match="PPP: records were never validated"):
        reconcile_run(conn, run)
    assert fetch_one(conn, "period_checksums", {"period_start": PERIOD.start}) == before
    assert conn.execute("SELECT run_id FROM reconciled.period_load").fetchone()[0] == "run-1"


def _duplicated_records(license_number: str):
    if license_number == "CC-2":  # the same record twice: brightwheel's suite fails as a whole
        yield bw_record("CC-2", "222", MONDAY, "bw-same")
        yield bw_record("CC-2", "222", MONDAY, "bw-same")


def _ppp_and_brightwheel_staged(conn, brightwheel_records) -> RunContext:
    """S-1 keeps the portal (PPP), S-2 moved to brightwheel: run-1 planned, both sources staged."""
    state = PortalState(PERIOD).site("S-1", "CC-1").submission("S-1", PERIOD.start).voucher("111", "S-1")
    state.site("S-2", "CC-2").submission("S-2", dt.date(2026, 10, 11)).voucher("222", "S-2")
    state.selection("S-2", "BRIGHTWHEEL", dt.date(2026, 10, 25), chosen_at=at(dt.date(2026, 10, 12)))
    state.absence("S-1", "111", MONDAY).write(conn)
    run = _run("run-1")
    plan_period(conn, run, load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
    extract_ppp(conn, run)
    extract_ccms_batch(conn, run, Source.BRIGHTWHEEL, 0, brightwheel_records, ())
    return run


def test_the_run_records_no_source_verdict_until_every_source_was_evaluated(conn, crashing_suites, tmp_path):
    run = _ppp_and_brightwheel_staged(conn, _duplicated_records)  # brightwheel's records break its suite
    recorded = "SELECT suite_name, success FROM reconciled.validation_result WHERE run_id = 'run-1' ORDER BY 1"
    outcomes = "SELECT source, site_id, outcome FROM staging.site_extract WHERE run_id = 'run-1' ORDER BY 1, 2"
    kept = run_data_docs(run) / KEPT_OUTCOMES_DIR

    # PPP's suite cannot be evaluated: brightwheel's verdict is not recorded either, so a retry
    # judges the same rows (a recorded verdict would have moved rows and marked S-2 unusable).
    with acting_as(conn), pytest.raises(ValidationCrashError, match=r"nothing was recorded for any source.*PPP"):
        validate_run(conn, run)
    assert conn.execute(recorded).fetchall() == []
    untouched = [("BRIGHTWHEEL", "S-2", "retrieved"), ("PPP", "S-1", "retrieved"), ("PPP", "S-2", "retrieved")]
    assert conn.execute(outcomes).fetchall() == untouched
    assert not kept.exists()

    os.environ.pop("CCMS_EXPECTATIONS_DIR")  # the retry, with the suite mended
    with acting_as(conn):
        summaries = validate_run(conn, run)
    assert [(s.source, s.rows, s.success) for s in summaries] == [
        ("PPP", 1, True),
        ("ALLIANCE_CORE", 0, True),
        ("BRIGHTWHEEL", 2, False),
        ("PLAYGROUND", 0, True),
    ]
    assert "bw-same" in summaries[2].error
    assert conn.execute(recorded).fetchall() == [("brightwheel_extract", False), ("ppp_entries", True)]
    assert conn.execute(outcomes).fetchall() == [("BRIGHTWHEEL", "S-2", "failed_validation"), *untouched[1:]]
    assert sorted(path.name for path in kept.iterdir()) == ["brightwheel_extract.json", "ppp_entries.json"]


def _mostly_backwards(license_number: str):
    if license_number == "CC-2":  # one good record, one with check-out before check-in: half quarantined
        yield bw_record("CC-2", "222", MONDAY, "bw-ok")
        backwards = bw_record("CC-2", "222", MONDAY + dt.timedelta(days=1), "bw-backwards")
        yield dataclasses.replace(backwards, check_in=at(backwards.attendance_date, 17), check_out=at(MONDAY, 8))


def _good_records(license_number: str):
    if license_number == "CC-2":
        yield bw_record("CC-2", "222", MONDAY, "bw-ok")


def test_a_recorded_verdict_is_kept_until_its_source_is_staged_again(conn, monkeypatch, tmp_path):
    monkeypatch.setenv("CCMS_DATA_DOCS_DIR", str(tmp_path / "data_docs"))
    run = _ppp_and_brightwheel_staged(conn, _mostly_backwards)
    recorded = "SELECT suite_name, success, evaluated, quarantined_rows FROM reconciled.validation_result ORDER BY 1"
    with acting_as(conn):
        first = validate_run(conn, run)
    assert (first[2].source, first[2].success, first[2].quarantined) == ("BRIGHTWHEEL", False, 1)
    verdicts = conn.execute(recorded).fetchall()
    assert verdicts == [("brightwheel_extract", False, 2, 1), ("ppp_entries", True, 1, 0)]

    # The task again (PPP's extract cleared with its downstream tasks): brightwheel's one good record
    # left would pass its suite, but its verdict stands; PPP, staged again, is judged again.
    extract_ppp(conn, run)
    with acting_as(conn):
        again = validate_run(conn, run)
    assert [(s.source, s.success) for s in again] == [(s.source, s.success) for s in first]
    assert "earlier try" in again[2].error
    assert conn.execute(recorded).fetchall() == verdicts

    # brightwheel staged again, with good data: not reconciled before it is judged, then judged anew.
    extract_ccms_batch(conn, run, Source.BRIGHTWHEEL, 0, _good_records, ())
    with acting_as(conn), pytest.raises(UnfinishedInputsError, match="BRIGHTWHEEL: records were never validated"):
        reconcile_run(conn, run)
    with acting_as(conn):
        third = validate_run(conn, run)
        reconcile_run(conn, run)  # every source judged since it was staged
    assert (third[2].success, third[2].rows) == (True, 1)
    assert conn.execute(recorded).fetchall()[0] == ("brightwheel_extract", True, 1, 0)
