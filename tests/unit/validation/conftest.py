"""Valid frames for every GX suite; tests break one thing at a time."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from types import SimpleNamespace

import pandas as pd
import pytest

from ccms_attendance.canonical import STATE_TIMEZONE, Source

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

PERIOD_START = dt.date(2025, 1, 6)
PERIOD_END = dt.date(2025, 1, 19)
PERIOD = {"period_start": PERIOD_START, "period_end": PERIOD_END}
ROWS = 100  # one bad row = 1%, well under the default max_quarantine_fraction of 5%

EXTRACT_SUITES = {
    Source.PPP: "ppp_entries",
    Source.ALLIANCE_CORE: "alliance_core_extract",
    Source.BRIGHTWHEEL: "brightwheel_extract",
    Source.PLAYGROUND: "playground_extract",
}


def _day(i: int) -> dt.date:
    return PERIOD_START + dt.timedelta(days=i % 14)


def extract_frame(source: Source, rows: int = ROWS, *, python_objects: bool = False) -> pd.DataFrame:
    """Canonical staged records; indexed by ``record_no`` (as the pipeline does) starting at 1000."""
    days = [_day(i) for i in range(rows)]
    ppp = source is Source.PPP
    status = ["absent" if ppp or i % 5 == 0 else "present" for i in range(rows)]
    check_in = [
        None if s == "absent" else dt.datetime.combine(d, dt.time(7, 30), STATE_TIMEZONE)
        for d, s in zip(days, status, strict=True)
    ]
    check_out = [None if t is None else t + dt.timedelta(hours=9) for t in check_in]
    frame = pd.DataFrame(
        {
            "record_no": range(1000, 1000 + rows),
            "source": str(source),
            "site_id": [f"S{i % 7}" for i in range(rows)],
            "license_number": [f"L{i % 7}" for i in range(rows)],
            "child_id": [f"C{i:04d}" for i in range(rows)],
            "attendance_date": days,
            "status": status,
            "day_code": [("AB", "OD", "PC", "NP")[i % 4] if ppp else None for i in range(rows)],
            "check_in": check_in,
            "check_out": check_out,
            "absence_reason": ["ILL" if source is Source.PLAYGROUND and s == "absent" else None for s in status],
            "source_record_id": [f"{source.lower()}-{i}" for i in range(rows)],
        }
    )
    if not python_objects:
        frame["attendance_date"] = pd.to_datetime(frame["attendance_date"])
        frame["check_in"] = pd.to_datetime(frame["check_in"], utc=True)
        frame["check_out"] = pd.to_datetime(frame["check_out"], utc=True)
    else:
        frame = frame.astype(object)
    return frame.set_index("record_no", drop=False)


def daily_frame(rows: int = ROWS) -> pd.DataFrame:
    """Every 10th row (9, 19, ...) is a pending child-day: no status but ``pending``, no day code."""
    days = [_day(i) for i in range(rows)]
    sources = ["PPP", "ALLIANCE_CORE", "BRIGHTWHEEL", "PLAYGROUND"]
    pending = [i % 10 == 9 for i in range(rows)]
    basis = [
        "not_submitted" if pending[i] else "recorded" if i % 3 else ("no_absence_entry" if i % 2 else "no_check_in")
        for i in range(rows)
    ]
    check_in = pd.Series(
        [pd.Timestamp(d).tz_localize(STATE_TIMEZONE) + pd.Timedelta(hours=8) for d in days]
    ).dt.tz_convert("UTC")
    return pd.DataFrame(
        {
            "site_id": [f"S{i % 7}" for i in range(rows)],
            "child_id": [f"C{i:04d}" for i in range(rows)],
            "attendance_date": pd.to_datetime(days),
            "voucher_id": [f"V{i}" for i in range(rows)],
            "program": ["CCDF" if i % 2 else "OMW" for i in range(rows)],
            "status": ["pending" if pending[i] else "present" if i % 4 else "absent" for i in range(rows)],
            "basis": basis,
            "day_code": [None if pending[i] else "PR" if i % 4 else "AB" for i in range(rows)],
            "source": [sources[i % 4] for i in range(rows)],
            "source_record_id": [f"r{i}" if b == "recorded" else None for i, b in enumerate(basis)],
            "check_in": check_in,
            "check_out": check_in + pd.Timedelta(hours=8),
        }
    )


def summary_frame(rows: int = ROWS) -> pd.DataFrame:
    operating = [10] * rows
    enrolled = [10 - i % 3 for i in range(rows)]
    absent = [i % 3 for i in range(rows)]
    return pd.DataFrame(
        {
            "site_id": [f"S{i % 7}" for i in range(rows)],
            "child_id": [f"C{i:04d}" for i in range(rows)],
            "operating_days": operating,
            "enrolled_days": enrolled,
            "absent_days": absent,
            "absence_rate": [a / e for a, e in zip(absent, enrolled, strict=True)],
            "source": "PPP",
            "complete": True,
            "off_days": 0,
            "paid_closure_days": [i % 2 for i in range(rows)],
            "unpaid_closure_days": 0,
            "pending_days": 0,
            "lifecycle": ["final" if i % 5 else "provisional" for i in range(rows)],
        }
    )


def frame_for(suite: str, rows: int = ROWS) -> pd.DataFrame:
    for source, name in EXTRACT_SUITES.items():
        if name == suite:
            return extract_frame(source, rows)
    if suite == "reconciled_daily_attendance":
        return daily_frame(rows)
    if suite == "reconciled_absence_summary":
        return summary_frame(rows)
    raise KeyError(suite)


def _break_extract(frame: pd.DataFrame) -> pd.DataFrame:
    labels = frame.index
    frame.loc[labels[1], "child_id"] = None
    frame.loc[labels[2], "site_id"] = None
    frame.loc[labels[3], "status"] = "late"
    frame.loc[labels[4], "attendance_date"] = pd.Timestamp("2025-01-05")
    frame.loc[labels[5], "attendance_date"] = pd.NaT
    frame.loc[labels[6], "source"] = "SOMEONE_ELSE"
    frame.loc[labels[7], "check_in"] = pd.Timestamp("2025-01-07 15:00", tz="UTC")
    frame.loc[labels[7], "check_out"] = pd.Timestamp("2025-01-07 14:00", tz="UTC")
    frame.loc[labels[8], "check_in"] = pd.Timestamp("2025-03-01 15:00", tz="UTC")  # far outside: a warning
    frame.loc[labels[8], "check_out"] = pd.Timestamp("2025-03-01 16:00", tz="UTC")
    for column in ("site_id", "child_id", "attendance_date", "source_record_id"):
        frame.loc[labels[11], column] = frame.loc[labels[10], column]  # a duplicated key: both rows fail
    frame.loc[labels[12], "day_code"] = "XX"
    frame.loc[labels[13], "absence_reason"] = "BORED"
    present = frame.index[frame["status"] == "present"]
    if len(present):
        frame.loc[present[-1], "check_in"] = pd.NaT
    return frame


def _break_daily(frame: pd.DataFrame) -> pd.DataFrame:
    labels = frame.index
    frame.loc[labels[1], "program"] = "OTHER"
    frame.loc[labels[9], "day_code"] = "PR"  # row 9 is pending: a code there is wrong
    frame.loc[labels[2], "basis"] = None
    frame.loc[labels[3], "check_out"] = frame.loc[labels[3], "check_in"] - pd.Timedelta(hours=1)
    frame.loc[labels[4], "attendance_date"] = pd.Timestamp("2025-02-01")
    frame.loc[labels[5], "voucher_id"] = None
    frame.loc[labels[6], "day_code"] = None
    frame.loc[labels[7], "basis"] = "recorded"
    frame.loc[labels[7], "source_record_id"] = None
    frame.loc[labels[19], "basis"] = "recorded"  # pending with a final basis
    frame.loc[labels[21], ["site_id", "child_id", "attendance_date"]] = frame.loc[
        labels[20], ["site_id", "child_id", "attendance_date"]
    ].to_numpy()
    return frame


def _break_summary(frame: pd.DataFrame) -> pd.DataFrame:
    labels = frame.index
    frame.loc[labels[1], "absent_days"] = 12  # more than enrolled
    frame.loc[labels[2], "off_days"] = -1
    frame.loc[labels[3], "absence_rate"] = 0.8  # the info-level notice
    frame.loc[labels[4], "enrolled_days"] = 11  # more than operating
    frame.loc[labels[5], "lifecycle"] = None
    frame.loc[labels[6], "absence_rate"] = 1.5
    frame.loc[labels[8], "child_id"] = frame.loc[labels[7], "child_id"]
    frame.loc[labels[8], "site_id"] = frame.loc[labels[7], "site_id"]
    return frame


def broken_frame(suite: str) -> pd.DataFrame:
    """A frame for ``suite`` broken in many places at once, every expectation kind among them."""
    frame = frame_for(suite)
    if suite == "reconciled_daily_attendance":
        return _break_daily(frame)
    if suite == "reconciled_absence_summary":
        return _break_summary(frame)
    return _break_extract(frame)


@pytest.fixture(scope="session")
def validate() -> Callable:
    """``validate_frame`` with the test period; GX gets imported once, on first use."""
    from ccms_attendance.validation import validate_frame

    def run(suite: str, frame: pd.DataFrame, context_values: dict | None = None):
        return validate_frame(suite, frame, context_values=PERIOD if context_values is None else context_values)

    return run


@pytest.fixture(scope="session")
def frames() -> SimpleNamespace:
    return SimpleNamespace(
        extract=extract_frame,
        daily=daily_frame,
        summary=summary_frame,
        for_suite=frame_for,
        broken=broken_frame,
        period=PERIOD,
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        rows=ROWS,
    )
