"""Issue 17.6: two vouchers covering one child-day are reported; disagreeing ones leave the day uncoded."""

from __future__ import annotations

from unit.rules.test_daily_attendance import (
    PPP,
    WEEKDAYS,
    closures_frame,
    day,
    iso,
    plan_frame,
    records_frame,
    rows,
    run,
    voucher,
    vouchers_frame,
)


def overlapping(result) -> list[tuple]:
    found = result.exceptions[result.exceptions["kind"] == "overlapping_vouchers"]
    return rows(found, ["severity", "site_id", "child_id", "attendance_date", "detail"])


def test_agreeing_vouchers_use_the_lowest_id_and_are_reported_once_naming_days_and_ids():
    result = run(
        plan_frame(("S1", PPP)),
        vouchers=vouchers_frame(voucher(21, "C1", "S1", end=day(9)), voucher(20, "C1", "S1", start=day(8))),
    )
    assert rows(result.daily, ["attendance_date", "voucher_id", "day_code"]) == [
        (iso(n), 21 if n < 8 else 20, "PR") for n in WEEKDAYS
    ]
    assert overlapping(result) == [
        (
            "info",
            "S1",
            "C1",
            iso(8),
            "vouchers 20 (CCDF, full_time) and 21 (CCDF, full_time) both cover this child at this site on 2 day(s):"
            " 2026-01-08, 2026-01-09; voucher 20 (the lowest id) is used",
        )
    ]
    assert bool(result.summary["complete"].iloc[0])


def test_vouchers_disagreeing_on_the_program_leave_those_days_uncoded():
    result = run(
        plan_frame(("S1", PPP)),
        vouchers=vouchers_frame(voucher(20, "C1", "S1", end=day(9)), voucher(21, "C1", "S1", "OMW", start=day(8))),
        records=records_frame(),
    )
    coded = rows(result.daily, ["attendance_date", "voucher_id", "program"])
    assert coded == [(iso(n), 20 if n < 8 else 21, "CCDF" if n < 8 else "OMW") for n in WEEKDAYS if n not in (8, 9)]
    ((severity, _site, _child, first_day, detail),) = overlapping(result)
    assert (severity, first_day) == ("warning", iso(8))
    assert detail.endswith(
        "they disagree on the program on 2026-01-08, 2026-01-09: those child-days get no status and no code"
        " until the authorizations are corrected"
    )
    assert "vouchers 20 (CCDF, full_time) and 21 (OMW, full_time)" in detail
    # The child-period is incomplete (two enrolled days without a status): absence limits skip it.
    summary = result.summary.iloc[0]
    assert (summary["enrolled_days"], bool(summary["complete"])) == (10, False)


def test_vouchers_disagreeing_on_whether_the_child_is_expected_leave_only_those_days_uncoded():
    # A full-time voucher and a part-time one expecting the child on Tuesdays overlap all period: a
    # missed Monday would be AB under one and OD under the other. Tuesdays agree and are coded.
    result = run(
        plan_frame(("S1", PPP)),
        vouchers=vouchers_frame(voucher(30, "C1", "S1", weekdays=(2,)), voucher(31, "C1", "S1")),
    )
    assert rows(result.daily, ["attendance_date", "voucher_id", "day_code"]) == [
        (iso(6), 30, "PR"),
        (iso(13), 30, "PR"),
    ]
    ((severity, *_rest, detail),) = overlapping(result)
    assert severity == "warning"
    assert "they disagree on whether the child is expected on 2026-01-05, 2026-01-07, 2026-01-08," in detail
    assert detail.endswith("; on the other days voucher 30 (the lowest id) is used")


def test_on_a_closure_day_only_the_program_matters():
    result = run(
        plan_frame(("S1", PPP)),
        closures=closures_frame(("S1", 12)),
        vouchers=vouchers_frame(voucher(30, "C1", "S1", weekdays=(1,)), voucher(31, "C1", "S1")),
    )
    closure = result.daily[result.daily["attendance_date"] == day(12)]
    assert rows(closure, ["voucher_id", "day_code"]) == [(30, "PC")]
    kinds = {r[0] for r in overlapping(result)}
    assert kinds == {"info", "warning"}  # the closure day agrees; the open days other than Mondays do not
