"""Provider-guide scenarios end to end: real DAG runs, real sandboxes over HTTP, real PostgreSQL.

Three consecutive periods; a site switching PPP -> brightwheel -> PPP; a CCMS chosen before the
first portal submission; portal edits after the cutover; an unlinked license; a multi-site provider
on two different CCMS; and an outage of one site's vendor, then a rerun after recovery.
"""

from __future__ import annotations

import datetime as dt

import pytest
from support.portal_state import PortalState, at
from support.vendor_scenario import VendorScenario

from ccms_attendance.periods import ServicePeriod

pytestmark = pytest.mark.e2e

P0 = ServicePeriod(dt.date(2026, 9, 27), dt.date(2026, 10, 10))
P1 = ServicePeriod(dt.date(2026, 10, 11), dt.date(2026, 10, 24))
P2 = ServicePeriod(dt.date(2026, 10, 25), dt.date(2026, 11, 7))  # DST ends 2026-11-01
P3 = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))


def weekdays(period: ServicePeriod) -> list[dt.date]:
    return [d for d in period.days if d.isoweekday() <= 5]


def day(month: int, dom: int) -> dt.date:
    return dt.date(2026, month, dom)


def build(tmp_path):
    portal = PortalState(P2)
    vendors = VendorScenario()
    _switcher(portal, vendors)
    _ccms_before_first_submission(portal, vendors)
    _unlinked_license(portal, vendors)
    _multi_site_provider(portal, vendors)
    return portal, vendors.write(tmp_path / "scenario.json")


def submitted(portal: PortalState, site_id: str, *periods: ServicePeriod) -> None:
    for period in periods:
        portal.submission(site_id, period.start, submitted_at=at(period.end + dt.timedelta(days=2)))


def _switcher(portal: PortalState, vendors: VendorScenario) -> None:
    """PPP in P1, brightwheel from P2, back to PPP from P3."""
    portal.site("S-SW", "CC-SW", provider_id="P-1").voucher("501", "S-SW")
    submitted(portal, "S-SW", P0, P1, P2, P3)
    portal.selection("S-SW", "BRIGHTWHEEL", P2.start, chosen_at=at(day(10, 13)))
    portal.selection("S-SW", "PPP", P3.start, chosen_at=at(day(10, 27)))
    portal.absence("S-SW", "501", day(10, 13)).absence("S-SW", "501", day(10, 28)).absence("S-SW", "501", day(11, 10))
    vendors.site("BRIGHTWHEEL", "CC-SW").child("CC-SW", "501")
    for d in weekdays(P2):
        if d == day(10, 29):
            vendors.absent("CC-SW", "501", d)
        else:
            vendors.present("CC-SW", "501", d)


def _ccms_before_first_submission(portal: PortalState, vendors: VendorScenario) -> None:
    """Chose Playground before ever submitting a period in the portal."""
    portal.site("S-EARLY", "CC-EA", provider_id="P-2").voucher("601", "S-EARLY")
    portal.selection("S-EARLY", "PLAYGROUND", P2.start, chosen_at=at(day(10, 12)))
    submitted(portal, "S-EARLY", P2)  # its first submission ever, after P2 started
    vendors.site("PLAYGROUND", "CC-EA").child("CC-EA", "601")
    for d in weekdays(P2):
        vendors.absent("CC-EA", "601", d)  # would be ten absences if it were (wrongly) used


def _unlinked_license(portal: PortalState, vendors: VendorScenario) -> None:
    """Alliance CORE selected, but the license is not linked to the program."""
    portal.site("S-UNL", "CC-UN", provider_id="P-3", linked=False).voucher("701", "S-UNL")
    submitted(portal, "S-UNL", P0, P1, P2)
    portal.selection("S-UNL", "ALLIANCE_CORE", P1.start, chosen_at=at(day(9, 28)))
    vendors.site("ALLIANCE_CORE", "CC-UN").child("CC-UN", "701")
    for d in weekdays(P2):
        vendors.present("CC-UN", "701", d)


