"""The bitemporal writer compares values the way the table stores them, whatever shape they came in."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ccms_attendance.warehouse.reference_history import ENTITIES, HistoryWriteError, _coerce


@pytest.mark.parametrize(
    ("value", "data_type", "expected"),
    [
        (pd.Timestamp("2026-12-01"), "date", dt.date(2026, 12, 1)),
        ("2026-12-01", "date", dt.date(2026, 12, 1)),
        (float("nan"), "date", None),
        (pd.NaT, "timestamp with time zone", None),
        ("2026-12-01T09:00:00-05:00", "timestamp with time zone", dt.datetime(2026, 12, 1, 14, tzinfo=dt.UTC)),
        (np.array([1, 3, 5]), "ARRAY", (1, 3, 5)),
        ("{1,3,5}", "ARRAY", (1, 3, 5)),
        ([1, 3, 5], "ARRAY", (1, 3, 5)),
        (np.int64(7), "integer", 7),
        ("7100025", "text", "7100025"),
    ],
)
def test_values_are_compared_as_stored(value, data_type, expected):
    assert _coerce(value, data_type, "column") == expected


def test_an_instant_without_a_time_zone_is_refused():
    with pytest.raises(HistoryWriteError, match="no time zone"):
        _coerce(dt.datetime(2026, 12, 1, 9), "timestamp with time zone", "entered_at")


def test_every_ref_and_portal_table_has_a_writer_entity():
    assert {e.table for e in ENTITIES.values()} == {
        "ref.provider", "ref.site", "ref.license_link", "ref.site_closure", "ref.child", "ref.voucher",
        "portal.data_entry_selection", "portal.period_submission", "portal.manual_entry",
    }  # fmt: skip
