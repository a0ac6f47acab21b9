"""Daily attendance reconciliation: records of other sources (rules 4 and 8), governing records
that cannot be used, several sites at once (builders: ``support.daily_frames``).
"""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from support.daily_frames import (
    BW,
    DAILY_SHORT,
    EXC_SHORT,
    MON_FRI,
    PPP,
    SITE_SHORT,
    closures_frame,
    day,
    extracts_frame,
    iso,
    plan_frame,
    record,
    records_frame,
    rows,
    run,
    sites_frame,
    stamp,
    voucher,
    vouchers_frame,
)

from ccms_attendance.rules.daily_attendance import (
    DAILY_COLUMNS,
)

# --- other sources: rules 4 and 8 --------------------------------------------------------------


def test_portal_entry_at_a_ccms_site_is_reported_not_used():
    result = run(
        plan_frame(("S2", BW)),
        vouchers=vouchers_frame(voucher(20, "C1", "S2")),
        records=records_frame(
            record(BW, "S2", "C1", 7, "present", "bw-7"),
            record(PPP, "S2", "C1", 7, "absent", "ppp-7"),  # disagrees with the governing record
            record(PPP, "S2", "C1", 8, "absent", "ppp-8"),  # agrees with the inferred absence
        ),
        extracts=extracts_frame((BW, "S2", "retrieved")),
    )
    assert set(result.daily["source"]) == {BW}
    assert "ppp-7" not in set(result.daily["source_record_id"].dropna())
    assert rows(result.daily[result.daily["attendance_date"].isin([day(7), day(8)])], DAILY_SHORT) == [
        ("S2", "C1", iso(7), "present", "recorded", BW, "bw-7"),
        ("S2", "C1", iso(8), "absent", "no_check_in", BW, None),
    ]
    assert rows(result.exceptions, [*EXC_SHORT, "detail"]) == [
        ("portal_entry_while_ccms", "warning", "S2", "C1", iso(7),
         "portal entry ppp-7 ignored: the portal is read-only while BRIGHTWHEEL governs this site"),
        ("portal_entry_while_ccms", "warning", "S2", "C1", iso(8),
         "portal entry ppp-8 ignored: the portal is read-only while BRIGHTWHEEL governs this site"),
        ("source_disagreement", "info", "S2", "C1", iso(7), "PPP says absent but governing BRIGHTWHEEL says present"),
    ]  # fmt: skip


def test_ccms_record_disagreeing_with_governing_ppp_is_information():
    result = run(
        plan_frame(("S1", PPP, BW)),
        vouchers=vouchers_frame(voucher(10, "C1", "S1")),
        records=records_frame(
            record(BW, "S1", "C1", 9, "absent", "bw-9"),  # PPP infers present: disagreement
            record(BW, "S1", "C1", 12, "present", "bw-12"),  # agrees
        ),
    )
    assert rows(result.daily[result.daily["attendance_date"] == day(9)], DAILY_SHORT) == [
        ("S1", "C1", iso(9), "present", "no_absence_entry", PPP, None)
    ]
    assert rows(result.exceptions, [*EXC_SHORT, "detail"]) == [
        ("source_disagreement", "info", "S1", "C1", iso(9), "BRIGHTWHEEL says absent but governing PPP says present")
    ]


# --- governing records that cannot be used -----------------------------------------------------

UNENROLLED_ABSENCE = "records an absence on a day the child has no CCDF/OMW voucher authorized at this site"


