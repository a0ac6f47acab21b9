"""The child-day policy (``ccms_attendance.rules.child_day``): several records of one child-day."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ccms_attendance.rules.child_day import settle

MONDAY, TUESDAY = dt.date(2026, 1, 5), dt.date(2026, 1, 6)


def test_the_policy_present_wins_lineage_joins_ids_times_span_all_records():
    utc = dt.UTC
    records = pd.DataFrame(
        [
            ("S", "c", MONDAY, "absent", "b-2", pd.NaT, pd.NaT, "ILL"),
            ("S", "c", MONDAY, "present", "b-3", dt.datetime(2026, 1, 5, 13, tzinfo=utc), pd.NaT, None),
            ("S", "c", MONDAY, "present", "b-1", dt.datetime(2026, 1, 5, 14, tzinfo=utc), None, None),
            ("S", "c", TUESDAY, "absent", "b-9", pd.NaT, pd.NaT, "VAC"),
            ("S", "c", TUESDAY, "absent", "b-4", pd.NaT, pd.NaT, "FAM"),
        ],
        columns=[
            "site_id",
            "child_id",
            "attendance_date",
            "status",
            "source_record_id",
            "check_in",
            "check_out",
            "reason",
        ],
    )
    for column in ("check_in", "check_out"):
        records[column] = pd.to_datetime(records[column], utc=True)
    settled = settle(records, ["site_id", "child_id", "attendance_date"]).set_index("attendance_date")
    assert list(settled.columns) == [c for c in records.columns if c != "attendance_date"]
    assert settled.loc[MONDAY, "status"] == "present"
    assert settled.loc[MONDAY, "source_record_id"] == "b-1+b-2+b-3"
    assert settled.loc[MONDAY, "check_in"] == pd.Timestamp("2026-01-05T13:00Z")
    assert settled.loc[TUESDAY, "status"] == "absent"
    assert settled.loc[TUESDAY, "reason"] == "FAM"  # the first absent record by id wins
    assert settled.loc[TUESDAY, "source_record_id"] == "b-4+b-9"
