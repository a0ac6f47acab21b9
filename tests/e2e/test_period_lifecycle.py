"""The period lifecycle end to end: real `airflow dags test` runs, real sandboxes, real PostgreSQL.

Dates are relative to today (state time), because "open", "provisional" and "final" are about now:

* the period containing today is **open**: a run of it fails at plan and writes nothing;
* the period before it has ended and its submission deadline (14 days after its end) has not
  passed: it is **provisional** until every site submits it. Its brightwheel site has sent Monday and
  Tuesday only (complete through Tuesday, not submitted): no absence after Tuesday. Then the provider
  submits, with a day on which the site reported nothing at all: the final run turns the pending days
  into codes, raises no_attendance_for_day for the blank day, and keeps the provisional version.
"""

from __future__ import annotations

import datetime as dt

import pytest
from support.portal_state import PortalState, at
from support.vendor_scenario import VendorScenario

from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.periods import ServicePeriod, load_calendar
from devtools.local_airflow import AirflowCommandError

pytestmark = pytest.mark.e2e

TODAY = dt.datetime.now(STATE_TIMEZONE).date()
CALENDAR = load_calendar()
CURRENT = CALENDAR.period_containing(TODAY)  # open
LATEST = CALENDAR.previous_period(CURRENT)  # ended, before its deadline: provisional
EARLIER = CALENDAR.previous_period(CALENDAR.previous_period(LATEST))
assert LATEST is not None
assert EARLIER is not None


def weekdays(period: ServicePeriod) -> list[dt.date]:
    return [d for d in period.days if d.isoweekday() <= 5]


DAYS = weekdays(LATEST)
MONDAY, TUESDAY, WEDNESDAY, THURSDAY = DAYS[:4]


def portal_state() -> PortalState:
    portal = PortalState(LATEST)
    # S-BW: on brightwheel since well before the period (it submitted its first portal period earlier).
    portal.site("S-BW", "CC-LC-BW").voucher("911", "S-BW").voucher("912", "S-BW")
    portal.submission("S-BW", EARLIER.start, submitted_at=at(EARLIER.end + dt.timedelta(days=1)))
    portal.selection("S-BW", "BRIGHTWHEEL", EARLIER.end + dt.timedelta(days=1), chosen_at=at(EARLIER.start))
    # S-PP: PPP, submitted the period right after it ended, one absence.
    portal.site("S-PP", "CC-LC-PP").voucher("921", "S-PP").absence("S-PP", "921", WEDNESDAY)
    portal.submission("S-PP", LATEST.start, submitted_at=LATEST.end_instant() + dt.timedelta(minutes=1))
    return portal


def partial_week(tmp_path) -> VendorScenario:
    """brightwheel has Monday and Tuesday, says complete through Tuesday, has not submitted."""
    vendors = VendorScenario().site("BRIGHTWHEEL", "CC-LC-BW").child("CC-LC-BW", "911").child("CC-LC-BW", "912")
    vendors.present("CC-LC-BW", "911", MONDAY).present("CC-LC-BW", "912", MONDAY)
    vendors.present("CC-LC-BW", "911", TUESDAY).absent("CC-LC-BW", "912", TUESDAY)
    vendors.sites["CC-LC-BW"]["submission"] = {"submitted": False, "data_through": TUESDAY.isoformat()}
    return vendors


def submitted_period(tmp_path) -> VendorScenario:
    """The provider submitted: every day but Wednesday (nobody has a record: a blank day); 912 has no
    check-in on Thursday while 911 does (a real absence)."""
    vendors = VendorScenario().site("BRIGHTWHEEL", "CC-LC-BW").child("CC-LC-BW", "911").child("CC-LC-BW", "912")
    vendors.absent("CC-LC-BW", "912", TUESDAY)
    for d in DAYS:
        if d == WEDNESDAY:
            continue
        vendors.present("CC-LC-BW", "911", d)
        if d not in (TUESDAY, THURSDAY):
            vendors.present("CC-LC-BW", "912", d)
    return vendors  # no "submission": the sandbox says submitted


def rows(conn, sql: str, **params) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sql, {"p": LATEST.start, **params}).fetchall()]


def daily(conn, site_id: str) -> list[tuple]:
    return rows(
        conn,
        "SELECT child_id, attendance_date, status, day_code, basis FROM reconciled.daily_attendance"
        " WHERE period_start = %(p)s AND site_id = %(s)s ORDER BY 1, 2",
        s=site_id,
    )


