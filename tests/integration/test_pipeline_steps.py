"""Pipeline steps against a real warehouse: voucher filtering, quarantine, failures, atomic loads."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging

import pandas as pd
import psycopg
import pytest
from psycopg import sql
from support.period_steps import AFTER_DEADLINES, run_ppp_period
from support.portal_state import PortalState, at
from support.roles import acting_as

from ccms_attendance.canonical import AttendanceRecord, AttendanceStatus, RejectedRecord, SiteSubmission, Source
from ccms_attendance.periods import ServicePeriod, load_calendar
from ccms_attendance.pipeline.extract import extract_ccms_batch, extract_ppp
from ccms_attendance.pipeline.load import NothingToLoadError, load_period
from ccms_attendance.pipeline.plan import plan_period
from ccms_attendance.pipeline.reconcile import (
    ReconciledValidationError,
    UnfinishedInputsError,
    ensure_valid,
    reconcile_run,
    stage_reconciled,
    validate_reconciled,
)
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.pipeline.validate import validate_source
from ccms_attendance.rules.lifecycle import PeriodNotEndedError

PERIOD = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
MONDAY = dt.date(2026, 11, 9)
WEDNESDAY = dt.date(2026, 11, 11)


class VendorDown(Exception):
    pass


def _ccms_state() -> PortalState:
    state = PortalState(PERIOD)
    for site_id, license_number in (("S-1", "CC-1"), ("S-2", "CC-2")):
        state.site(site_id, license_number).submission(site_id, dt.date(2026, 10, 11))
        state.selection(site_id, "BRIGHTWHEEL", dt.date(2026, 10, 25), chosen_at=at(dt.date(2026, 10, 12)))
    state.voucher("111", "S-1").voucher("112", "S-1").voucher("222", "S-2")
    state.absence("S-1", "111", MONDAY)  # typed into a read-only portal
    return state


def _record(license_number: str, child_id: str, day: dt.date, record_id: str) -> AttendanceRecord:
    return AttendanceRecord(
        source=Source.BRIGHTWHEEL,
        license_number=license_number,
        child_id=child_id,
        attendance_date=day,
        status=AttendanceStatus.PRESENT,
        source_record_id=record_id,
        check_in=at(day, 7, 45),
        check_out=at(day, 16, 30),
    )


def _site_extractor(license_number: str):
    if license_number == "CC-2":
        raise VendorDown("BRIGHTWHEEL site CC-2 period 2026-11-08..2026-11-21: HTTP 503 after 5 attempts")
    yield _record("CC-1", "111", MONDAY, "bw-1")
    yield _record("CC-1", "PRIVATE-PAY-7", MONDAY, "bw-2")  # no state voucher
    yield _record("CC-9", "111", MONDAY + dt.timedelta(days=1), "bw-3")  # another site's license
    yield RejectedRecord(Source.BRIGHTWHEEL, "CC-1", "bw-4", "111", WEDNESDAY, "check-out before check-in")
    yield RejectedRecord(Source.BRIGHTWHEEL, "CC-1", "bw-5", "PRIVATE-PAY-7", None, "missing attendance date")
    yield RejectedRecord(Source.BRIGHTWHEEL, "CC-1", "bw-6", "112", None, "missing attendance date")
    yield SiteSubmission(Source.BRIGHTWHEEL, "CC-1", submitted=True, submitted_at=at(PERIOD.end, 18))


@pytest.fixture
def run(conn) -> RunContext:
    _ccms_state().write(conn)
    context = RunContext(run_id="test-run-1", dag_id="ccms_attendance_period", period=PERIOD)
    with acting_as(conn):  # the steps of the helpers below run with the loader's privileges
        plan = plan_period(conn, context, load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
    assert plan.batches[str(Source.BRIGHTWHEEL)] == [0]
    return context


def _extract(conn, run):
    with acting_as(conn):
        return extract_ccms_batch(conn, run, Source.BRIGHTWHEEL, 0, _site_extractor, (VendorDown,))


def _stage_and_reconcile(conn, run, validate=True):
    """Extract, validate and reconcile, as the DAG's tasks do."""
    _extract(conn, run)
    with acting_as(conn):
        extract_ppp(conn, run)
        if validate:
            for source in (Source.PPP, Source.BRIGHTWHEEL):
                assert validate_source(conn, run, source).success
        result = reconcile_run(conn, run)
        ensure_valid(run, validate_reconciled(conn, run, result))
        stage_reconciled(conn, run, result)