@pytest.mark.parametrize(
    ("source", "governing", "n", "child", "kind", "detail"),
    [
        (BW, BW, 10, "C1", "record_on_non_operating_day", "BRIGHTWHEEL record r-x is for a day the site is not open"),
        (BW, BW, 12, "C1", "record_on_non_operating_day", "BRIGHTWHEEL record r-x is for a day the site is not open"),
        (PPP, PPP, 11, "C1", "record_on_non_operating_day", "PPP record r-x is for a day the site is not open"),
        (BW, BW, 16, "C2", "absence_for_unenrolled_child", f"BRIGHTWHEEL record r-x {UNENROLLED_ABSENCE}"),
        (PPP, PPP, 7, "C3", "absence_for_unenrolled_child", f"PPP record r-x {UNENROLLED_ABSENCE}"),
        (BW, BW, 7, "C9", "absence_for_unenrolled_child", f"BRIGHTWHEEL record r-x {UNENROLLED_ABSENCE}"),
    ],
    ids=["saturday", "closure", "ppp-sunday", "after-voucher-end", "non-reported-program", "no-voucher-at-site"],
)  # fmt: skip
def test_unusable_governing_record_is_reported_not_used(source, governing, n, child, kind, detail):
    result = run(
        plan_frame(("S1", governing)),
        closures=closures_frame(("S1", 12)),
        vouchers=vouchers_frame(
            voucher(10, "C1", "S1"),
            voucher(11, "C2", "S1", end=day(14)),
            voucher(12, "C3", "S1", "TANF"),
        ),
        records=records_frame(
            record(source, "S1", "C1", 5, "present", "r-ok"),
            record(source, "S1", "C2", 5, "present", "r-ok2"),
            record(source, "S1", child, n, "absent", "r-x"),
        ),
        extracts=extracts_frame((governing, "S1", "retrieved")),
    )
    assert "r-x" not in set(result.daily["source_record_id"].dropna())
    child_day = result.daily[(result.daily["child_id"] == child) & (result.daily["attendance_date"] == day(n))]
    # Only the site's own closure register can give that child-day a code (PC on 01-12).
    assert set(child_day["basis"]) <= {"site_closure"}
    assert rows(result.exceptions, [*EXC_SHORT, "detail"]) == [(kind, "warning", "S1", child, iso(n), detail)]
    assert rows(result.site_period, ["complete"]) == [(True,)]


def test_presence_recorded_outside_enrollment_is_reported_not_used():
    result = run(
        plan_frame(("S1", BW)),
        vouchers=vouchers_frame(voucher(10, "C1", "S1", end=day(9))),
        records=records_frame(
            record(BW, "S1", "C1", 5, "present", "r-ok"), record(BW, "S1", "C1", 13, "present", "r-late")
        ),
        extracts=extracts_frame((BW, "S1", "retrieved")),
    )
    assert "r-late" not in set(result.daily["source_record_id"].dropna())
    assert rows(result.exceptions, [*EXC_SHORT, "detail"]) == [
        ("record_outside_enrollment", "warning", "S1", "C1", iso(13),
         "BRIGHTWHEEL record r-late is for a day the child has no CCDF/OMW voucher authorized at this site"),
    ]  # fmt: skip


def test_duplicate_governing_records_are_merged_present_wins():
    result = run(
        plan_frame(("S2", BW)),
        vouchers=vouchers_frame(voucher(20, "C1", "S2")),
        records=records_frame(
            record(BW, "S2", "C1", 5, "absent", "bw-b"),
            record(BW, "S2", "C1", 5, "present", "bw-c", check_in=stamp("2026-01-05T15:00"),
                   check_out=stamp("2026-01-05T18:00")),
            record(BW, "S2", "C1", 5, "present", "bw-a", check_in=stamp("2026-01-05T13:00"),
                   check_out=stamp("2026-01-05T16:00")),
        ),
        extracts=extracts_frame((BW, "S2", "retrieved")),
    )  # fmt: skip
    first = result.daily[result.daily["attendance_date"] == day(5)]
    assert rows(first, DAILY_COLUMNS) == [
        ("S2", "C1", iso(5), 20, "CCDF", "present", "recorded", "PR", BW, "bw-a+bw-b+bw-c",
         "2026-01-05T13:00:00+00:00", "2026-01-05T18:00:00+00:00"),
    ]  # fmt: skip
    assert len(result.daily) == 10
    assert rows(result.exceptions, [*EXC_SHORT, "detail"]) == [
        (
            "duplicate_child_day",
            "info",
            "S2",
            "C1",
            iso(5),
            "3 governing records for one child-day; merged (present wins)",
        )
    ]
    assert rows(result.summary, ["enrolled_days", "absent_days", "absence_rate", "complete"]) == [(10, 9, 0.9, True)]


def test_merged_child_day_keeps_the_day_code_of_the_winning_record():
    # "present wins": the merged row must not carry the losing absence's day code.
    result = run(
        plan_frame(("S2", BW)),
        vouchers=vouchers_frame(voucher(20, "C1", "S2")),
        records=records_frame(
            record(BW, "S2", "C1", 5, "absent", "bw-1", day_code="AB"),
            record(BW, "S2", "C1", 5, "present", "bw-2", day_code=None),
        ),
        extracts=extracts_frame((BW, "S2", "retrieved")),
    )
    assert rows(
        result.daily[result.daily["attendance_date"] == day(5)], ["status", "day_code", "source_record_id"]
    ) == [("present", "PR", "bw-1+bw-2")]


