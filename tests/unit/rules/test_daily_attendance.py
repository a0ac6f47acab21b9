"""Daily attendance reconciliation (rules 4 and 6-8) over tiny hand-built frames."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from ccms_attendance.periods import ServicePeriod
from ccms_attendance.rules.daily_attendance import (
    DAILY_COLUMNS,
    EXCEPTION_COLUMNS,
    SITE_PERIOD_COLUMNS,
    STAGED_SITE_PERIOD_COLUMNS,
    SUMMARY_COLUMNS,
    ReconciledPeriod,
    enrolled_days,
    operating_days,
    reconcile,
)
from ccms_attendance.rules.lifecycle import Deadline

# Sunday 2026-01-04 .. Saturday 2026-01-17: weekdays are 01-05..09 and 01-12..16.
PERIOD = ServicePeriod(dt.date(2026, 1, 4), dt.date(2026, 1, 17))
MON_FRI = [1, 2, 3, 4, 5]
WEEKDAYS = [5, 6, 7, 8, 9, 12, 13, 14, 15, 16]
PPP, BW = "PPP", "BRIGHTWHEEL"
NOT_SUBMITTED = "period not yet submitted in the portal"


def day(n: int) -> pd.Timestamp:
    """2026-01-``n`` as a datetime64 calendar day."""
    return pd.Timestamp(2026, 1, n)


def stamp(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# --- frame builders ----------------------------------------------------------------------------


def plan_frame(*rows: tuple) -> pd.DataFrame:
    """rows: (site_id, governing_source[, selected_method[, incomplete_reason]])."""
    records = []
    for row in rows:
        site_id, governing, selected, reason = (*row, None, None)[:4] if len(row) < 4 else row
        records.append(
            {
                "site_id": site_id,
                "license_number": f"LIC-{site_id}",
                "governing_source": governing,
                "selected_method": selected or governing,
                "incomplete_reason": reason,
            }
        )
    return pd.DataFrame(records, columns=["site_id", "license_number", "governing_source", "selected_method",
                                          "incomplete_reason"])  # fmt: skip


def sites_frame(**weekdays: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"site_id": list(weekdays), "operating_weekdays": list(weekdays.values())})


def closures_frame(*rows: tuple) -> pd.DataFrame:
    """rows: (site_id, day[, kind[, paid_closures_before]]); kind defaults to PC, none used before."""
    full = [(site, n, *rest, *("PC", 0)[len(rest) :]) for site, n, *rest in rows]
    return pd.DataFrame(
        {
            "site_id": pd.Series([r[0] for r in full], dtype="object"),
            "closure_date": pd.to_datetime(pd.Series([day(r[1]) for r in full], dtype="datetime64[ns]")),
            "closure_kind": pd.Series([r[2] for r in full], dtype="object"),
            "paid_closures_before": pd.Series([r[3] for r in full], dtype="int64"),
        }
    )


def voucher(
    voucher_id: int, child_id: str, site_id: str, program: str = "CCDF", start=None, end=None, weekdays=None
) -> dict:
    """A full-time voucher, or a part-time one scheduling the ISO ``weekdays`` given."""
    return {
        "voucher_id": voucher_id,
        "child_id": child_id,
        "site_id": site_id,
        "program": program,
        "schedule": "full_time" if weekdays is None else "part_time",
        "scheduled_weekdays": list(weekdays) if weekdays is not None else None,
        "authorized_start": start if start is not None else pd.Timestamp(2025, 9, 1),
        "authorized_end": end if end is not None else pd.NaT,
    }


def vouchers_frame(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(
        list(rows),
        columns=["voucher_id", "child_id", "site_id", "program", "schedule", "scheduled_weekdays",
                 "authorized_start", "authorized_end"],
    )  # fmt: skip
    for column in ("authorized_start", "authorized_end"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def record(source: str, site_id: str, child_id: str, n: int, status: str, record_id: str, **extra) -> dict:
    return {
        "source": source,
        "site_id": site_id,
        "child_id": child_id,
        "attendance_date": day(n),
        "status": status,
        # The extract step sets no day code on CCMS records; portal entries carry theirs (AB for an absence).
        "day_code": extra.get("day_code", "AB" if source == PPP and status == "absent" else None),
        "check_in": extra.get("check_in"),
        "check_out": extra.get("check_out"),
        "source_record_id": record_id,
    }


RECORD_COLUMNS = ["source", "site_id", "child_id", "attendance_date", "status", "day_code", "check_in", "check_out",
                  "source_record_id"]  # fmt: skip


def records_frame(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=RECORD_COLUMNS)
    frame["attendance_date"] = pd.to_datetime(frame["attendance_date"])
    for column in ("check_in", "check_out"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def extracts_frame(*rows: tuple) -> pd.DataFrame:
    """rows: (source, site_id, outcome[, error[, submitted[, data_through day]]]); submitted by default."""
    full = [(*row, *(None, True, None)[len(row) - 3 :]) for row in rows]
    frame = pd.DataFrame(
        [(*row[:5], stamp("2026-01-19T15:00") if row[4] else None, row[5]) for row in full],
        columns=["source", "site_id", "outcome", "error", "submitted", "submitted_at", "data_through"],
    )
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
    frame["data_through"] = pd.to_datetime(frame["data_through"].map(lambda n: day(n) if n else None))
    return frame


#: The period's submission deadline (two weeks after its end), by default already passed.
DEADLINE = Deadline(dt.date(2026, 1, 31), passed=True)
OPEN_WINDOW = Deadline(dt.date(2026, 1, 31), passed=False)


#: A child present on every open day at a CCMS site whose data was retrieved, as at real sites (see
#: ``run``); never part of what a test asserts.
WITNESS = "W-present"


def run(
    plan,
    *,
    sites=None,
    closures=None,
    vouchers=None,
    records=None,
    extracts=None,
    quarantined=None,
    deadline=DEADLINE,
    witness=True,
) -> ReconciledPeriod:
    """Reconcile tiny frames. ``extracts`` defaults to a retrieved, submitted row per planned site.

    With ``witness``, every CCMS site with vouchers whose data was retrieved also has a child
    present on every open day, filtered out of the results: a day on which the children under test
    have no record is then not a day without any record at the site (``no_attendance_for_day``,
    tested on its own with ``witness=False``).
    """
    if sites is None:
        sites = sites_frame(**dict.fromkeys(plan["site_id"], MON_FRI))
    closures = closures if closures is not None else closures_frame()
    vouchers = vouchers if vouchers is not None else vouchers_frame()
    records = records if records is not None else records_frame()
    if extracts is None:
        extracts = extracts_frame(*((row.governing_source, row.site_id, "retrieved") for row in plan.itertuples()))
    if witness:
        vouchers, records = _with_witness(plan, sites, closures, vouchers, records, extracts)
    result = reconcile(
        PERIOD,
        plan=plan,
        sites=sites,
        closures=closures,
        vouchers=vouchers,
        records=records,
        extracts=extracts,
        deadline=deadline,
        quarantined=quarantined,
    )
    assert list(result.daily.columns) == DAILY_COLUMNS
    assert list(result.summary.columns) == SUMMARY_COLUMNS
    assert list(result.site_period.columns) == STAGED_SITE_PERIOD_COLUMNS
    assert list(result.exceptions.columns) == EXCEPTION_COLUMNS
    if not witness:
        return result
    return ReconciledPeriod(
        *(frame[frame["child_id"] != WITNESS].reset_index(drop=True) for frame in (result.daily, result.summary)),
        result.site_period,
        result.exceptions[result.exceptions["child_id"] != WITNESS].reset_index(drop=True),
    )


def _with_witness(plan, sites, closures, vouchers, records, extracts) -> tuple[pd.DataFrame, pd.DataFrame]:
    retrieved = set(extracts.loc[extracts["outcome"] == "retrieved", "site_id"])
    ccms = plan[(plan["governing_source"] != PPP) & plan["incomplete_reason"].isna() & plan["site_id"].isin(retrieved)]
    witnessed = [site for site in ccms["site_id"] if site in set(vouchers["site_id"])]
    if not witnessed:
        return vouchers, records
    open_days = operating_days(PERIOD, sites[sites["site_id"].isin(witnessed)], closures)
    governing = dict(zip(plan["site_id"], plan["governing_source"], strict=True))
    extra_vouchers = vouchers_frame(*(voucher(900 + i, WITNESS, site) for i, site in enumerate(witnessed)))
    extra_records = records_frame(
        *(
            record(governing[row.site_id], row.site_id, WITNESS, row.attendance_date.day, "present", f"w-{i}")
            for i, row in enumerate(open_days.itertuples())
        )
    )
    return (
        pd.concat([vouchers, extra_vouchers], ignore_index=True),
        pd.concat([records, extra_records], ignore_index=True),
    )


# --- turning frames into comparable rows -------------------------------------------------------


def _plain(value):
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat() if value.tzinfo else value.date().isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def rows(frame: pd.DataFrame, columns: Iterable[str]) -> list[tuple]:
    return [tuple(_plain(v) for v in row) for row in frame[list(columns)].itertuples(index=False)]


DAILY_SHORT = ["site_id", "child_id", "attendance_date", "status", "basis", "source", "source_record_id"]
SITE_SHORT = ["site_id", "governing_source", "selected_method", "complete", "incomplete_reason"]
SITE_LIFECYCLE = ["site_id", "lifecycle", "incomplete_kind", "final_through", "pending_days"]
EXC_SHORT = ["kind", "severity", "site_id", "child_id", "attendance_date"]


def iso(n: int) -> str:
    return day(n).date().isoformat()


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


# --- order and dtypes (the rules work on integer codes of the keys) ----------------------------


def test_enrolled_days_keep_the_lowest_voucher_id_with_its_own_schedule():
    open_days = operating_days(PERIOD, sites_frame(S1=MON_FRI), closures_frame())
    vouchers = vouchers_frame(
        voucher(31, "C1", "S1", weekdays=(1, 2, 3, 4, 5), end=day(9)),
        voucher(30, "C1", "S1", weekdays=(2,), start=day(8)),  # lower id: wins from 01-08 on
    )
    result = enrolled_days(open_days, vouchers)
    assert rows(result, ["attendance_date", "voucher_id", "scheduled"]) == [
        (iso(5), 31, True), (iso(6), 31, True), (iso(7), 31, True), (iso(8), 30, False), (iso(9), 30, False),
        (iso(12), 30, False), (iso(13), 30, True), (iso(14), 30, False), (iso(15), 30, False), (iso(16), 30, False),
    ]  # fmt: skip


def test_rows_follow_the_string_order_of_site_and_child_ids():
    # "S10" sorts before "S2" and "C10" before "C9" as strings: the order the rows must keep.
    result = run(
        plan_frame(("S2", PPP), ("S10", PPP)),
        vouchers=vouchers_frame(voucher(1, "C9", "S2"), voucher(2, "C10", "S2"), voucher(3, "C9", "S10")),
    )
    pairs = list(dict.fromkeys(rows(result.daily, ["site_id", "child_id"])))
    assert pairs == [("S10", "C9"), ("S2", "C10"), ("S2", "C9")]
    assert rows(result.summary, ["site_id", "child_id"]) == pairs
    assert rows(result.site_period, ["site_id"]) == [("S10",), ("S2",)]
    dates = rows(result.daily[result.daily["child_id"] == "C10"], ["attendance_date"])
    assert dates == [(iso(n),) for n in WEEKDAYS]


def test_object_and_str_key_columns_give_the_same_rows():
    def inputs(dtype: str) -> dict:
        frames = {
            "plan": plan_frame(("S1", BW), ("S2", PPP)),
            "closures": closures_frame(("S1", 12), ("S2", 13, "NP")),
            "vouchers": vouchers_frame(voucher(1, "C1", "S1"), voucher(2, "C2", "S2", weekdays=(1, 3))),
            "records": records_frame(
                record(BW, "S1", "C1", 6, "present", "bw-1"),
                record(PPP, "S2", "C2", 7, "absent", "p-1"),
                record(PPP, "S1", "C1", 8, "absent", "p-2"),
            ),
            "extracts": extracts_frame((BW, "S1", "retrieved")),
        }
        for frame in frames.values():
            for column in ("site_id", "child_id"):
                if column in frame:
                    frame[column] = frame[column].astype(dtype)
        return frames

    as_str, as_object = run(**inputs("str")), run(**inputs("object"))
    for name in ("daily", "summary", "site_period", "exceptions"):
        frame = getattr(as_str, name)
        assert rows(frame, frame.columns) == rows(getattr(as_object, name), frame.columns)


def test_weekday_masks_read_each_voucher_schedule_once():
    from ccms_attendance.rules.day_codes import is_scheduled, weekday_masks

    vouchers = vouchers_frame(
        voucher(1, "C1", "S1"), voucher(2, "C2", "S1", weekdays=(1, 3)), voucher(3, "C3", "S1", weekdays=())
    )
    assert list(weekday_masks(vouchers)) == [0b11111110, 0b1010, 0]
    # A one-pass iterable cannot be read in advance: it is read on each day, as before.
    vouchers.at[1, "scheduled_weekdays"] = iter([1, 3])
    assert list(weekday_masks(vouchers)) == [0b11111110, -1, 0]
    days = pd.DataFrame({"attendance_date": [day(5)], "schedule": ["part_time"], "scheduled_weekdays": [[1]]})
    assert is_scheduled(days).tolist() == [True]


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
