"""Daily attendance reconciliation (rules 4 and 6-8) over tiny hand-built frames: operating and
enrolled days, PPP sites, CCMS sites (builders: ``support.daily_frames``).
"""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from support.daily_frames import (
    BW,
    DAILY_SHORT,
    DEADLINE,
    EXC_SHORT,
    MON_FRI,
    OPEN_WINDOW,
    PERIOD,
    PPP,
    SITE_LIFECYCLE,
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
    sites_frame,
    stamp,
    voucher,
    vouchers_frame,
)

from ccms_attendance.rules.daily_attendance import (
    DAILY_COLUMNS,
    SITE_PERIOD_COLUMNS,
    SUMMARY_COLUMNS,
    enrolled_days,
    operating_days,
)

# --- operating and enrolled days ---------------------------------------------------------------


def test_operating_days_are_site_weekdays_minus_closures():
    sites = sites_frame(S1=MON_FRI, S2=[1, 3, 6], S3=[])
    closures = closures_frame(("S1", 12), ("S2", 7), ("S9", 5))
    result = operating_days(PERIOD, sites, closures)
    assert list(result.columns) == ["site_id", "attendance_date"]
    assert rows(result, ["site_id", "attendance_date"]) == [
        *[("S1", iso(n)) for n in [5, 6, 7, 8, 9, 13, 14, 15, 16]],
        *[("S2", iso(n)) for n in [5, 10, 12, 14, 17]],
    ]


def test_operating_days_without_closures_covers_every_weekday():
    result = operating_days(PERIOD, sites_frame(S1=MON_FRI), closures_frame())
    assert rows(result, ["attendance_date"]) == [(iso(n),) for n in WEEKDAYS]
    assert pd.api.types.is_datetime64_dtype(result["attendance_date"])


def test_enrolled_days_respect_voucher_dates_programs_and_sites():
    open_days = operating_days(PERIOD, sites_frame(S1=MON_FRI, S2=MON_FRI), closures_frame(("S1", 12)))
    vouchers = vouchers_frame(
        voucher(10, "C1", "S1"),  # open-ended
        voucher(11, "C2", "S1", "OMW", start=day(7), end=day(13)),  # inclusive both ends
        voucher(12, "C3", "S1", "TANF"),  # not a reported program
        voucher(13, "C4", "S2", start=day(15)),  # other site, starts late
        voucher(14, "C5", "S1", end=day(4)),  # ended before the first operating day
        voucher(21, "C6", "S1", start=day(8), end=day(9)),
        voucher(20, "C6", "S1", "OMW", start=day(9), end=day(13)),  # overlaps 01-09: lowest voucher id kept
    )
    result = enrolled_days(open_days, vouchers)
    assert list(result.columns) == [
        "site_id", "child_id", "attendance_date", "voucher_id", "program", "schedule", "scheduled",
    ]  # fmt: skip
    assert rows(result, result.columns) == [
        *[("S1", "C1", iso(n), 10, "CCDF", "full_time", True) for n in [5, 6, 7, 8, 9, 13, 14, 15, 16]],
        *[("S1", "C2", iso(n), 11, "OMW", "full_time", True) for n in [7, 8, 9, 13]],
        ("S1", "C6", iso(8), 21, "CCDF", "full_time", True),
        ("S1", "C6", iso(9), 20, "OMW", "full_time", True),
        ("S1", "C6", iso(13), 20, "OMW", "full_time", True),
        *[("S2", "C4", iso(n), 13, "CCDF", "full_time", True) for n in [15, 16]],
    ]


# --- PPP ---------------------------------------------------------------------------------------