def test_duplicate_absences_stay_absent():
    result = run(
        plan_frame(("S1", PPP)),
        vouchers=vouchers_frame(voucher(10, "C1", "S1")),
        records=records_frame(record(PPP, "S1", "C1", 5, "absent", "p2"), record(PPP, "S1", "C1", 5, "absent", "p1")),
    )
    assert rows(result.daily[result.daily["attendance_date"] == day(5)], DAILY_SHORT) == [
        ("S1", "C1", iso(5), "absent", "recorded", PPP, "p1+p2")
    ]
    assert rows(result.exceptions, ["kind"]) == [("duplicate_child_day",)]


# --- several sites at once ---------------------------------------------------------------------


def test_summary_over_several_sites_is_exact():
    result = run(
        plan_frame(("S1", PPP), ("S2", BW), ("S3", BW, BW, "license LIC-S3 is not linked")),
        sites=sites_frame(S1=MON_FRI, S2=[1, 3, 5], S3=MON_FRI),
        closures=closures_frame(("S2", 9)),
        vouchers=vouchers_frame(
            voucher(10, "C1", "S1"),
            voucher(11, "C2", "S1", start=day(12)),
            voucher(20, "C3", "S2"),
            voucher(30, "C4", "S3"),
        ),
        records=records_frame(
            record(PPP, "S1", "C1", 5, "absent", "p-1"),
            record(PPP, "S1", "C1", 6, "absent", "p-2"),
            record(PPP, "S1", "C2", 14, "absent", "p-3"),
            record(BW, "S2", "C3", 5, "present", "b-1"),
            record(BW, "S2", "C3", 7, "present", "b-2"),
            record(BW, "S3", "C4", 5, "absent", "b-3"),
        ),
        extracts=extracts_frame((PPP, "S1", "retrieved"), (BW, "S2", "retrieved"), (BW, "S3", "retrieved")),
    )
    # S2 operates Mon/Wed/Fri: 01-05, 07, 09 (closed), 12, 14, 16 -> 5 days; C3 present twice.
    assert_frame_equal(
        result.summary,
        pd.DataFrame(
            {
                "site_id": ["S1", "S1", "S2", "S3"],
                "child_id": ["C1", "C2", "C3", "C4"],
                "operating_days": [10, 10, 5, 10],
                "enrolled_days": [10, 5, 5, 10],
                # S3's recorded absence is not final (its data is unavailable): pending, not counted.
                "absent_days": [2, 1, 3, 0],
                "absence_rate": [0.2, 0.2, 0.6, 0.0],
                "source": [PPP, PPP, BW, BW],
                "complete": [True, True, True, False],
                "off_days": [0, 0, 0, 0],
                "paid_closure_days": [0, 0, 1, 0],
                "unpaid_closure_days": [0, 0, 0, 0],
                "pending_days": [0, 0, 0, 10],
                "lifecycle": ["final", "final", "final", "final"],
            }
        ),
        check_dtype=False,
    )
    assert rows(result.site_period, SITE_SHORT) == [
        ("S1", PPP, PPP, True, None),
        ("S2", BW, BW, True, None),
        ("S3", BW, BW, False, "license LIC-S3 is not linked"),
    ]
    # S1: 10 + 5 open child-days; S2: 5 open days and the PC closure; S3 (incomplete): 10 pending days.
    assert len(result.daily) == 10 + 5 + 5 + 1 + 10


def test_absence_rate_is_rounded_to_four_places():
    result = run(
        plan_frame(("S1", PPP)),
        sites=sites_frame(S1=[1, 2, 3, 4, 5, 6]),  # 12 operating days
        vouchers=vouchers_frame(voucher(10, "C1", "S1", start=day(6))),  # 01-06..01-17 minus Sunday -> 11 days
        records=records_frame(*(record(PPP, "S1", "C1", n, "absent", f"p-{n}") for n in [6, 7])),
    )
    assert rows(result.summary, ["operating_days", "enrolled_days", "absent_days", "absence_rate"]) == [
        (12, 11, 2, 0.1818)
    ]
