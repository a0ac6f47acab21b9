"""read_bulk_frame (CSV through COPY, parsed by pyarrow) gives read_frame's frame, or leaves the read to it.

Against the real server: every value psycopg would load, NULL versus empty text, instants in the
session's zone, all-NULL columns, empty results; and the reads it must not parse itself.
"""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest
from support.tricky_text import SQL_LOOKALIKE
from support.tricky_text import TRICKY_TEXTS as TRICKY

from ccms_attendance.warehouse import bulk_read
from ccms_attendance.warehouse.bulk_read import read_bulk_frame, read_frame

SQL_ROW = TRICKY.index(SQL_LOOKALIKE)


@pytest.fixture
def probe(conn):
    conn.execute(
        """CREATE TEMP TABLE bulk_probe (seq integer, label text, code varchar(12), day date, moment timestamptz,
           small smallint, big bigint, ratio double precision, ok boolean, maybe boolean, never text)"""
    )
    rows = [
        (i, text, text[:12], "2026-11-09", "2026-11-09 14:03:00+00", i, 10**12 + i, i / 3, i % 2 == 0, None, None)
        for i, text in enumerate(TRICKY)
    ]
    rows += [
        (100, None, None, None, None, None, None, None, True, True, None),
        (101, "far", "far", "9999-12-31", "9999-12-30 23:59:59.999999+00", -1, -(10**15), -0.0, False, False, None),
        (102, "early", "early", "0001-01-02", "0001-01-02 00:00:00+00", 0, 0, 1e300, True, None, None),
        (103, "offsets", "offsets", "2026-03-08", "2026-03-08 09:00:00.123456-07", 7, 7, 2.5, True, None, None),
        (104, "india", "india", "2026-11-01", "2026-11-01 01:30:00+05:30", 8, 8, 0.1, True, None, None),
    ]
    with conn.cursor() as cursor:
        cursor.executemany("INSERT INTO bulk_probe VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
    return conn


@pytest.mark.parametrize("zone", ["UTC", "America/Denver", "Asia/Kolkata"])
def test_read_bulk_frame_gives_read_frames_frame(probe, zone):
    probe.execute(f"SET TIME ZONE '{zone}'")
    for query, params in (
        ("SELECT * FROM bulk_probe ORDER BY seq", None),
        ("SELECT * FROM bulk_probe WHERE seq = 100", None),  # a row of NULLs: every column all-NULL
        ("SELECT * FROM bulk_probe WHERE seq < 0", None),  # no rows
        ("SELECT label, seq FROM bulk_probe WHERE label = %(label)s ORDER BY seq;", {"label": SQL_LOOKALIKE}),
        ("SELECT seq, small FROM bulk_probe WHERE seq = ANY(%(seqs)s) ORDER BY seq", {"seqs": [1, 100]}),
    ):
        expected = read_frame(probe, query, params)
        pd.testing.assert_frame_equal(read_bulk_frame(probe, query, params), expected)
    frame = read_bulk_frame(probe, "SELECT label, moment FROM bulk_probe ORDER BY seq", None)
    assert frame["label"].tolist()[: len(TRICKY)] == TRICKY  # empty text stays empty, "\\N" and "NULL" text
    assert pd.isna(frame["label"][len(TRICKY)])
    assert str(frame["moment"].dtype) == f"datetime64[us, {zone}]"
    assert frame["moment"].iloc[-1] == pd.Timestamp("2026-10-31 20:00:00", tz="UTC")


def test_a_bound_value_is_a_value_never_sql(probe):
    """COPY takes no server-side parameters: psycopg quotes them into the statement as literals."""
    query = "SELECT seq FROM bulk_probe WHERE label = %(label)s"
    assert read_bulk_frame(probe, query, {"label": "x' OR '1'='1"}).empty
    assert read_bulk_frame(probe, query, {"label": SQL_LOOKALIKE})["seq"].tolist() == [SQL_ROW]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT seq, ARRAY[seq, 1] AS pair FROM bulk_probe ORDER BY seq",  # an array: not parsed here
        "SELECT seq, ratio::numeric(20, 4) AS amount FROM bulk_probe WHERE seq < 100 ORDER BY seq",  # Decimals
        "SELECT seq AS a, label AS a FROM bulk_probe ORDER BY seq",  # a name twice
        "SELECT '1850-06-01 12:00:00+00'::timestamptz AS old, 1 AS n",  # an offset in seconds (local mean time)
    ],
)
def test_what_it_does_not_parse_is_read_by_read_frame(probe, query, monkeypatch):
    probe.execute("SET TIME ZONE 'America/New_York'")
    expected = read_frame(probe, query)
    calls = []
    monkeypatch.setattr(bulk_read, "read_frame", lambda *args: calls.append(args) or read_frame(*args))
    pd.testing.assert_frame_equal(read_bulk_frame(probe, query), expected)
    assert len(calls) == 1


def test_a_date_style_it_cannot_parse_falls_back_and_infinity_is_refused_as_before(probe):
    with probe.transaction():
        probe.execute("SET LOCAL DateStyle = 'SQL, DMY'")
        query = "SELECT seq, day FROM bulk_probe ORDER BY seq"
        pd.testing.assert_frame_equal(read_bulk_frame(probe, query), read_frame(probe, query))
    with pytest.raises(psycopg.DataError, match="infinity"):
        read_bulk_frame(probe, "SELECT 'infinity'::timestamptz AS forever")