def test_extract_keeps_voucher_children_quarantines_rejects_and_records_failures(conn, run):
    summary = _extract(conn, run)

    assert (summary.sites, summary.sites_failed, summary.records, summary.dropped_non_voucher) == (2, 1, 1, 2)
    assert summary.quarantined == 3
    assert "CC-2" in summary.failures[0]
    records = conn.execute("SELECT site_id, child_id, source_record_id FROM staging.source_record").fetchall()
    assert records == [("S-1", "111", "bw-1")]
    quarantine = conn.execute(
        "SELECT source_record_id, child_id, reason FROM staging.quarantine ORDER BY source_record_id"
    ).fetchall()
    assert quarantine == [
        ("bw-3", "111", "record is for another site's license number"),  # never the vendor's text
        ("bw-4", "111", "check-out before check-in"),
        ("bw-6", "112", "missing attendance date"),
    ]
    # The non-voucher child's rejected record (bw-5) is only counted, in a site-level exception.
    unattributed = conn.execute("SELECT site_id, child_id, detail, record_count FROM staging.exception").fetchall()
    assert len(unattributed) == 1
    assert unattributed[0][:2] == ("S-1", None)
    assert "1 x missing attendance date" in unattributed[0][2]
    assert unattributed[0][3] == 1  # the count as a number too (the provider feedback reads it)
    outcomes = conn.execute(
        "SELECT site_id, outcome, records, dropped_non_voucher, rejected, error IS NOT NULL FROM staging.site_extract"
    ).fetchall()
    assert sorted(outcomes) == [("S-1", "retrieved", 1, 2, 3, False), ("S-2", "failed", 0, 0, 0, True)]
    assert _mentions(conn, "PRIVATE-PAY-7") == 0


def test_a_batch_logs_structured_progress_every_n_sites_and_counts_failures_by_kind(conn, run, caplog):
    with caplog.at_level(logging.INFO, logger="ccms_attendance.pipeline.extract"):
        summary = extract_ccms_batch(conn, run, Source.BRIGHTWHEEL, 0, _site_extractor, (VendorDown,), progress_every=1)
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Batch progress: ")]
    assert [json.loads(m.removeprefix("Batch progress: ")) for m in progress] == [
        {"batch_no": 0, "records": 1, "sites": 2, "sites_done": 1, "sites_failed": 0, "source": "BRIGHTWHEEL"}
    ]
    assert summary.failure_kinds == {"transient": 1}  # an error without a kind that may be retried


def test_retried_extract_replaces_its_own_rows(conn, run):
    _extract(conn, run)
    _extract(conn, run)
    assert conn.execute("SELECT count(*) FROM staging.source_record").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM staging.quarantine").fetchone()[0] == 3
    assert conn.execute("SELECT count(*) FROM staging.exception").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM staging.site_extract").fetchone()[0] == 2