def test_ppp_complete_site_exact_rows():
    result = run(
        plan_frame(("S1", PPP)),
        closures=closures_frame(("S1", 12)),
        vouchers=vouchers_frame(
            voucher(10, "C1", "S1"),
            voucher(11, "C2", "S1", "OMW", start=day(7), end=day(13)),
            voucher(12, "C3", "S1", "TANF"),
        ),
        records=records_frame(record(PPP, "S1", "C1", 6, "absent", "ppp-1")),
        extracts=extracts_frame((PPP, "S1", "retrieved")),
    )
    c1_days = [5, 6, 7, 8, 9, 12, 13, 14, 15, 16]
    expected = [
        ("S1", "C1", iso(n), 10, "CCDF", "present", "no_absence_entry", "PR", PPP, None, None, None) for n in c1_days
    ]
    expected[1] = ("S1", "C1", iso(6), 10, "CCDF", "absent", "recorded", "AB", PPP, "ppp-1", None, None)
    # The registered closure on 01-12 is a PC day for every child enrolled that day.
    expected[5] = ("S1", "C1", iso(12), 10, "CCDF", "closed", "site_closure", "PC", PPP, None, None, None)
    expected += [
        ("S1", "C2", iso(n), 11, "OMW", "present", "no_absence_entry", "PR", PPP, None, None, None)
        for n in [7, 8, 9, 13]
    ]
    expected.insert(-1, ("S1", "C2", iso(12), 11, "OMW", "closed", "site_closure", "PC", PPP, None, None, None))
    assert rows(result.daily, DAILY_COLUMNS) == expected
    assert rows(result.site_period, SITE_PERIOD_COLUMNS) == [
        ("S1", PPP, PPP, True, None, "final", None, "2026-01-19T15:00:00+00:00", iso(17), 0)
    ]
    assert result.exceptions.empty
    assert_frame_equal(
        result.summary,
        pd.DataFrame(
            {
                "site_id": ["S1", "S1"],
                "child_id": ["C1", "C2"],
                "operating_days": [9, 9],
                "enrolled_days": [9, 4],
                "absent_days": [1, 0],
                "absence_rate": [0.1111, 0.0],
                "source": [PPP, PPP],
                "complete": [True, True],
                "off_days": [0, 0],
                "paid_closure_days": [1, 1],
                "unpaid_closure_days": [0, 0],
                "pending_days": [0, 0],
                "lifecycle": ["final", "final"],
            }
        ),
        check_dtype=False,
    )


def test_ppp_without_extract_row_is_unavailable_and_pending():
    # The extract step stages a row for every planned site: none means the portal was not read.
    result = run(plan_frame(("S1", PPP)), vouchers=vouchers_frame(voucher(10, "C1", "S1")), extracts=extracts_frame())
    assert rows(result.site_period, ["site_id", "complete", "incomplete_reason"]) == [
        ("S1", False, "PPP data unavailable: no extraction result")
    ]
    assert len(result.daily) == 10
    assert set(result.daily["status"]) == {"pending"}
    assert set(result.daily["basis"]) == {"data_unavailable"}
    assert result.daily["day_code"].isna().all()


NOT_SUBMITTED_OPEN = "period not yet submitted in the portal; its days are pending"


def test_ppp_period_not_submitted_has_only_pending_days():
    # Entries typed but not submitted are not final: no absence, not even the typed one.
    result = run(
        plan_frame(("S1", PPP)),
        vouchers=vouchers_frame(voucher(10, "C1", "S1"), voucher(11, "C2", "S1")),
        records=records_frame(record(PPP, "S1", "C1", 8, "absent", "ppp-8")),
        extracts=extracts_frame((PPP, "S1", "retrieved", None, False)),
        deadline=OPEN_WINDOW,
    )
    assert set(result.daily["status"]) == {"pending"}
    assert result.daily["day_code"].isna().all()
    assert len(result.daily) == 20
    # The typed entry keeps its lineage on its pending day.
    assert rows(result.daily[result.daily["source_record_id"].notna()], DAILY_SHORT) == [
        ("S1", "C1", iso(8), "pending", "not_submitted", PPP, "ppp-8")
    ]
    assert rows(result.site_period, SITE_SHORT) == [("S1", PPP, PPP, False, NOT_SUBMITTED_OPEN)]
    assert rows(result.site_period, SITE_LIFECYCLE) == [("S1", "provisional", "not_submitted", None, 20)]
    assert rows(result.exceptions, [*EXC_SHORT, "detail"]) == [
        ("site_period_incomplete", "warning", "S1", None, None, NOT_SUBMITTED_OPEN)
    ]
    assert rows(result.summary, SUMMARY_COLUMNS) == [
        ("S1", "C1", 10, 10, 0, 0.0, PPP, False, 0, 0, 0, 10, "provisional"),
        ("S1", "C2", 10, 10, 0, 0.0, PPP, False, 0, 0, 0, 10, "provisional"),
    ]


def test_ppp_period_not_submitted_by_the_deadline_is_final_but_still_pending():
    result = run(
        plan_frame(("S1", PPP)),
        vouchers=vouchers_frame(voucher(10, "C1", "S1")),
        extracts=extracts_frame((PPP, "S1", "retrieved", None, False)),
        deadline=DEADLINE,
    )
    assert set(result.daily["status"]) == {"pending"}
    assert rows(result.site_period, ["complete", "incomplete_reason", "lifecycle"]) == [
        (False, "period not submitted in the portal by the deadline 2026-01-31; its days are pending", "final")
    ]


