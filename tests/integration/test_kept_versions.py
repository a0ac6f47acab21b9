"""Issue 17.2: only a data verdict takes a site-period's usable data away; an outage keeps it.

Real pipeline steps (plan, extract, validate, reconcile, load) against a real warehouse. Two
brightwheel sites, both submitted and complete in the first run; child 222 at S-2 is absent every
day, which crosses the 10-absence notice. Later runs lose S-2's vendor (an outage, a 4xx), or get
a data verdict on it, or a Params-scoped run; each test checks what the period holds afterwards.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import psycopg
import pytest
from support.period_steps import AFTER_DEADLINES
from support.portal_state import PortalState, at
from support.roles import acting_as

from ccms_attendance.canonical import AttendanceRecord, AttendanceStatus, SiteSubmission, Source
from ccms_attendance.periods import ServicePeriod, load_calendar
from ccms_attendance.pipeline.extract import extract_ccms_batch, extract_ppp
from ccms_attendance.pipeline.load import load_period
from ccms_attendance.pipeline.plan import plan_period
from ccms_attendance.pipeline.reconcile import check_and_stage, ensure_valid, reconcile_run, stage_reconciled
from ccms_attendance.pipeline.run_context import RunContext, RunScope
from ccms_attendance.pipeline.validate import validate_source

PERIOD = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
WEEKDAYS = [d for d in PERIOD.days if d.isoweekday() <= 5]
BW, PG = Source.BRIGHTWHEEL, Source.PLAYGROUND
OUTAGE = "BRIGHTWHEEL site CC-2 period 2026-11-08..2026-11-21: HTTP 503 after 2 attempts (GET /v1/attendance)"


class VendorDown(Exception):
    pass


def _state() -> PortalState:
    state = PortalState(PERIOD)
    for site_id, license_number in (("S-1", "CC-1"), ("S-2", "CC-2")):
        state.site(site_id, license_number).submission(site_id, dt.date(2026, 10, 11))
        state.selection(site_id, "BRIGHTWHEEL", dt.date(2026, 10, 25), chosen_at=at(dt.date(2026, 10, 12)))
    return state.voucher("111", "S-1").voucher("222", "S-2")


def _records(source: Source, license_number: str, child_id: str, status: AttendanceStatus):
    for day in WEEKDAYS:
        present = status is AttendanceStatus.PRESENT
        yield AttendanceRecord(
            source=source,
            license_number=license_number,
            child_id=child_id,
            attendance_date=day,
            status=status,
            source_record_id=f"{license_number}-{day:%m%d}",
            check_in=at(day, 8) if present else None,
            check_out=at(day, 16) if present else None,
        )
    yield SiteSubmission(source, license_number, submitted=True, submitted_at=at(PERIOD.end, 18))


def vendor(down: dict[str, Exception] | None = None, duplicate: bool = False, source: Source = BW):
    """The vendor's answer per license: 111 always present, 222 always absent; or a failure."""

    def extractor(license_number: str):
        if down and license_number in down:
            raise down[license_number]
        child, status = {"CC-1": ("111", AttendanceStatus.PRESENT), "CC-2": ("222", AttendanceStatus.ABSENT)}[
            license_number
        ]
        items = list(_records(source, license_number, child, status))
        return [items[0], *items] if duplicate else items  # the same record twice: a table-level failure

    return extractor


def run_period(conn, run_id: str, extractor, scope: RunScope | None = None, source: Source = BW) -> dict:
    run = RunContext(run_id=run_id, dag_id="ccms_attendance_period", period=PERIOD, scope=scope or RunScope())
    with acting_as(conn):  # the loader's privileges, as the DAG's
        plan_period(conn, run, load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
        extract_ccms_batch(conn, run, source, 0, extractor, (VendorDown,))
        extract_ppp(conn, run)
        for validated in (Source.PPP, source):
            validate_source(conn, run, validated)
        result = reconcile_run(conn, run)
        ensure_valid(run, check_and_stage(conn, run, result))
        return load_period(conn, run)


def site_rows(conn: psycopg.Connection, site_id: str) -> dict[str, list[tuple]]:
    """Every current row of the site-period, run ids included."""
    tables = {
        "daily": "SELECT * FROM reconciled.daily_attendance WHERE site_id = %s ORDER BY child_id, attendance_date",
        "summary": "SELECT * FROM reconciled.absence_summary WHERE site_id = %s ORDER BY child_id",
        "site_period": "SELECT * FROM reconciled.site_period WHERE site_id = %s",
        "exceptions": "SELECT run_id, kind, severity, child_id, attendance_date, detail FROM reconciled.exception"
        " WHERE site_id = %s AND kind <> 'site_period_kept' ORDER BY kind, child_id, attendance_date, detail",
    }
    return {name: [tuple(r) for r in conn.execute(sql, (site_id,)).fetchall()] for name, sql in tables.items()}


def notices(conn: psycopg.Connection) -> list[tuple]:
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT child_id, threshold, reported_by_run, withdrawn_by_run FROM reconciled.absence_limit_notice"
            " ORDER BY notice_id"
        ).fetchall()
    ]


