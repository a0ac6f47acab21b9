"""Two brightwheel sites through the pipeline's steps, without Airflow (tests/integration/test_pipeline_*.py):
S-1's vendor answers (a present record, a non-voucher child, records it rejects, a submission), S-2's is down.
"""

from __future__ import annotations

import datetime as dt

import psycopg
from psycopg import sql

from ccms_attendance.canonical import AttendanceRecord, AttendanceStatus, RejectedRecord, SiteSubmission, Source
from ccms_attendance.periods import ServicePeriod, load_calendar
from ccms_attendance.pipeline.extract import extract_ccms_batch, extract_ppp
from ccms_attendance.pipeline.plan import plan_period
from ccms_attendance.pipeline.reconcile import check_and_stage, ensure_valid, reconcile_run
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.pipeline.validate import validate_source
from support.period_steps import AFTER_DEADLINES
from support.portal_state import PortalState, at
from support.roles import acting_as

PERIOD = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
MONDAY = dt.date(2026, 11, 9)
WEDNESDAY = dt.date(2026, 11, 11)


class VendorDown(Exception):
    pass


def ccms_state() -> PortalState:
    state = PortalState(PERIOD)
    for site_id, license_number in (("S-1", "CC-1"), ("S-2", "CC-2")):
        state.site(site_id, license_number).submission(site_id, dt.date(2026, 10, 11))
        state.selection(site_id, "BRIGHTWHEEL", dt.date(2026, 10, 25), chosen_at=at(dt.date(2026, 10, 12)))
    state.voucher("111", "S-1").voucher("112", "S-1").voucher("222", "S-2")
    state.absence("S-1", "111", MONDAY)  # typed into a read-only portal
    return state


def bw_record(license_number: str, child_id: str, day: dt.date, record_id: str) -> AttendanceRecord:
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


def site_extractor(license_number: str):
    if license_number == "CC-2":
        raise VendorDown("BRIGHTWHEEL site CC-2 period 2026-11-08..2026-11-21: HTTP 503 after 5 attempts")
    yield bw_record("CC-1", "111", MONDAY, "bw-1")
    yield bw_record("CC-1", "PRIVATE-PAY-7", MONDAY, "bw-2")  # no state voucher
    yield bw_record("CC-9", "111", MONDAY + dt.timedelta(days=1), "bw-3")  # another site's license
    yield RejectedRecord(Source.BRIGHTWHEEL, "CC-1", "bw-4", "111", WEDNESDAY, "check-out before check-in")
    yield RejectedRecord(Source.BRIGHTWHEEL, "CC-1", "bw-5", "PRIVATE-PAY-7", None, "missing attendance date")
    yield RejectedRecord(Source.BRIGHTWHEEL, "CC-1", "bw-6", "112", None, "missing attendance date")
    yield SiteSubmission(Source.BRIGHTWHEEL, "CC-1", submitted=True, submitted_at=at(PERIOD.end, 18))


def plan_run(conn: psycopg.Connection) -> RunContext:
    """The two brightwheel sites' state written, and a run planned as the DAG plans it (the tests' ``run``)."""
    ccms_state().write(conn)
    context = RunContext(run_id="test-run-1", dag_id="ccms_attendance_period", period=PERIOD)
    with acting_as(conn):  # the steps of the helpers below run with the loader's privileges
        plan = plan_period(conn, context, load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
    assert plan.batches[str(Source.BRIGHTWHEEL)] == [0]
    return context


def extract_batch(conn, run):
    with acting_as(conn):
        return extract_ccms_batch(conn, run, Source.BRIGHTWHEEL, 0, site_extractor, (VendorDown,))


def stage_and_reconcile(conn, run, validate=True):
    """Extract, validate and reconcile, as the DAG's tasks do."""
    extract_batch(conn, run)
    with acting_as(conn):
        extract_ppp(conn, run)
        if validate:
            for source in (Source.PPP, Source.BRIGHTWHEEL):
                assert validate_source(conn, run, source).success
        result = reconcile_run(conn, run)
        ensure_valid(run, check_and_stage(conn, run, result))


def period_rows(conn):
    return conn.execute(
        "SELECT site_id, child_id, attendance_date, status, run_id FROM reconciled.daily_attendance ORDER BY 1, 2, 3"
    ).fetchall()


def mentions(conn, value: str) -> int:
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