def test_failed_vendor_site_is_incomplete_and_gets_no_absences(conn, run):
    _stage_and_reconcile(conn, run)
    with acting_as(conn):
        load_period(conn, run)

    site_period = conn.execute(
        "SELECT site_id, governing_source, complete, incomplete_reason FROM reconciled.site_period ORDER BY 1"
    ).fetchall()
    assert site_period[0] == ("S-1", "BRIGHTWHEEL", True, None)
    assert site_period[1][:3] == ("S-2", "BRIGHTWHEEL", False)
    assert "BRIGHTWHEEL data unavailable: " in site_period[1][3]
    assert "HTTP 503" in site_period[1][3]
    s2 = conn.execute(
        "SELECT status, basis, day_code, count(*) FROM reconciled.daily_attendance"
        " WHERE site_id = 'S-2' GROUP BY 1, 2, 3"
    ).fetchall()
    assert s2 == [("pending", "data_unavailable", None, 10)]  # missing data: no status, no code
    s1 = conn.execute(
        "SELECT status, basis, count(*) FROM reconciled.daily_attendance WHERE site_id = 'S-1' GROUP BY 1, 2 ORDER BY 1"
    ).fetchall()
    # A quarantined record blocks inference: 111's Tuesday (bw-3, wrong license) and Wednesday (bw-4),
    # and, having no usable day, all of 112's period (bw-6). On the seven other days nobody at S-1 has
    # any record: those are blank days (no_attendance_for_day), not absences.
    assert s1 == [("present", "recorded", 1)]
    blank = conn.execute(
        "SELECT count(*) FROM reconciled.exception WHERE kind = 'no_attendance_for_day' AND site_id = 'S-1'"
    ).fetchone()[0]
    assert blank == 7
    withheld = conn.execute(
        "SELECT child_id, count(*), min(attendance_date) FROM reconciled.exception"
        " WHERE kind = 'status_withheld_quarantined_record' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    # 112: Monday to Wednesday (the other days are blank days, reported once per site-day).
    assert withheld == [("111", 2, MONDAY + dt.timedelta(days=1)), ("112", 3, MONDAY)]
    summary = conn.execute(
        "SELECT child_id, enrolled_days, absent_days FROM reconciled.absence_summary WHERE site_id = 'S-1' ORDER BY 1"
    ).fetchall()
    assert summary == [("111", 10, 0), ("112", 10, 0)]
    incomplete_children = conn.execute(
        "SELECT child_id FROM reconciled.absence_summary WHERE site_id = 'S-1' AND NOT complete ORDER BY 1"
    ).fetchall()
    assert incomplete_children == [("111",), ("112",)]  # each has days without a status
    kinds = {r[0] for r in conn.execute("SELECT kind FROM reconciled.exception").fetchall()}
    assert {"portal_entry_while_ccms", "source_disagreement", "site_period_incomplete"} <= kinds


def test_the_load_records_where_its_time_went(conn, run):
    _stage_and_reconcile(conn, run)
    with acting_as(conn):
        loaded = load_period(conn, run)
    steps = {"lock", "swap_rows", "changed_children", "absence_limits", "checksums", "audit"}
    assert set(loaded["timings"]) == steps
    assert all(seconds >= 0 for seconds in loaded["timings"].values())
    audited = conn.execute("SELECT timings FROM reconciled.run_audit WHERE run_id = %s", (run.run_id,)).fetchone()[0]
    assert audited == loaded["timings"]


def test_load_without_reconcile_is_refused_and_keeps_the_previous_version(conn, run):
    _stage_and_reconcile(conn, run)
    with acting_as(conn):
        load_period(conn, run)
    before = _period_rows(conn)

    rerun = RunContext(run_id="test-run-2", dag_id="ccms_attendance_period", period=PERIOD)
    plan_period(conn, rerun, load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
    with pytest.raises(NothingToLoadError, match="rerun the reconcile task"):
        load_period(conn, rerun)
    assert _period_rows(conn) == before


def test_a_load_failing_midway_leaves_the_previous_version_intact(conn, run):
    _stage_and_reconcile(conn, run)
    with acting_as(conn):
        load_period(conn, run)
    before = _period_rows(conn)

    rerun = RunContext(run_id="test-run-2", dag_id="ccms_attendance_period", period=PERIOD)
    plan_period(conn, rerun, load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
    _stage_and_reconcile(conn, rerun)
    # Corrupt the staged output: the same child-day twice makes the swap's INSERT fail halfway.
    conn.execute(
        "INSERT INTO staging.daily_attendance SELECT * FROM staging.daily_attendance"
        " WHERE run_id = 'test-run-2' LIMIT 1"
    )
    with pytest.raises(psycopg.errors.UniqueViolation):
        load_period(conn, rerun)
    assert _period_rows(conn) == before
    assert conn.execute("SELECT run_id FROM reconciled.period_load").fetchone()[0] == "test-run-1"


def _period_rows(conn):
    return conn.execute(
        "SELECT site_id, child_id, attendance_date, status, run_id FROM reconciled.daily_attendance ORDER BY 1, 2, 3"
    ).fetchall()


def _mentions(conn, value: str) -> int:
    """How many rows of any pipeline-written table hold ``value`` in any text column."""
    tables = conn.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns"
        " WHERE table_schema IN ('staging', 'reconciled') AND data_type = 'text'"
    ).fetchall()
    total = 0
    for schema, table, column in tables:
        total += conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE {} LIKE %s").format(
                sql.Identifier(schema, table), sql.Identifier(column)
            ),
            (f"%{value}%",),
        ).fetchone()[0]
    return total