def kept_exceptions(conn: psycopg.Connection) -> list[tuple]:
    rows = conn.execute(
        "SELECT run_id, site_id, severity, detail FROM reconciled.exception WHERE kind = 'site_period_kept'"
    ).fetchall()
    return [tuple(r) for r in rows]


@pytest.fixture
def loaded(conn):
    """The first run: both sites complete and final, 222's tenth absence noticed."""
    _state().write(conn)
    run_period(conn, "run-1", vendor())
    assert conn.execute("SELECT bool_and(complete) FROM reconciled.site_period").fetchone()[0]
    assert notices(conn) == [("222", 10, "run-1", None)]
    return {site: site_rows(conn, site) for site in ("S-1", "S-2")}


@pytest.mark.parametrize(
    "failure",
    [OUTAGE, "BRIGHTWHEEL site CC-2 period 2026-11-08..2026-11-21: HTTP 404 Not Found (unknown license)"],
    ids=["outage", "4xx-unknown-license"],
)
def test_a_vendor_failure_keeps_the_complete_version_of_its_site_and_says_why(conn, loaded, failure):
    loaded_result = run_period(conn, "run-2", vendor(down={"CC-2": VendorDown(failure)}))

    # S-2's rows are exactly the first run's, still current; S-1 was replaced as usual.
    assert site_rows(conn, "S-2") == loaded["S-2"]
    assert {r[-1] for r in conn.execute("SELECT run_id FROM reconciled.daily_attendance WHERE site_id = 'S-1'")} == {
        "run-2"
    }
    # The notice the kept rows support is not withdrawn; nothing of S-2 went to history.
    assert notices(conn) == [("222", 10, "run-1", None)]
    assert conn.execute("SELECT count(*) FROM history.daily_attendance WHERE site_id = 'S-2'").fetchone()[0] == 0
    # Said in an exception, in the version's bookkeeping and in the run summary.
    ((run_id, site, severity, detail),) = kept_exceptions(conn)
    assert (run_id, site, severity) == ("run-2", "S-2", "warning")
    assert detail.startswith("kept previous version: loaded by run run-1, complete, final; ")
    assert detail.endswith(f"BRIGHTWHEEL data unavailable: {failure}")
    versions = conn.execute(
        "SELECT run_id, superseded_by_run, kept_sites FROM history.period_version ORDER BY version_no"
    ).fetchall()
    assert [v[:2] for v in versions] == [("run-1", "run-2"), ("run-2", None)]
    assert versions[1][2] == [{"site_id": "S-2", "reason": detail}]
    assert loaded_result["summary"]["kept_previous_version"] == {"S-2": detail}
    counts = conn.execute("SELECT counts FROM reconciled.run_audit WHERE run_id = 'run-2'").fetchone()[0]
    assert counts["kept_previous_version"] == {"S-2": detail}


def test_a_second_outage_keeps_the_same_version_and_one_kept_exception(conn, loaded):
    run_period(conn, "run-2", vendor(down={"CC-2": VendorDown(OUTAGE)}))
    run_period(conn, "run-3", vendor(down={"CC-2": VendorDown(OUTAGE)}))
    assert site_rows(conn, "S-2") == loaded["S-2"]
    assert [(r[0], r[1]) for r in kept_exceptions(conn)] == [("run-3", "S-2")]
    assert "loaded by run run-1" in kept_exceptions(conn)[0][3]
    # The first keeping load's exception is history, like any replaced row.
    replaced = conn.execute(
        "SELECT run_id, superseded_by_run FROM history.exception WHERE kind = 'site_period_kept'"
    ).fetchall()
    assert replaced == [("run-2", "run-3")]
    # When the vendor is back, the site is replaced as usual, the kept rows going to history.
    run_period(conn, "run-4", vendor())
    assert kept_exceptions(conn) == []
    assert {r[0] for r in conn.execute("SELECT run_id FROM reconciled.daily_attendance")} == {"run-4"}
    moved = conn.execute(
        "SELECT run_id, superseded_by_run, count(*) FROM history.daily_attendance WHERE site_id = 'S-2' GROUP BY 1, 2"
    ).fetchall()
    assert moved == [("run-1", "run-4", len(WEEKDAYS))]
    assert notices(conn) == [("222", 10, "run-1", None)]