def _multi_site_provider(portal: PortalState, vendors: VendorScenario) -> None:
    """One site on brightwheel, two on Alliance CORE."""
    for site_id, license_number, vendor, child_id in (
        ("S-BW", "CC-BW", "BRIGHTWHEEL", "801"),
        ("S-AC", "CC-AC", "ALLIANCE_CORE", "802"),
        ("S-AC2", "CC-AC2", "ALLIANCE_CORE", "803"),
    ):
        portal.site(site_id, license_number, provider_id="P-M").voucher(child_id, site_id)
        submitted(portal, site_id, P0)
        portal.selection(site_id, vendor, P1.start, chosen_at=at(day(9, 28)))
        vendors.site(vendor, license_number).child(license_number, child_id)
        for d in weekdays(P2):
            if (child_id, d) == ("801", day(11, 3)):
                vendors.absent(license_number, child_id, d, reason="VAC")
            elif (child_id, d) != ("802", day(11, 4)):  # 802 simply has no check-in on the 4th
                vendors.present(license_number, child_id, d)
    # 802's classmate at S-AC is there every day: a day 802 has no check-in is a real absence, not a
    # day the site reported nothing at all (that would be no_attendance_for_day).
    portal.voucher("804", "S-AC")
    vendors.child("CC-AC", "804")
    for d in weekdays(P2):
        vendors.present("CC-AC", "804", d)
    vendors.child("CC-BW", None, key="k-private-pay")  # a private-pay child: no state Child ID
    for d in weekdays(P2):
        vendors.present("CC-BW", "private-pay", d, key="k-private-pay")


def rows(conn, sql, period, **params):
    return [tuple(r) for r in conn.execute(sql, {"p": period.start, **params}).fetchall()]


def daily(conn, period, site_id, child_id=None):
    return rows(
        conn,
        "SELECT attendance_date, status, basis, source FROM reconciled.daily_attendance"
        " WHERE period_start = %(p)s AND site_id = %(site)s AND (%(child)s::text IS NULL OR child_id = %(child)s)"
        " ORDER BY 1",
        period,
        site=site_id,
        child=child_id,
    )


def exceptions(conn, period):
    return rows(
        conn,
        "SELECT site_id, kind, severity, attendance_date FROM reconciled.exception"
        " WHERE period_start = %(p)s ORDER BY 1, 2, 4",
        period,
    )


