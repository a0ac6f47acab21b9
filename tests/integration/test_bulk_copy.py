"""COPY-based bulk writes store every value verbatim, NULLs as NULL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import psycopg
import pytest

from ccms_attendance.warehouse import bulk
from ccms_attendance.warehouse.bulk import copy_frame, copy_rows, read_frame

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


def test_a_copy_sent_in_chunks_stores_the_same_rows_in_the_same_order(conn, monkeypatch):
    """Chunks are rendered and sent while the server stores the previous ones: nothing lost, moved or split."""
    conn.execute("CREATE TEMP TABLE chunk_probe (seq integer, note text, moment timestamptz, run text)")
    notes = [TRICKY[i % len(TRICKY)] if i % 7 else None for i in range(23)]
    frame = pd.DataFrame(
        {
            "seq": range(23),
            "note": notes,
            "moment": [dt.datetime(2026, 11, 1, 6, i, tzinfo=dt.UTC) for i in range(23)],
        }
    )
    rows = [(i + 100, note, None) for i, note in enumerate(notes)]
    monkeypatch.setattr(bulk, "COPY_CHUNK_ROWS", 4)  # 23 rows: five full chunks and a partial one
    assert copy_frame(conn, "pg_temp.chunk_probe", frame, ["seq", "note", "moment"], {"run": "r1"}) == 23
    assert copy_rows(conn, "pg_temp.chunk_probe", rows, ["seq", "note", "moment"], {"run": "r2"}) == 23
    # ctid order is the order the rows arrived in: one COPY each, chunks in sequence.
    stored = conn.execute("SELECT seq, note, moment, run FROM chunk_probe ORDER BY ctid").fetchall()
    assert [row[0] for row in stored] == [*range(23), *range(100, 123)]
    assert [row[1] for row in stored] == notes + notes
    assert [row[2] for row in stored[:23]] == list(frame["moment"])
    assert {row[3] for row in stored[:23]} == {"r1"}
    assert {row[3] for row in stored[23:]} == {"r2"}


@pytest.mark.parametrize("failure", ["rejected_by_server", "unrenderable_value"])
def test_a_chunk_failing_late_aborts_the_whole_copy_with_its_own_error(conn, monkeypatch, failure):
    """A bad value in the last chunk, found by the server or by the renderer, stores none of the earlier chunks."""
    conn.execute("CREATE TEMP TABLE chunk_fail (seq integer, note text)")
    monkeypatch.setattr(bulk, "COPY_CHUNK_ROWS", 3)
    rows: list[tuple[object, object]] = [(i, f"row {i}") for i in range(10)]
    rows[9] = ("not a number", "last") if failure == "rejected_by_server" else (9, "lone surrogate \udc80")
    expected = psycopg.errors.InvalidTextRepresentation if failure == "rejected_by_server" else UnicodeEncodeError
    with pytest.raises(expected), conn.transaction():
        copy_rows(conn, "pg_temp.chunk_fail", rows, ["seq", "note"])
    assert conn.execute("SELECT count(*) FROM chunk_fail").fetchone()[0] == 0
    assert conn.execute("SELECT 1").fetchone() == (1,)  # the connection is still usable