def test_a_data_verdict_replaces_the_complete_version(conn, loaded):
    # The vendor sends the same record twice: brightwheel's suite fails a critical table-level
    # expectation, a verdict on its data. Its sites become incomplete and the notice is withdrawn.
    run_period(conn, "run-2", vendor(duplicate=True))
    states = conn.execute(
        "SELECT site_id, complete, unavailable_cause, run_id FROM reconciled.site_period ORDER BY 1"
    ).fetchall()
    assert states == [("S-1", False, "failed_validation", "run-2"), ("S-2", False, "failed_validation", "run-2")]
    assert kept_exceptions(conn) == []
    assert notices(conn) == [("222", 10, "run-1", "run-2")]


def test_the_lifecycle_replaces_a_complete_version(conn, loaded):
    # The vendor no longer says the period was submitted: its days are pending again (the lifecycle),
    # which is the vendor's word on its data, so the version is replaced.
    def unsubmitted(license_number: str):
        for item in vendor()(license_number):
            yield (
                dataclasses.replace(item, submitted=False, submitted_at=None)
                if isinstance(item, SiteSubmission)
                else item
            )

    run_period(conn, "run-2", unsubmitted)
    assert conn.execute("SELECT DISTINCT incomplete_kind, run_id FROM reconciled.site_period").fetchall() == [
        ("not_submitted", "run-2")
    ]
    assert kept_exceptions(conn) == []


def test_a_site_now_governed_by_another_source_is_not_kept(conn, loaded):
    # A portal correction: S-2 had chosen Playground for this period before it started. Playground
    # fails; brightwheel's version answers another question, so it is not kept.
    conn.execute(
        "INSERT INTO portal.data_entry_selection (site_id, method, effective_start, chosen_at, chosen_by)"
        " VALUES ('S-2', 'PLAYGROUND', %s, %s, 'director')",
        (dt.date(2026, 11, 8), at(dt.date(2026, 10, 20))),
    )
    run = RunContext(run_id="run-2", dag_id="ccms_attendance_period", period=PERIOD)
    plan_period(conn, run, load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
    extract_ccms_batch(conn, run, BW, 0, vendor(), (VendorDown,))
    extract_ccms_batch(conn, run, PG, 0, vendor(down={"CC-2": VendorDown("PLAYGROUND down")}, source=PG), (VendorDown,))
    extract_ppp(conn, run)
    for source in (Source.PPP, BW, PG):
        validate_source(conn, run, source)
    result = reconcile_run(conn, run)
    stage_reconciled(conn, run, result)
    load_period(conn, run)
    state = conn.execute("SELECT governing_source, complete, run_id FROM reconciled.site_period WHERE site_id = 'S-2'")
    assert state.fetchone() == ("PLAYGROUND", False, "run-2")
    assert kept_exceptions(conn) == []


def test_a_params_scoped_run_keeps_its_site_too(conn, loaded):
    run_period(conn, "run-2", vendor(down={"CC-2": VendorDown(OUTAGE)}), scope=RunScope(sites=("S-2",)))
    assert site_rows(conn, "S-2") == loaded["S-2"]
    assert site_rows(conn, "S-1") == loaded["S-1"]  # outside the run's scope: untouched
    assert [(r[0], r[1]) for r in kept_exceptions(conn)] == [("run-2", "S-2")]
    assert notices(conn) == [("222", 10, "run-1", None)]


def test_a_vendor_that_sends_nothing_for_the_site_keeps_its_version(conn, loaded):
    def silent(license_number: str):
        items = vendor()(license_number)
        return items[-1:] if license_number == "CC-2" else items  # only the submission marker

    run_period(conn, "run-2", silent)
    assert site_rows(conn, "S-2") == loaded["S-2"]
    ((_run, _site, _severity, detail),) = kept_exceptions(conn)
    assert detail.endswith("BRIGHTWHEEL returned no records for a site with enrolled children")


def test_a_verdict_on_the_source_is_no_verdict_on_a_site_it_could_not_read(conn, loaded):
    # S-1's records fail brightwheel's suite; S-2 could not be read at all: none of its records were
    # judged, so its failure stays a vendor failure and its complete version is kept.
    run_period(conn, "run-2", vendor(down={"CC-2": VendorDown(OUTAGE)}, duplicate=True))
    states = conn.execute("SELECT site_id, unavailable_cause, run_id FROM reconciled.site_period ORDER BY 1")
    assert states.fetchall() == [("S-1", "failed_validation", "run-2"), ("S-2", None, "run-1")]
    assert site_rows(conn, "S-2") == loaded["S-2"]
    assert [(r[0], r[1]) for r in kept_exceptions(conn)] == [("run-2", "S-2")]
