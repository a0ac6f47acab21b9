"""Issue 17.6: overlapping vouchers through the real steps and the warehouse (rules: rules.vouchers)."""

from __future__ import annotations

import datetime as dt

from support.period_steps import run_ppp_period
from support.portal_state import PortalState

from ccms_attendance.periods import ServicePeriod
from ccms_attendance.pipeline.run_context import RunContext

PERIOD = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
WEEKDAYS = [d for d in PERIOD.days if d.isoweekday() <= 5]


def test_overlapping_vouchers_are_reported_and_disagreeing_days_are_not_coded(conn):
    state = PortalState(PERIOD).site("S-1", "CC-1").submission("S-1", PERIOD.start)
    # 101: two CCDF vouchers over the whole period (agree). 102: CCDF until the first Friday, OMW from
    # that Thursday (they disagree on the program on Thursday and Friday).
    state.voucher("101", "S-1", voucher_id="V-101-b").voucher("101", "S-1", voucher_id="V-101-a")
    state.voucher("102", "S-1", voucher_id="V-102-a", end=WEEKDAYS[4])
    state.voucher("102", "S-1", program="OMW", voucher_id="V-102-b", start=WEEKDAYS[3])
    state.write(conn)
    run_ppp_period(conn, RunContext(run_id="run-1", dag_id="ccms_attendance_period", period=PERIOD))

    exceptions = conn.execute(
        "SELECT child_id, severity, attendance_date, detail FROM reconciled.exception"
        " WHERE kind = 'overlapping_vouchers' ORDER BY child_id"
    ).fetchall()
    assert [row[:3] for row in exceptions] == [("101", "info", WEEKDAYS[0]), ("102", "warning", WEEKDAYS[3])]
    assert "vouchers V-101-a (CCDF, full_time) and V-101-b (CCDF, full_time)" in exceptions[0][3]
    assert "on 10 day(s): 2026-11-09, 2026-11-10," in exceptions[0][3]
    assert "they disagree on the program on 2026-11-12, 2026-11-13" in exceptions[1][3]
    used = conn.execute(
        "SELECT child_id, voucher_id, count(*) FROM reconciled.daily_attendance GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    assert used == [("101", "V-101-a", 10), ("102", "V-102-a", 3), ("102", "V-102-b", 5)]
    summary = conn.execute(
        "SELECT child_id, enrolled_days, complete FROM reconciled.absence_summary ORDER BY 1"
    ).fetchall()
    assert summary == [("101", 10, True), ("102", 10, False)]
