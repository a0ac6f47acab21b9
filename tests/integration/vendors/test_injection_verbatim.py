"""Values that look like SQL or CSV injection are data: stored verbatim, end to end, and harmless.

The state's own child ids (ref.child may hold any non-blank text) and a CCMS's record ids carry
SQL-injection, CSV/spreadsheet-formula and COPY-format look-alikes. A whole run — plan, PPP and
brightwheel extraction over real HTTP, validation, reconciliation, load — runs in-process as the
least-privileged loader role, and the reconciled tables hold exactly those strings, with every
table intact. (Every statement is parameterized — psycopg binds or quotes every value — and bulk
writes use binary COPY, so there is nothing to neutralize; consumers that export CSV must quote
formulas themselves.)
"""

from __future__ import annotations

import datetime as dt

import psycopg
from support.period_steps import AFTER_DEADLINES
from support.portal_state import PortalState, at

from ccms_attendance.canonical import Source
from ccms_attendance.hooks import CcmsExtractionError
from ccms_attendance.periods import ServicePeriod, load_calendar
from ccms_attendance.pipeline.extract import extract_ccms_batch, extract_ppp
from ccms_attendance.pipeline.load import load_period
from ccms_attendance.pipeline.plan import plan_period
from ccms_attendance.pipeline.reconcile import check_and_stage, ensure_valid, reconcile_run
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.pipeline.validate import validate_source
from ccms_attendance.warehouse.target import LOADER_ROLE

PERIOD = ServicePeriod(dt.date(2026, 1, 4), dt.date(2026, 1, 17))
MONDAY = dt.date(2026, 1, 5)
HOSTILE_IDS = [
    "Robert'); DROP TABLE reconciled.daily_attendance;--",
    "1' OR '1'='1",
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)",
    '@HYPERLINK("http://evil.example")',
    'tab\there, "quoted"\nnewline \\N \\.',
]
PPP_CHILD = "-2+3; DELETE FROM ref.child"


def test_injection_look_alikes_are_stored_verbatim_through_a_whole_run(conn, warehouse, use_scenario, make_hook):
    state = PortalState(PERIOD)
    state.site("S-INJ", "CC-INJ-1").submission("S-INJ", dt.date(2025, 12, 21), submitted_at=at(dt.date(2026, 1, 2)))
    state.selection("S-INJ", "BRIGHTWHEEL", PERIOD.start, chosen_at=at(dt.date(2025, 12, 22)))
    state.site("S-PPP", "CC-INJ-2").submission("S-PPP", PERIOD.start).voucher(PPP_CHILD, "S-PPP")
    state.absence("S-PPP", PPP_CHILD, MONDAY)
    children, days = [], []
    for n, child_id in enumerate(HOSTILE_IDS):
        state.voucher(child_id, "S-INJ", voucher_id=f"V-{n}")
        children.append({"vendor_child_key": f"k-{n}", "state_child_id": child_id, "first_name": "=1+1"})
        days.append(
            {
                "vendor_child_key": f"k-{n}",
                "date": MONDAY.isoformat(),
                "status": "present",
                "check_in": "2026-01-05T07:45:00-05:00",
            }
        )
    state.write(conn)
    use_scenario(
        {"sites": [{"vendor": "BRIGHTWHEEL", "license_number": "CC-INJ-1", "children": children, "days": days}]}
    )

    with psycopg.connect(warehouse.as_role(LOADER_ROLE).conninfo, autocommit=True) as loader:
        run = RunContext(run_id="run'; DROP TABLE x;--", dag_id="ccms_attendance_period", period=PERIOD)
        plan = plan_period(loader, run, load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
        hook = make_hook(Source.BRIGHTWHEEL)
        for batch_no in plan.batches[str(Source.BRIGHTWHEEL)]:
            extract_ccms_batch(
                loader,
                run,
                Source.BRIGHTWHEEL,
                batch_no,
                lambda license_number: hook.iter_site_period(license_number, PERIOD),
                (CcmsExtractionError,),
            )
        extract_ppp(loader, run)
        for source in (Source.PPP, Source.BRIGHTWHEEL):
            assert validate_source(loader, run, source).success
        result = reconcile_run(loader, run)
        ensure_valid(run, check_and_stage(loader, run, result))
        load_period(loader, run)

    rows = conn.execute(
        "SELECT child_id, status, basis, run_id FROM reconciled.daily_attendance"
        " WHERE period_start = %s AND attendance_date = %s ORDER BY child_id",
        (PERIOD.start, MONDAY),
    ).fetchall()
    assert [tuple(r) for r in rows] == sorted(
        [(c, "present", "recorded", run.run_id) for c in HOSTILE_IDS] + [(PPP_CHILD, "absent", "recorded", run.run_id)]
    )
    summary = {r[0] for r in conn.execute("SELECT child_id FROM reconciled.absence_summary")}
    assert summary == {*HOSTILE_IDS, PPP_CHILD}
    # Everything is still there: no statement was ever built from these values.
    assert conn.execute("SELECT count(*) FROM ref.child").fetchone()[0] == len(HOSTILE_IDS) + 1
    assert conn.execute("SELECT to_regclass('reconciled.daily_attendance') IS NOT NULL").fetchone()[0]
    assert (
        conn.execute("SELECT status FROM reconciled.run_audit WHERE run_id = %s", (run.run_id,)).fetchone()[0]
        == "loaded"
    )
