"""The day codes reconciliation gives each enrolled child-day (``rules.day_codes``), over tiny
hand-built frames (builders: ``support.daily_frames``).
"""

from __future__ import annotations

import pytest
from support.daily_frames import (
    BW,
    PPP,
    closures_frame,
    day,
    extracts_frame,
    iso,
    plan_frame,
    record,
    records_frame,
    rows,
    run,
    voucher,
    vouchers_frame,
)

from ccms_attendance.rules.daily_attendance import (
    ReconciledPeriod,
)

# --- day codes (rules.day_codes) ---------------------------------------------------------------

MON_WED_FRI = (1, 3, 5)  # a part-time schedule: 01-05, 07, 09, 12, 14, 16 scheduled
CODE_SHORT = ["attendance_date", "status", "day_code", "basis"]


def _codes(result: ReconciledPeriod, child: str = "C1") -> dict[str, tuple[str, str, str]]:
    daily = result.daily[result.daily["child_id"] == child]
    return {iso_day: (status, code, basis) for iso_day, status, code, basis in rows(daily, CODE_SHORT)}


@pytest.mark.parametrize(
    ("source", "weekdays", "record_kwargs", "n", "expected", "exception"),
    [
        # Nothing recorded.
        (PPP, None, None, 6, ("present", "PR", "no_absence_entry"), None),
        (BW, None, None, 6, ("absent", "AB", "no_check_in"), None),
        (PPP, MON_WED_FRI, None, 6, ("off_day", "OD", "unscheduled_day"), None),
        (BW, MON_WED_FRI, None, 6, ("off_day", "OD", "unscheduled_day"), None),
        (BW, MON_WED_FRI, None, 7, ("absent", "AB", "no_check_in"), None),
        # Recorded.
        (BW, MON_WED_FRI, {"status": "present"}, 6, ("present", "PR", "recorded"), None),
        (PPP, None, {"status": "absent", "day_code": "AB"}, 6, ("absent", "AB", "recorded"), None),
        (PPP, MON_WED_FRI, {"status": "absent", "day_code": "OD"}, 6, ("off_day", "OD", "recorded"), None),
        (PPP, None, {"status": "absent", "day_code": "OD"}, 6, ("absent", "AB", "recorded"),
         ("off_day_for_full_time_voucher", "warning")),
        (PPP, MON_WED_FRI, {"status": "absent", "day_code": "OD"}, 7, ("absent", "AB", "recorded"),
         ("off_day_on_scheduled_day", "warning")),
        (BW, MON_WED_FRI, {"status": "absent"}, 6, ("off_day", "OD", "recorded"),
         ("absence_on_unscheduled_day", "info")),
        (PPP, None, {"status": "absent", "day_code": "PC"}, 6, None, ("closure_entry_without_site_closure", "warning")),
        (PPP, None, {"status": "absent", "day_code": "NP"}, 6, None, ("closure_entry_without_site_closure", "warning")),
    ],
    ids=[
        "ppp-nothing-present", "ccms-nothing-absent", "ppp-unscheduled-off", "ccms-unscheduled-off",
        "ccms-scheduled-absent", "present-on-unscheduled-day", "ppp-ab", "ppp-od-part-time",
        "ppp-od-full-time-is-ab", "ppp-od-on-scheduled-day-is-ab", "absence-on-unscheduled-day-is-od",
        "ppp-pc-entry-on-open-day", "ppp-np-entry-on-open-day",
    ],
)  # fmt: skip
def test_day_code_of_an_open_day(source, weekdays, record_kwargs, n, expected, exception):
    records = [record(source, "S1", "C1", 5, "present", "r-anchor")]  # CCMS sent something for the child
    if record_kwargs is not None:
        extra = {k: v for k, v in record_kwargs.items() if k != "status"}
        records.append(record(source, "S1", "C1", n, record_kwargs["status"], "r-x", **extra))
    result = run(
        plan_frame(("S1", source)),
        vouchers=vouchers_frame(voucher(10, "C1", "S1", weekdays=weekdays)),
        records=records_frame(*records),
        extracts=extracts_frame((source, "S1", "retrieved")),
    )
    assert _codes(result).get(iso(n)) == expected
    assert rows(result.exceptions, ["kind", "severity", "child_id", "attendance_date"]) == (
        [(*exception, "C1", iso(n))] if exception else []
    )
    # Every other enrolled day still has exactly one code.
    assert result.daily.groupby(["child_id", "attendance_date"]).size().max() == 1


