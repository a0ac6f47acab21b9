"""Pipeline steps against a real warehouse: voucher filtering, quarantine, failed vendors, atomic loads,
the period lifecycle (the validation gates: test_pipeline_gates.py).
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import psycopg
import pytest
from support.ccms_steps import (
    MONDAY,
    PERIOD,
    VendorDown,
    ccms_state,
    extract_batch,
    mentions,
    period_rows,
    plan_run,
    site_extractor,
    stage_and_reconcile,
)
from support.period_steps import AFTER_DEADLINES, run_ppp_period
from support.portal_state import PortalState, at
from support.roles import acting_as

from ccms_attendance.canonical import Source
from ccms_attendance.periods import load_calendar
from ccms_attendance.pipeline.extract import extract_ccms_batch
from ccms_attendance.pipeline.load import NothingToLoadError, load_period
from ccms_attendance.pipeline.plan import plan_period
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.rules.lifecycle import PeriodNotEndedError


@pytest.fixture
def run(conn) -> RunContext:
    return plan_run(conn)


def test_extract_keeps_voucher_children_quarantines_rejects_and_records_failures(conn, run):
    summary = extract_batch(conn, run)

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
    assert mentions(conn, "PRIVATE-PAY-7") == 0


def test_a_batch_logs_structured_progress_every_n_sites_and_counts_failures_by_kind(conn, run, caplog):
    with caplog.at_level(logging.INFO, logger="ccms_attendance.pipeline.extract"):
        summary = extract_ccms_batch(conn, run, Source.BRIGHTWHEEL, 0, site_extractor, (VendorDown,), progress_every=1)
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Batch progress: ")]
    assert [json.loads(m.removeprefix("Batch progress: ")) for m in progress] == [
        {"batch_no": 0, "records": 1, "sites": 2, "sites_done": 1, "sites_failed": 0, "source": "BRIGHTWHEEL"}
    ]
    assert summary.failure_kinds == {"transient": 1}  # an error without a kind that may be retried


def test_retried_extract_replaces_its_own_rows(conn, run):
    extract_batch(conn, run)
    extract_batch(conn, run)
    assert conn.execute("SELECT count(*) FROM staging.source_record").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM staging.quarantine").fetchone()[0] == 3
    assert conn.execute("SELECT count(*) FROM staging.exception").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM staging.site_extract").fetchone()[0] == 2


def test_a_batch_copies_its_records_while_its_later_sites_are_still_fetched(conn, run, warehouse):
    """The first site's records go to staging while the second site is fetched (not all held first):
    the COPY into staging.source_record is under way when the batch starts reading site CC-2."""
    copies_under_way = []

    def extractor(license_number: str):
        if license_number == "CC-2":  # runs when the batch starts reading this site's items
            with psycopg.connect(warehouse.conninfo, autocommit=True) as other:
                copies_under_way.extend(
                    other.execute(
                        "SELECT relid::regclass::text FROM pg_stat_progress_copy WHERE command = 'COPY FROM'"
                    ).fetchall()
                )
        yield from site_extractor(license_number)

    with acting_as(conn):
        summary = extract_ccms_batch(conn, run, Source.BRIGHTWHEEL, 0, extractor, (VendorDown,))

    assert copies_under_way == [("staging.source_record",)]
    assert (summary.records, summary.sites_failed) == (1, 1)  # the same batch as without streaming
    assert conn.execute("SELECT count(*) FROM staging.source_record").fetchone()[0] == 1


def test_a_batch_that_breaks_off_stages_nothing(conn, run):
    """An error that is no site's failure, raised after the first site's records went out, aborts
    the COPY with the batch's transaction: nothing of the batch is staged, the error reaches the task."""

    def extractor(license_number: str):
        if license_number == "CC-2":
            raise RuntimeError("the extractor itself is broken")
        yield from site_extractor(license_number)

    with acting_as(conn), pytest.raises(RuntimeError, match="extractor itself is broken"):
        extract_ccms_batch(conn, run, Source.BRIGHTWHEEL, 0, extractor, (VendorDown,), sites_in_flight=2)
    for table in ("source_record", "quarantine", "site_extract", "exception"):
        assert conn.execute(f"SELECT count(*) FROM staging.{table}").fetchone()[0] == 0, table


def test_failed_vendor_site_is_incomplete_and_gets_no_absences(conn, run):
    stage_and_reconcile(conn, run)
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
    stage_and_reconcile(conn, run)
    with acting_as(conn):
        loaded = load_period(conn, run)
    steps = {"partitions", "lock", "swap_rows", "changed_children", "absence_limits", "checksums", "audit", "analyze"}
    assert set(loaded["timings"]) == steps
    assert all(seconds >= 0 for seconds in loaded["timings"].values())
    audited = conn.execute("SELECT timings FROM reconciled.run_audit WHERE run_id = %s", (run.run_id,)).fetchone()[0]
    assert audited == loaded["timings"]


def test_load_without_reconcile_is_refused_and_keeps_the_previous_version(conn, run):
    stage_and_reconcile(conn, run)
    with acting_as(conn):
        load_period(conn, run)
    before = period_rows(conn)

    rerun = RunContext(run_id="test-run-2", dag_id="ccms_attendance_period", period=PERIOD)
    plan_period(conn, rerun, load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
    with pytest.raises(NothingToLoadError, match="rerun the reconcile task"):
        load_period(conn, rerun)
    assert period_rows(conn) == before


def test_a_load_failing_midway_leaves_the_previous_version_intact(conn, run):
    stage_and_reconcile(conn, run)
    with acting_as(conn):
        load_period(conn, run)
    before = period_rows(conn)

    rerun = RunContext(run_id="test-run-2", dag_id="ccms_attendance_period", period=PERIOD)
    plan_period(conn, rerun, load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
    stage_and_reconcile(conn, rerun)
    # Corrupt the staged output: the same child-day twice makes the swap's INSERT fail halfway.
    conn.execute(
        "INSERT INTO staging.daily_attendance SELECT * FROM staging.daily_attendance"
        " WHERE run_id = 'test-run-2' LIMIT 1"
    )
    with pytest.raises(psycopg.errors.UniqueViolation):
        load_period(conn, rerun)
    assert period_rows(conn) == before
    assert conn.execute("SELECT run_id FROM reconciled.period_load").fetchone()[0] == "test-run-1"


def test_reloading_the_same_run_keeps_the_replaced_version(conn, run):
    stage_and_reconcile(conn, run)
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
    ccms_state().write(conn)
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