def test_ppp_failed_validation_makes_the_site_incomplete():
    result = run(
        plan_frame(("S1", PPP)),
        vouchers=vouchers_frame(voucher(10, "C1", "S1")),
        extracts=extracts_frame((PPP, "S1", "failed", "portal entries failed validation")),
    )
    assert set(result.daily["status"]) == {"pending"}
    assert set(result.daily["basis"]) == {"data_unavailable"}
    assert rows(result.site_period, ["complete", "incomplete_reason", "incomplete_kind"]) == [
        (False, "PPP data unavailable: portal entries failed validation", "data_unavailable")
    ]


# --- CCMS --------------------------------------------------------------------------------------

CHECK_IN, CHECK_OUT = "2026-01-05T13:05:00+00:00", "2026-01-05T21:40:00+00:00"


def test_ccms_complete_site_exact_rows():
    result = run(
        plan_frame(("S2", BW)),
        vouchers=vouchers_frame(voucher(20, "C1", "S2"), voucher(21, "C2", "S2", "OMW", start=day(12))),
        records=records_frame(
            record(BW, "S2", "C1", 5, "present", "bw-1", check_in=stamp(CHECK_IN), check_out=stamp(CHECK_OUT)),
            record(BW, "S2", "C1", 6, "absent", "bw-2"),
            record(BW, "S2", "C2", 16, "present", "bw-3", check_in=stamp("2026-01-16T14:00")),
        ),
        extracts=extracts_frame((BW, "S2", "retrieved")),
    )
    expected = [
        ("S2", "C1", iso(5), 20, "CCDF", "present", "recorded", "PR", BW, "bw-1", CHECK_IN, CHECK_OUT),
        ("S2", "C1", iso(6), 20, "CCDF", "absent", "recorded", "AB", BW, "bw-2", None, None),
        *[("S2", "C1", iso(n), 20, "CCDF", "absent", "no_check_in", "AB", BW, None, None, None)
          for n in [7, 8, 9, 12, 13, 14, 15, 16]],
        *[("S2", "C2", iso(n), 21, "OMW", "absent", "no_check_in", "AB", BW, None, None, None)
          for n in [12, 13, 14, 15]],
        ("S2", "C2", iso(16), 21, "OMW", "present", "recorded", "PR", BW, "bw-3", "2026-01-16T14:00:00+00:00", None),
    ]  # fmt: skip
    assert rows(result.daily, DAILY_COLUMNS) == expected
    assert rows(result.site_period, SITE_PERIOD_COLUMNS) == [
        ("S2", BW, BW, True, None, "final", None, "2026-01-19T15:00:00+00:00", iso(17), 0)
    ]
    assert result.exceptions.empty
    assert_frame_equal(
        result.summary,
        pd.DataFrame(
            {
                "site_id": ["S2", "S2"],
                "child_id": ["C1", "C2"],
                "operating_days": [10, 10],
                "enrolled_days": [10, 5],
                "absent_days": [9, 4],
                "absence_rate": [0.9, 0.8],
                "source": [BW, BW],
                "complete": [True, True],
                "off_days": [0, 0],
                "paid_closure_days": [0, 0],
                "unpaid_closure_days": [0, 0],
                "pending_days": [0, 0],
                "lifecycle": ["final", "final"],
            }
        ),
        check_dtype=False,
    )


