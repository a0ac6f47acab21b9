"""Tiny hand-built frames for the daily attendance reconciliation tests (tests/unit/rules), and
``run``, which reconciles them the way the pipeline does, with a witness child where a real site
would have one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

from ccms_attendance.periods import ServicePeriod
from ccms_attendance.rules.daily_attendance import (
    DAILY_COLUMNS,
    EXCEPTION_COLUMNS,
    STAGED_SITE_PERIOD_COLUMNS,
    SUMMARY_COLUMNS,
    ReconciledPeriod,
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