def test_records_whose_validation_never_completed_stop_the_run_before_anything_is_staged(conn, run):
    # An infrastructure failure (the validate task never completed) is no verdict on the data: the
    # run refuses to reconcile, so its sites are not made incomplete and nothing can load.
    _extract(conn, run)
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
    _stage_and_reconcile(conn, run)
    result = reconcile_run(conn, run)
    broken = dataclasses.replace(result, daily=pd.concat([result.daily, result.daily.head(1)], ignore_index=True))
    with pytest.raises(ReconciledValidationError, match="reconciled_daily_attendance"):
        ensure_valid(run, validate_reconciled(conn, run, broken))
    persisted = conn.execute(
        "SELECT suite_name, success FROM reconciled.validation_result WHERE run_id = %s ORDER BY 1", (run.run_id,)
    ).fetchall()
    assert ("reconciled_daily_attendance", False) in persisted


def _bad_rows_extractor(license_number: str):
    if license_number != "CC-1":
        return
    yield _record("CC-1", "111", MONDAY, "bw-ok")
    backwards = _record("CC-1", "111", WEDNESDAY, "bw-backwards")
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
        yield _record("CC-1", "111", MONDAY, "bw-same")
        yield _record("CC-1", "111", MONDAY, "bw-same")


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


def test_reloading_the_same_run_keeps_the_replaced_version(conn, run):
    _stage_and_reconcile(conn, run)
    load_period(conn, run)
    load_period(conn, run)  # e.g. the load task cleared and run again

    versions = conn.execute(
        "SELECT run_id, superseded_by_run FROM history.period_version ORDER BY version_no"
    ).fetchall()
    assert versions == [("test-run-1", "test-run-1"), ("test-run-1", None)]
    kept = conn.execute("SELECT count(DISTINCT superseded_at), count(*) FROM history.daily_attendance").fetchone()
    assert kept == (1, conn.execute("SELECT count(*) FROM reconciled.daily_attendance").fetchone()[0])


# --- the period lifecycle ----------------------------------------------------------------------


def test_an_open_period_is_refused_at_plan_and_nothing_is_written(conn):
    _ccms_state().write(conn)
    context = RunContext(run_id="test-open", dag_id="ccms_attendance_period", period=PERIOD)
    on_the_last_day = at(PERIOD.end, 15)
    with pytest.raises(PeriodNotEndedError, match=r"Service period 2026-11-08\.\.2026-11-21 has not ended"):
        plan_period(conn, context, load_calendar(), batch_count=1, as_of=on_the_last_day)
    for table in ("ref.service_period", "reconciled.run_audit", "staging.site_plan", "staging.exception"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_a_provisional_load_then_the_final_one(conn):
    state = PortalState(PERIOD)
    state.site("S-P", "CC-P").voucher("301", "S-P").absence("S-P", "301", MONDAY)
    state.write(conn)
    provisional = RunContext(run_id="provisional__2026-11-08", dag_id="ccms_attendance_period", period=PERIOD)
    run_ppp_period(conn, provisional, as_of=at(PERIOD.end + dt.timedelta(days=2), 6))
    assert conn.execute(
        "SELECT status, day_code, count(*) FROM reconciled.daily_attendance GROUP BY 1, 2"
    ).fetchall() == [("pending", None, 10)]
    assert conn.execute("SELECT lifecycle FROM reconciled.period_load").fetchone() == ("provisional",)

    # The provider submits the period; the final run (here before the deadline: every site submitted).
    conn.execute(
        "INSERT INTO portal.period_submission VALUES ('S-P', %s, %s, 'director')",
        (PERIOD.start, at(PERIOD.end + dt.timedelta(days=5))),
    )
    final = RunContext(run_id="final__2026-11-08", dag_id="ccms_attendance_period", period=PERIOD)
    run_ppp_period(conn, final, as_of=at(PERIOD.end + dt.timedelta(days=6), 6))
    assert conn.execute(
        "SELECT status, day_code, count(*) FROM reconciled.daily_attendance GROUP BY 1, 2 ORDER BY 1"
    ).fetchall() == [("absent", "AB", 1), ("present", "PR", 9)]
    assert conn.execute("SELECT lifecycle, run_id FROM reconciled.period_load").fetchone() == (
        "final",
        "final__2026-11-08",
    )
    # The provisional version is kept, marked as such, and superseded by the final run.
    assert conn.execute(
        "SELECT run_id, lifecycle, superseded_by_run FROM history.period_version ORDER BY version_no"
    ).fetchall() == [
        ("provisional__2026-11-08", "provisional", "final__2026-11-08"),
        ("final__2026-11-08", "final", None),
    ]
    assert conn.execute(
        "SELECT status, count(*) FROM history.daily_attendance WHERE run_id = 'provisional__2026-11-08' GROUP BY 1"
    ).fetchall() == [("pending", 10)]