@pytest.mark.parametrize(
    ("plan_row", "extracts", "reason"),
    [
        (("S2", BW), [(BW, "S2", "failed", "HTTP 503")], "BRIGHTWHEEL data unavailable: HTTP 503"),
        (("S2", BW), [(BW, "S2", "failed")], "BRIGHTWHEEL data unavailable: no extraction result"),
        (("S2", BW), [], "BRIGHTWHEEL data unavailable: no extraction result"),
        (("S2", BW, BW, "license LIC-S2 is not linked"), [(BW, "S2", "retrieved")], "license LIC-S2 is not linked"),
    ],
    ids=["extract-failed", "failed-without-error", "no-extract-result", "license-not-linked"],
)  # fmt: skip
def test_incomplete_ccms_site_has_only_pending_days(plan_row, extracts, reason):
    # Data that could not be retrieved is missing, never absent: every enrolled day is pending, and
    # what was recorded keeps its lineage there but no status or code.
    result = run(
        plan_frame(plan_row),
        vouchers=vouchers_frame(voucher(20, "C1", "S2"), voucher(21, "C2", "S2")),
        records=records_frame(
            record(BW, "S2", "C1", 5, "present", "bw-1"), record(BW, "S2", "C1", 6, "absent", "bw-2")
        ),
        extracts=extracts_frame(*extracts),
    )
    assert len(result.daily) == 20
    assert set(result.daily["status"]) == {"pending"}
    assert set(result.daily["basis"]) == {"data_unavailable"}
    assert rows(result.daily[result.daily["source_record_id"].notna()], DAILY_SHORT) == [
        ("S2", "C1", iso(5), "pending", "data_unavailable", BW, "bw-1"),
        ("S2", "C1", iso(6), "pending", "data_unavailable", BW, "bw-2"),
    ]
    assert rows(result.site_period, SITE_SHORT) == [("S2", BW, BW, False, reason)]
    assert rows(result.exceptions, [*EXC_SHORT, "detail"]) == [
        ("site_period_incomplete", "warning", "S2", None, None, reason)
    ]
    assert rows(result.summary, SUMMARY_COLUMNS) == [
        ("S2", "C1", 10, 10, 0, 0.0, BW, False, 0, 0, 0, 10, "final"),
        ("S2", "C2", 10, 10, 0, 0.0, BW, False, 0, 0, 0, 10, "final"),
    ]


def test_ccms_retrieved_but_empty_for_enrolled_children_is_incomplete():
    result = run(
        plan_frame(("S2", BW)),
        vouchers=vouchers_frame(voucher(20, "C1", "S2")),
        extracts=extracts_frame((BW, "S2", "retrieved")),
        witness=False,
    )
    reason = "BRIGHTWHEEL returned no records for a site with enrolled children"
    assert set(result.daily["status"]) == {"pending"}
    assert rows(result.site_period, SITE_SHORT) == [("S2", BW, BW, False, reason)]
    assert rows(result.exceptions, ["kind", "site_id", "detail"]) == [("site_period_incomplete", "S2", reason)]
    assert rows(result.summary, ["absent_days", "complete", "pending_days"]) == [(0, False, 10)]


def test_ccms_retrieved_and_empty_without_enrolled_children_is_complete():
    result = run(plan_frame(("S2", BW)), extracts=extracts_frame((BW, "S2", "retrieved")))
    assert rows(result.site_period, ["complete", "incomplete_reason"]) == [(True, None)]
    assert result.daily.empty
    assert result.summary.empty
    assert result.exceptions.empty


def test_ccms_child_without_any_record_gets_no_inferred_absences():
    result = run(
        plan_frame(("S2", BW)),
        vouchers=vouchers_frame(voucher(20, "C1", "S2"), voucher(21, "C2", "S2")),
        records=records_frame(record(BW, "S2", "C1", 5, "present", "bw-1")),
        extracts=extracts_frame((BW, "S2", "retrieved")),
    )
    assert set(result.daily["child_id"]) == {"C1"}
    assert len(result.daily) == 10
    assert rows(result.exceptions, EXC_SHORT) == [("child_missing_from_ccms", "warning", "S2", "C2", None)]
    assert rows(result.summary, ["child_id", "enrolled_days", "absent_days", "complete"]) == [
        ("C1", 10, 9, True),
        ("C2", 10, 0, False),
    ]


def test_quarantined_governing_record_blocks_inference_for_its_day():
    quarantined = pd.DataFrame(
        {"source": [BW], "site_id": ["S2"], "child_id": ["C1"], "attendance_date": pd.to_datetime([day(6)])}
    )
    result = run(
        plan_frame(("S2", BW)),
        vouchers=vouchers_frame(voucher(20, "C1", "S2")),
        records=records_frame(record(BW, "S2", "C1", 5, "present", "bw-1")),
        extracts=extracts_frame((BW, "S2", "retrieved")),
        quarantined=quarantined,
    )
    assert day(6) not in set(result.daily["attendance_date"])
    assert len(result.daily) == 9
    assert rows(result.exceptions, EXC_SHORT) == [("status_withheld_quarantined_record", "warning", "S2", "C1", iso(6))]
    assert rows(result.summary, ["absent_days", "complete"]) == [(8, False)]
