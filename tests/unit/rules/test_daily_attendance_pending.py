"""Daily attendance reconciliation and the period lifecycle: pending days after a site's final-through
day, and days without any record (builders: ``support.daily_frames``).
"""

from __future__ import annotations

import pandas as pd
from support.daily_frames import (
    BW,
    EXC_SHORT,
    OPEN_WINDOW,
    SITE_SHORT,
    WEEKDAYS,
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

# --- the period lifecycle: pending days, blank days ----------------------------------------------


def test_a_partial_vendor_week_gives_no_absence_after_the_data_through_day():
    # brightwheel has sent Monday and Tuesday (complete through 01-06) and not submitted yet.
    result = run(
        plan_frame(("S2", BW)),
        vouchers=vouchers_frame(voucher(20, "C1", "S2"), voucher(21, "C2", "S2")),
        records=records_frame(
            record(BW, "S2", "C1", 5, "present", "bw-1"),
            record(BW, "S2", "C2", 5, "present", "bw-2"),
            record(BW, "S2", "C2", 6, "present", "bw-3"),
        ),
        extracts=extracts_frame((BW, "S2", "retrieved", None, False, 6)),
        deadline=OPEN_WINDOW,
        witness=False,
    )
    final_days = result.daily[result.daily["attendance_date"] <= day(6)]
    assert rows(final_days, ["child_id", "attendance_date", "status", "day_code"]) == [
        ("C1", iso(5), "present", "PR"),
        ("C1", iso(6), "absent", "AB"),  # Tuesday is final and another child checked in: a real absence
        ("C2", iso(5), "present", "PR"),
        ("C2", iso(6), "present", "PR"),
    ]
    later = result.daily[result.daily["attendance_date"] > day(6)]
    assert len(later) == 16
    assert set(later["status"]) == {"pending"}
    assert set(later["basis"]) == {"after_data_through"}
    assert later["day_code"].isna().all()
    assert (result.daily["day_code"] == "AB").sum() == 1
    reason = (
        "BRIGHTWHEEL has not submitted the period; its data is complete through 2026-01-06 only, later days are pending"
    )
    assert rows(result.site_period, [*SITE_SHORT, "lifecycle", "incomplete_kind", "final_through", "pending_days"]) == [
        ("S2", BW, BW, False, reason, "provisional", "after_data_through", iso(6), 16)
    ]
    assert rows(result.summary, ["child_id", "absent_days", "pending_days", "complete", "lifecycle"]) == [
        ("C1", 1, 8, False, "provisional"),
        ("C2", 0, 8, False, "provisional"),
    ]


def test_a_ccms_site_that_said_nothing_yet_has_only_pending_days():
    result = run(
        plan_frame(("S2", BW)),
        vouchers=vouchers_frame(voucher(20, "C1", "S2")),
        records=records_frame(record(BW, "S2", "C1", 5, "absent", "bw-1")),
        extracts=extracts_frame((BW, "S2", "retrieved", None, False)),
        deadline=OPEN_WINDOW,
        witness=False,
    )
    assert set(result.daily["status"]) == {"pending"}
    assert set(result.daily["basis"]) == {"not_submitted"}
    assert rows(result.site_period, ["incomplete_kind", "lifecycle", "pending_days"]) == [
        ("not_submitted", "provisional", 10)
    ]


def test_a_submitted_ccms_site_is_final_before_the_deadline():
    result = run(
        plan_frame(("S2", BW)),
        vouchers=vouchers_frame(voucher(20, "C1", "S2")),
        records=records_frame(record(BW, "S2", "C1", 5, "present", "bw-1")),
        extracts=extracts_frame((BW, "S2", "retrieved")),
        deadline=OPEN_WINDOW,
    )
    assert "pending" not in set(result.daily["status"])
    assert rows(result.site_period, ["complete", "lifecycle", "final_through"]) == [(True, "final", iso(17))]


def test_a_ccms_site_day_without_any_record_is_an_exception_not_absences():
    result = run(
        plan_frame(("S2", BW)),
        vouchers=vouchers_frame(voucher(20, "C1", "S2"), voucher(21, "C2", "S2")),
        records=records_frame(
            *(record(BW, "S2", "C1", n, "present", f"c1-{n}") for n in WEEKDAYS if n != 8),
            *(record(BW, "S2", "C2", n, "present", f"c2-{n}") for n in WEEKDAYS if n not in (8, 9)),
        ),
        witness=False,
    )
    # 01-08: nobody has a record (an unregistered closure, or a vendor not synced): no status at all.
    assert day(8) not in set(result.daily["attendance_date"])
    # 01-09: C1 checked in, C2 did not: a real absence.
    assert rows(result.daily[result.daily["day_code"] == "AB"], ["child_id", "attendance_date"]) == [("C2", iso(9))]
    assert rows(result.exceptions, [*EXC_SHORT, "detail"]) == [
        ("no_attendance_for_day", "warning", "S2", None, iso(8),
         "BRIGHTWHEEL sent no record for any of the 2 enrolled children on this open day (a closure missing from"
         " the register, or data not synced?); no absences inferred"),
    ]  # fmt: skip
    # The withheld day leaves both child-periods incomplete (never counted toward absence limits).
    assert rows(result.summary, ["child_id", "absent_days", "complete"]) == [("C1", 0, False), ("C2", 1, False)]
    assert rows(result.site_period, ["complete"]) == [(True,)]


def test_a_registered_closure_explains_a_day_without_records():
    result = run(
        plan_frame(("S2", BW)),
        closures=closures_frame(("S2", 8)),
        vouchers=vouchers_frame(voucher(20, "C1", "S2")),
        records=records_frame(*(record(BW, "S2", "C1", n, "present", f"c1-{n}") for n in WEEKDAYS if n != 8)),
        witness=False,
    )
    assert result.exceptions.empty
    assert rows(result.daily[result.daily["attendance_date"] == day(8)], ["status", "day_code"]) == [("closed", "PC")]


def test_a_quarantined_record_shows_the_vendor_reported_that_day():
    quarantined = pd.DataFrame(
        {"source": [BW], "site_id": ["S2"], "child_id": ["C1"], "attendance_date": pd.to_datetime([day(8)])}
    )
    result = run(
        plan_frame(("S2", BW)),
        vouchers=vouchers_frame(voucher(20, "C1", "S2"), voucher(21, "C2", "S2")),
        records=records_frame(
            *(
                record(BW, "S2", child, n, "present", f"{child}-{n}")
                for child in ("C1", "C2")
                for n in WEEKDAYS
                if n != 8
            )
        ),
        quarantined=quarantined,
        witness=False,
    )
    assert rows(result.daily[result.daily["attendance_date"] == day(8)], ["child_id", "day_code"]) == [("C2", "AB")]
    assert rows(result.exceptions, EXC_SHORT) == [("status_withheld_quarantined_record", "warning", "S2", "C1", iso(8))]
