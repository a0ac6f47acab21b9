"""COPY-based bulk writes store every value verbatim, NULLs as NULL."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ccms_attendance.warehouse.bulk import copy_frame, read_frame

TRICKY = [
    "plain",
    "",
    "tab\there",
    "new\nline",
    "back\\slash",
    "\\N",
    "'; DROP TABLE ref.site; --",
    '=HYPERLINK("http://x","y")',
    'comma, "quoted"',
    "naïve ünïcödé ✓ 𝔘",  # noqa: RUF001
]


def test_copy_frame_round_trips_strings_nulls_dates_and_instants(conn):
    conn.execute(
        "CREATE TEMP TABLE copy_probe (label text, note text, day date, moment timestamptz, n integer, ok boolean)"
    )
    frame = pd.DataFrame(
        {
            "label": [f"row{i}" for i in range(len(TRICKY) + 1)],
            "note": [*TRICKY, None],
            "day": pd.to_datetime(["2026-03-08"] * len(TRICKY) + [None]),
            "moment": [dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC)] * len(TRICKY) + [None],
            "n": [1] * len(TRICKY) + [None],
            "ok": [True] * len(TRICKY) + [False],
        }
    )
    assert copy_frame(conn, "pg_temp.copy_probe", frame, list(frame.columns)) == len(frame)
    back = read_frame(conn, "SELECT label, note, day, moment, n, ok FROM copy_probe ORDER BY label")
    by_label = {row.label: row for row in back.itertuples()}
    for i, value in enumerate(TRICKY):
        assert by_label[f"row{i}"].note == value
        assert by_label[f"row{i}"].day == dt.date(2026, 3, 8)
        assert by_label[f"row{i}"].moment == dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC)
        assert by_label[f"row{i}"].n == 1
    nulls = conn.execute(
        "SELECT note IS NULL, day IS NULL, moment IS NULL, n IS NULL, ok FROM copy_probe WHERE label = %s",
        (f"row{len(TRICKY)}",),
    ).fetchone()
    assert nulls == (True, True, True, True, False)
    assert conn.execute("SELECT count(*) FROM copy_probe WHERE note = ''").fetchone()[0] == 1  # '' is not NULL
    assert conn.execute("SELECT count(*) FROM ref.site").fetchone()[0] == 0  # the table the "injection" names