def test_every_enrolled_day_gets_exactly_one_code():
    result = run(
        plan_frame(("S1", PPP)),
        closures=closures_frame(("S1", 8, "PC"), ("S1", 15, "NP", 16)),
        vouchers=vouchers_frame(voucher(10, "C1", "S1"), voucher(11, "C2", "S1", weekdays=MON_WED_FRI)),
        records=records_frame(record(PPP, "S1", "C1", 6, "absent", "p-1")),
    )
    assert {child: len(_codes(result, child)) for child in ("C1", "C2")} == {"C1": 10, "C2": 10}
    assert "".join(code for _, code, _ in _codes(result, "C1").values()) == "PRABPRPCPRPRPRPRNPPR"
    assert "".join(code for _, code, _ in _codes(result, "C2").values()) == "PRODPRPCPRPRODPRNPPR"
    assert rows(result.summary, ["child_id", "enrolled_days", "absent_days", "off_days", "paid_closure_days",
                                 "unpaid_closure_days", "complete"]) == [
        ("C1", 8, 1, 0, 1, 1, True),
        ("C2", 8, 0, 2, 1, 1, True),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "paid_before", "code", "exception"),
    [
        ("PC", 0, "PC", None),
        ("PC", 15, "PC", None),  # the 16th: still paid
        ("PC", 16, "NP", "paid_closure_over_annual_limit"),  # the 17th: counted as NP
        ("NP", 16, "NP", None),  # PC days used up: NP is right
        ("NP", 3, "NP", "unpaid_closure_while_paid_remaining"),
    ],
    ids=["first-pc", "sixteenth-pc", "seventeenth-pc", "np-after-pc", "np-while-pc-remain"],
)
def test_closure_codes_and_the_paid_closure_allowance(kind, paid_before, code, exception):
    result = run(
        plan_frame(("S1", BW)),
        closures=closures_frame(("S1", 7, kind, paid_before)),
        vouchers=vouchers_frame(voucher(10, "C1", "S1"), voucher(11, "C2", "S1")),
        records=records_frame(record(BW, "S1", "C1", 5, "present", "b-1"), record(BW, "S1", "C2", 5, "present", "b-2")),
        extracts=extracts_frame((BW, "S1", "retrieved")),
    )
    closed = result.daily[result.daily["attendance_date"] == day(7)]
    assert rows(closed, ["child_id", "status", "day_code", "basis"]) == [
        ("C1", "closed", code, "site_closure"),
        ("C2", "closed", code, "site_closure"),
    ]
    # Closure exceptions are about the site, once, not per child.
    assert rows(result.exceptions, ["kind", "site_id", "child_id", "attendance_date"]) == (
        [(exception, "S1", None, iso(7))] if exception else []
    )


def test_closure_days_are_coded_at_an_incomplete_site_too():
    result = run(
        plan_frame(("S2", BW)),
        closures=closures_frame(("S2", 7)),
        vouchers=vouchers_frame(voucher(20, "C1", "S2")),
        extracts=extracts_frame((BW, "S2", "failed", "HTTP 503")),
    )
    # Nothing from the vendor, nothing inferred (the open days are pending); the site's own register
    # still closes the 7th.
    coded = result.daily[result.daily["status"] != "pending"]
    assert rows(coded, ["attendance_date", "status", "day_code"]) == [(iso(7), "closed", "PC")]
    assert rows(result.summary, ["paid_closure_days", "pending_days", "complete"]) == [(1, 9, False)]


def test_a_portal_closure_entry_on_a_registered_closure_is_not_reported():
    result = run(
        plan_frame(("S1", PPP)),
        closures=closures_frame(("S1", 7)),
        vouchers=vouchers_frame(voucher(10, "C1", "S1")),
        records=records_frame(record(PPP, "S1", "C1", 7, "absent", "p-pc", day_code="PC")),
    )
    assert _codes(result)[iso(7)] == ("closed", "PC", "site_closure")
    assert result.exceptions.empty


def test_a_full_week_of_off_days_is_reported():
    result = run(
        plan_frame(("S1", PPP)),
        # Scheduled on Saturdays only, at a Monday-Friday site: every open day is OD.
        vouchers=vouchers_frame(voucher(10, "C1", "S1", weekdays=(6,)), voucher(11, "C2", "S1", weekdays=(1,))),
    )
    assert rows(result.exceptions, ["kind", "child_id", "attendance_date", "detail"]) == [
        ("full_week_off_day", "C1", iso(4), OD_WEEK),
        ("full_week_off_day", "C1", iso(11), OD_WEEK),
    ]


def test_a_partial_week_of_off_days_is_not_reported():
    result = run(
        plan_frame(("S1", PPP)),
        # Enrolled from Wednesday 01-07: the first week is not a full week at this site.
        vouchers=vouchers_frame(voucher(10, "C1", "S1", start=day(7), end=day(9), weekdays=(6,))),
    )
    assert set(result.daily["day_code"]) == {"OD"}
    assert result.exceptions.empty


OD_WEEK = (
    "OD on all 5 open days of the week: a full week of OD is not allowed (check the part-time voucher's scheduled days)"
)