def test_a_run_of_the_open_period_fails_at_plan_and_writes_nothing(conn, period_runner):
    PortalState(CURRENT).site("S-O", "CC-LC-O").voucher("901", "S-O").write(conn)
    with pytest.raises(AirflowCommandError, match="DagRun failed"):
        # Now itself: `dags test <day>` would read a day as UTC midnight, the previous local day.
        period_runner.run(dt.datetime.now(dt.UTC))
    log = (period_runner.airflow_home / f"dags-test-{period_runner.runs}.log").read_text()
    assert f"Service period {CURRENT} has not ended (today is {TODAY} in America/Indiana/Indianapolis)" in log
    assert "Pick a logical date inside a past period" in log
    written = {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in (
            "ref.service_period", "reconciled.run_audit", "reconciled.validation_result", "reconciled.period_load",
            "reconciled.daily_attendance", "reconciled.exception", "staging.site_plan", "staging.site_extract",
            "staging.exception", "history.period_version",
        )
    }  # fmt: skip
    assert written == dict.fromkeys(written, 0)


def test_a_provisional_run_then_the_final_run(conn, period_runner, sandbox_fleet, tmp_path):
    portal_state().write(conn)
    sandbox_fleet.reload_scenario(partial_week(tmp_path).write(tmp_path / "partial.json"))

    # --- provisional: brightwheel is complete through Tuesday only ---------------------------------
    period_runner.run(LATEST.start + dt.timedelta(days=3))
    bw = daily(conn, "S-BW")
    assert bw[:2] == [("911", MONDAY, "present", "PR", "recorded"), ("911", TUESDAY, "present", "PR", "recorded")]
    assert ("912", TUESDAY, "absent", "AB", "recorded") in bw
    after_tuesday = [r for r in bw if r[1] > TUESDAY]
    assert len(after_tuesday) == 16
    assert {r[2:] for r in after_tuesday} == {("pending", None, "after_data_through")}  # zero absences
    assert rows(
        conn,
        "SELECT site_id, lifecycle, complete, incomplete_kind, final_through, pending_days"
        " FROM reconciled.site_period WHERE period_start = %(p)s ORDER BY 1",
    ) == [
        ("S-BW", "provisional", False, "after_data_through", TUESDAY, 16),
        ("S-PP", "final", True, None, LATEST.end, 0),
    ]
    provisional = rows(conn, "SELECT run_id, lifecycle FROM reconciled.period_load WHERE period_start = %(p)s")
    assert provisional[0][1] == "provisional"
    # Provisional absences are shown, never counted: only the submitted PPP site's child has a tally.
    assert rows(conn, "SELECT child_id, absences, counted_through FROM reconciled.absence_tally ORDER BY 1") == [
        ("921", 1, DAYS[-1])
    ]
    summary = rows(
        conn,
        "SELECT counts->>'lifecycle', counts->>'submission_deadline' FROM reconciled.run_audit WHERE run_id = %(r)s",
        r=provisional[0][0],
    )
    assert summary == [("provisional", CALENDAR.deadline(LATEST).isoformat())]

    # --- the provider submits; the final run -------------------------------------------------------
    sandbox_fleet.reload_scenario(submitted_period(tmp_path).write(tmp_path / "submitted.json"))
    period_runner.run(LATEST.start + dt.timedelta(days=4))
    bw = daily(conn, "S-BW")
    assert "pending" not in {r[2] for r in bw}
    assert WEDNESDAY not in {r[1] for r in bw}  # nobody had a record: no status for anyone
    assert [r for r in bw if r[3] == "AB"] == [
        ("912", TUESDAY, "absent", "AB", "recorded"),
        ("912", THURSDAY, "absent", "AB", "no_check_in"),
    ]
    assert rows(
        conn,
        "SELECT kind, site_id, attendance_date FROM reconciled.exception"
        " WHERE period_start = %(p)s AND kind = 'no_attendance_for_day'",
    ) == [("no_attendance_for_day", "S-BW", WEDNESDAY)]
    final = rows(conn, "SELECT run_id, lifecycle FROM reconciled.period_load WHERE period_start = %(p)s")
    assert final[0][1] == "final"
    assert rows(
        conn, "SELECT lifecycle, complete FROM reconciled.site_period WHERE period_start = %(p)s ORDER BY site_id"
    ) == [("final", True), ("final", True)]
    # The provisional version moved to history, marked provisional, superseded by the final run.
    assert rows(
        conn,
        "SELECT run_id, lifecycle, superseded_by_run FROM history.period_version"
        " WHERE period_start = %(p)s ORDER BY version_no",
    ) == [(provisional[0][0], "provisional", final[0][0]), (final[0][0], "final", None)]
    assert rows(
        conn,
        "SELECT count(*) FROM history.daily_attendance WHERE period_start = %(p)s AND run_id = %(r)s"
        " AND status = 'pending'",
        r=provisional[0][0],
    ) == [(16,)]