def test_provider_guide_scenarios_across_three_periods(conn, period_runner, sandbox_fleet, tmp_path):
    portal, scenario = build(tmp_path)
    portal.write(conn)
    sandbox_fleet.reload_scenario(scenario)
    sandbox_fleet.set_faults([{"kind": "http_5xx", "status": 503, "times": 1000, "license_number": "CC-AC2"}])
    try:
        period_runner.run(day(10, 28))
    finally:
        sandbox_fleet.clear_faults()

    # --- P2: every scenario at once ---------------------------------------------------------------
    site_period = rows(
        conn,
        "SELECT site_id, selected_method, governing_source, complete FROM reconciled.site_period"
        " WHERE period_start = %(p)s ORDER BY 1",
        P2,
    )
    assert site_period == [
        ("S-AC", "ALLIANCE_CORE", "ALLIANCE_CORE", True),
        ("S-AC2", "ALLIANCE_CORE", "ALLIANCE_CORE", False),  # vendor outage for this one site
        ("S-BW", "BRIGHTWHEEL", "BRIGHTWHEEL", True),
        ("S-EARLY", "PLAYGROUND", "PPP", True),  # CCMS chosen before the first portal submission
        ("S-SW", "BRIGHTWHEEL", "BRIGHTWHEEL", True),
        ("S-UNL", "ALLIANCE_CORE", "ALLIANCE_CORE", False),  # unlinked license
    ]
    summary = rows(
        conn,
        "SELECT site_id, child_id, enrolled_days, absent_days, source, complete FROM reconciled.absence_summary"
        " WHERE period_start = %(p)s ORDER BY 1, 2",
        P2,
    )
    assert summary == [
        ("S-AC", "802", 10, 1, "ALLIANCE_CORE", True),
        ("S-AC", "804", 10, 0, "ALLIANCE_CORE", True),
        ("S-AC2", "803", 10, 0, "ALLIANCE_CORE", False),
        ("S-BW", "801", 10, 1, "BRIGHTWHEEL", True),
        ("S-EARLY", "601", 10, 0, "PPP", True),
        ("S-SW", "501", 10, 1, "BRIGHTWHEEL", True),
        ("S-UNL", "701", 10, 0, "ALLIANCE_CORE", False),
    ]
    p2_days = weekdays(P2)
    assert daily(conn, P2, "S-SW") == [
        (d, "absent" if d == day(10, 29) else "present", "recorded", "BRIGHTWHEEL") for d in p2_days
    ]
    assert daily(conn, P2, "S-AC", "802") == [
        (d, "absent", "no_check_in", "ALLIANCE_CORE")
        if d == day(11, 4)
        else (d, "present", "recorded", "ALLIANCE_CORE")
        for d in p2_days
    ]
    assert daily(conn, P2, "S-EARLY") == [(d, "present", "no_absence_entry", "PPP") for d in p2_days]
    # No data: every day pending, no absence fabricated.
    assert daily(conn, P2, "S-AC2") == [(d, "pending", "data_unavailable", "ALLIANCE_CORE") for d in p2_days]
    assert daily(conn, P2, "S-UNL") == [(d, "pending", "data_unavailable", "ALLIANCE_CORE") for d in p2_days]
    assert exceptions(conn, P2) == [
        ("S-AC2", "site_period_incomplete", "warning", None),
        ("S-BW", "unattributed_records_dropped", "warning", None),
        ("S-EARLY", "ccms_before_first_submission", "warning", None),
        ("S-SW", "portal_entry_while_ccms", "warning", day(10, 28)),  # portal edit after the cutover
        ("S-SW", "source_disagreement", "info", day(10, 28)),
        ("S-UNL", "license_not_linked", "critical", None),
        ("S-UNL", "site_period_incomplete", "warning", None),
    ]
    outage = conn.execute(
        "SELECT incomplete_reason FROM reconciled.site_period WHERE period_start = %s AND site_id = 'S-AC2'",
        (P2.start,),
    ).fetchone()[0]
    assert outage.startswith("ALLIANCE_CORE data unavailable: ALLIANCE_CORE site CC-AC2 period 2026-10-25..2026-11-07")
    assert "private-pay" not in str(rows(conn, "SELECT * FROM reconciled.exception WHERE period_start = %(p)s", P2))

    # --- P1 and P3: the switcher is PPP-governed before and after its brightwheel period ----------
    period_runner.run(day(10, 14))
    period_runner.run(day(11, 12))
    assert daily(conn, P1, "S-SW") == [
        (d, "absent", "recorded", "PPP") if d == day(10, 13) else (d, "present", "no_absence_entry", "PPP")
        for d in weekdays(P1)
    ]
    assert daily(conn, P3, "S-SW") == [
        (d, "absent", "recorded", "PPP") if d == day(11, 10) else (d, "present", "no_absence_entry", "PPP")
        for d in weekdays(P3)
    ]

    # --- the vendor recovered: rerunning P2 completes the site, nothing else changes ---------------
    before = {r[:2]: r for r in summary}
    period_runner.run(day(11, 2))
    after = rows(
        conn,
        "SELECT site_id, child_id, enrolled_days, absent_days, source, complete FROM reconciled.absence_summary"
        " WHERE period_start = %(p)s ORDER BY 1, 2",
        P2,
    )
    assert {r[:2]: r for r in after} == {
        **before,
        ("S-AC2", "803"): ("S-AC2", "803", 10, 0, "ALLIANCE_CORE", True),
    }
    assert daily(conn, P2, "S-AC2") == [(d, "present", "recorded", "ALLIANCE_CORE") for d in p2_days]
