"""COPY-based bulk writes (binary COPY) store every value verbatim, NULLs as NULL, each type as text COPY did.

Round trips against the real server: what is asserted is what PostgreSQL stored, for frames
(:func:`copy_frame`) and Python rows (:func:`copy_rows`) alike.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg.copy import QueuedLibpqWriter
from support.tricky_text import TRICKY_TEXTS as TRICKY

from ccms_attendance.canonical import AttendanceStatus
from ccms_attendance.warehouse import bulk
from ccms_attendance.warehouse.bulk import copy_frame, copy_rows, read_frame

EST = dt.timezone(dt.timedelta(hours=-5))


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


def test_copy_rows_round_trips_strings_str_enums_dates_instants_and_nulls(conn):
    conn.execute("CREATE TEMP TABLE rows_probe (seq integer, note text, day date, moment timestamptz, run text)")
    rows = [
        (i, value, dt.date(2026, 11, 1), dt.datetime(2026, 11, 1, 1, 30, tzinfo=EST) if i % 2 else None)
        for i, value in enumerate(TRICKY)
    ]
    rows += [(100, None, None, None), (101, AttendanceStatus.PRESENT, None, None), (np.int64(102), "x", None, None)]
    assert copy_rows(conn, "pg_temp.rows_probe", rows, ["seq", "note", "day", "moment"], {"run": "run\t1"}) == len(rows)
    stored = conn.execute("SELECT seq, note, day, moment, run FROM rows_probe ORDER BY seq").fetchall()
    assert [row[1] for row in stored] == [*TRICKY, None, "present", "x"]
    assert [row[2] for row in stored] == [dt.date(2026, 11, 1)] * len(TRICKY) + [None] * 3
    # an aware datetime keeps its instant, whatever its offset
    assert {row[3] for row in stored[1 : len(TRICKY) : 2]} == {dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC)}
    assert {row[3] for row in stored[0 : len(TRICKY) : 2]} == {None}
    assert {row[4] for row in stored} == {"run\t1"}
    assert [row[0] for row in stored][-3:] == [100, 101, 102]


def test_instants_keep_their_instant_at_microsecond_precision_and_nat_is_null(conn):
    """Nanoseconds are rounded to microseconds (half to even) as PostgreSQL rounds the text it used to read."""
    conn.execute("CREATE TEMP TABLE instant_probe (seq integer, moment timestamptz)")
    moments = pd.Series(
        pd.to_datetime(
            [
                "2026-11-01 01:30:00.123456789-05:00",
                None,
                "2026-03-08 02:30:00.000000000-05:00",
                "2026-11-01 01:30:00.000000500-05:00",  # a tie: to even (…000000)
                "2026-11-01 01:30:00.000001500-05:00",  # a tie: to even (…000002)
            ],
            format="ISO8601",
        )
    )
    micro = pd.Series([dt.datetime(2026, 11, 1, 6, 30, 0, 5, tzinfo=dt.UTC), None], dtype="datetime64[us, UTC]")
    local = pd.Series([dt.datetime(2026, 11, 1, 1, 30, tzinfo=EST)], dtype="datetime64[us, America/Chicago]")
    frame = pd.DataFrame({"seq": range(8), "moment": pd.concat([moments, micro, local], ignore_index=True)})
    copy_frame(conn, "pg_temp.instant_probe", frame, ["seq", "moment"])
    stored = conn.execute("SELECT moment FROM instant_probe ORDER BY seq").fetchall()
    utc = dt.UTC
    assert [row[0] for row in stored] == [
        dt.datetime(2026, 11, 1, 6, 30, 0, 123457, tzinfo=utc),
        None,
        dt.datetime(2026, 3, 8, 7, 30, tzinfo=utc),
        dt.datetime(2026, 11, 1, 6, 30, 0, 0, tzinfo=utc),
        dt.datetime(2026, 11, 1, 6, 30, 0, 2, tzinfo=utc),
        dt.datetime(2026, 11, 1, 6, 30, 0, 5, tzinfo=utc),
        None,
        dt.datetime(2026, 11, 1, 6, 30, tzinfo=utc),
    ]


def test_integers_floats_numerics_and_booleans(conn):
    """numpy ints, an int column that met a NaN (floats), floats into numeric(5,4) rounded by the server."""
    conn.execute(
        "CREATE TEMP TABLE number_probe (i integer, big bigint, small smallint, f_int integer, f numeric,"
        " rate numeric(5, 4), d double precision, b boolean)"
    )
    frame = pd.DataFrame(
        {
            "i": np.array([1, -20, 300], dtype=np.int64),
            "big": np.array([2**40, 0, -1], dtype=np.int64),
            "small": np.array([1, 2, 3], dtype=np.int16),
            "f_int": [1.0, None, 3.0],
            "f": [1.0, None, 2.5],
            "rate": [1 / 3, 0.0, 0.12345],
            "d": [0.1, float("nan"), -2.5],
            "b": [True, False, True],
        }
    )
    copy_frame(conn, "pg_temp.number_probe", frame, list(frame.columns))
    stored = conn.execute(
        "SELECT i, big, small, f_int, f::text, rate::text, d, b FROM number_probe ORDER BY i"
    ).fetchall()
    assert stored == [
        (-20, 0, 2, None, None, "0.0000", None, False),
        (1, 2**40, 1, 1, "1", "0.3333", 0.1, True),  # 1.0 is stored as 1, as its text was "1"
        (300, -1, 3, 3, "2.5", "0.1235", -2.5, True),
    ]
    conn.execute("CREATE TEMP TABLE rows_numbers (i integer, big bigint, b boolean)")
    copy_rows(
        conn, "pg_temp.rows_numbers", [(np.int32(7), np.int64(2**40), np.True_), (8, None, False)], ["i", "big", "b"]
    )
    assert conn.execute("SELECT i, big, b FROM rows_numbers ORDER BY i").fetchall() == [
        (7, 2**40, True),
        (8, None, False),
    ]


def test_a_text_column_stores_non_strings_as_text_copy_spelled_them(conn):
    conn.execute("CREATE TEMP TABLE text_probe (seq integer, o text, b text, f text)")
    frame = pd.DataFrame(
        {
            "seq": range(3),
            "o": pd.Series([1, dt.date(2026, 11, 8), None], dtype=object),
            "b": [True, False, True],
            "f": [1.0, 2.5, None],
        }
    )
    copy_frame(conn, "pg_temp.text_probe", frame, ["seq", "o", "b", "f"], {})
    stored = conn.execute("SELECT o, b, f FROM text_probe ORDER BY seq").fetchall()
    assert stored == [("1", "t", "1"), ("2026-11-08", "f", "2.5"), (None, "t", None)]


def test_dates_from_datetimes_date_objects_and_strings(conn):
    """A naive datetime column is its calendar day; strings are parsed by PostgreSQL, as text COPY did."""
    conn.execute("CREATE TEMP TABLE date_probe (seq integer, a date, b date, c date)")
    frame = pd.DataFrame(
        {
            "seq": range(3),
            "a": pd.to_datetime(["2026-03-08 23:59", None, "2026-11-01"], format="ISO8601").astype("datetime64[s]"),
            "b": [dt.date(2026, 3, 8), None, dt.date(2026, 11, 1)],
            "c": ["2026-03-08", None, "November 1, 2026"],
        }
    )
    copy_frame(conn, "pg_temp.date_probe", frame, ["seq", "a", "b", "c"], {})
    stored = conn.execute("SELECT a, b, c FROM date_probe ORDER BY seq").fetchall()
    day1, day2 = dt.date(2026, 3, 8), dt.date(2026, 11, 1)
    assert stored == [(day1, day1, day1), (None, None, None), (day2, day2, day2)]
    with pytest.raises(psycopg.errors.InvalidDatetimeFormat), conn.transaction():
        copy_frame(conn, "pg_temp.date_probe", pd.DataFrame({"seq": [9], "c": ["not a date"]}), ["seq", "c"])
    assert conn.execute("SELECT count(*) FROM date_probe").fetchone()[0] == 3


def test_smallint_arrays_from_lists_tuples_and_array_literals(conn):
    conn.execute("CREATE TEMP TABLE array_probe (seq integer, days smallint[])")
    frame = pd.DataFrame(
        {"seq": range(5), "days": pd.Series([[1, 2, 3], (6, 7), None, np.array([5], dtype=np.int16), []], dtype=object)}
    )
    copy_frame(conn, "pg_temp.array_probe", frame, ["seq", "days"])
    literals = pd.DataFrame({"seq": range(5, 9), "days": ["{1,2,3,4,5}", None, "{}", "{7}"]})  # the demo's spelling
    copy_frame(conn, "pg_temp.array_probe", literals, ["seq", "days"])
    stored = conn.execute("SELECT days FROM array_probe ORDER BY seq").fetchall()
    assert [row[0] for row in stored] == [[1, 2, 3], [6, 7], None, [5], [], [1, 2, 3, 4, 5], None, [], [7]]
    assert conn.execute("SELECT DISTINCT pg_typeof(days)::text FROM array_probe").fetchall() == [("smallint[]",)]


def test_json_text_is_stored_as_json_and_objects_are_serialized(conn):
    conn.execute("CREATE TEMP TABLE json_probe (seq integer, j jsonb, raw json)")
    texts = ['{"a": 1}', "[1,  2]", None, '"s"', '{"k": "tab\\t ✓"}']
    frame = pd.DataFrame({"seq": range(len(texts)), "j": texts, "raw": texts})
    copy_frame(conn, "pg_temp.json_probe", frame, ["seq", "j", "raw"])
    stored = conn.execute("SELECT j, raw::text FROM json_probe ORDER BY seq").fetchall()
    assert [row[0] for row in stored] == [{"a": 1}, [1, 2], None, "s", {"k": "tab\t ✓"}]
    assert [row[1] for row in stored] == texts  # json keeps its text verbatim
    objects = pd.DataFrame({"seq": [10], "j": pd.Series([{"b": [1, None]}], dtype=object)})
    copy_frame(conn, "pg_temp.json_probe", objects, ["seq", "j"])
    assert conn.execute("SELECT j FROM json_probe WHERE seq = 10").fetchone() == ({"b": [1, None]},)


def test_constants_are_added_to_every_row_and_a_lone_empty_field_is_fine(conn):
    conn.execute("CREATE TEMP TABLE constant_probe (t text, run_id text, batch_no integer, day date, days smallint[])")
    constants = {"run_id": "run\t1", "batch_no": np.int64(3), "day": dt.date(2026, 11, 8), "days": "{1,2}"}
    copy_frame(conn, "pg_temp.constant_probe", pd.DataFrame({"t": ["", "x"]}), ["t"], constants)
    copy_rows(conn, "pg_temp.constant_probe", [("y",)], ["t"], constants)
    stored = conn.execute("SELECT t, run_id, batch_no, day, days FROM constant_probe ORDER BY t").fetchall()
    assert stored == [(t, "run\t1", 3, dt.date(2026, 11, 8), [1, 2]) for t in ("", "x", "y")]
    assert copy_rows(conn, "pg_temp.constant_probe", [], ["t"], constants) == 0
    assert copy_frame(conn, "pg_temp.constant_probe", pd.DataFrame({"t": []}), ["t"], constants) == 0
    assert conn.execute("SELECT count(*) FROM constant_probe").fetchone()[0] == 3


def test_rows_and_frames_store_the_same_staged_records(conn):
    """The extract step stages tuples, the PPP step a frame of the same records: the stored rows are equal."""
    conn.execute("CREATE TEMP TABLE staged (LIKE staging.source_record INCLUDING IDENTITY)")
    moment = dt.datetime(2026, 11, 9, 12, 48, tzinfo=dt.UTC)
    rows = [
        ("S-1", "CC-1", "7100001", dt.date(2026, 11, 9), "present", None, moment, None, None, "evt-1+evt-2"),
        ("S-1", "CC-1", "7100002", dt.date(2026, 11, 9), "absent", None, None, None, "ILL", "bw\t3"),
    ]
    columns = [
        "site_id",
        "license_number",
        "child_id",
        "attendance_date",
        "status",
        "day_code",
        "check_in",
        "check_out",
        "absence_reason",
        "source_record_id",
    ]
    constants = {"run_id": "r", "source": "BRIGHTWHEEL", "batch_no": 1}
    copy_rows(conn, "pg_temp.staged", rows, columns, constants)
    copy_frame(conn, "pg_temp.staged", pd.DataFrame.from_records(rows, columns=columns), columns, constants)
    stored = conn.execute(f"SELECT {', '.join(columns)}, run_id, source, batch_no FROM staged").fetchall()
    assert stored[:2] == stored[2:]
    assert stored[0][6] == moment


def test_rows_from_a_generator_are_counted_and_an_error_it_raises_stores_nothing(conn):
    """The extract step streams a batch's records from a generator while it fetches the later sites."""
    conn.execute("CREATE TEMP TABLE stream_probe (seq integer, run text)")
    assert copy_rows(conn, "pg_temp.stream_probe", ((i,) for i in range(5)), ["seq"], {"run": "r"}) == 5
    assert copy_rows(conn, "pg_temp.stream_probe", iter(()), ["seq"], {"run": "r"}) == 0

    def broken():
        yield (10,)
        raise LookupError("no more rows")

    with pytest.raises(LookupError, match="no more rows"), conn.transaction():
        copy_rows(conn, "pg_temp.stream_probe", broken(), ["seq"], {"run": "r"})
    assert conn.execute("SELECT seq FROM stream_probe ORDER BY seq").fetchall() == [(i,) for i in range(5)]


def test_an_aborted_copy_tells_the_server_the_errors_type_never_its_text(conn, monkeypatch):
    """psycopg sends an aborted COPY's error text to the server, which logs it; a vendor's value in
    that text would reach the server's log. The writer sends only the type; the caller gets the error."""
    sent: list[BaseException | None] = []

    class SentToServer(QueuedLibpqWriter):
        def finish(self, exc: BaseException | None = None) -> None:
            sent.append(exc)  # what psycopg's writer turns into the CopyFail message
            super().finish(exc)

    class Recorded(bulk.BoundedAbortWriter, SentToServer):
        pass

    monkeypatch.setattr(bulk, "BoundedAbortWriter", Recorded)
    conn.execute("CREATE TEMP TABLE abort_probe (seq integer)")

    def leaking():
        yield (1,)
        raise ValueError("child 4711 Jane Doe, api_key=s3cr3t")

    with pytest.raises(ValueError, match="Jane Doe"), conn.transaction():
        copy_rows(conn, "pg_temp.abort_probe", leaking(), ["seq"])
    assert [f"{type(e).__name__}: {e}" for e in sent] == ["CopyAbortedError: ValueError"]
    assert conn.execute("SELECT count(*) FROM abort_probe").fetchone()[0] == 0

    sent.clear()
    copy_rows(conn, "pg_temp.abort_probe", [(2,)], ["seq"])  # a COPY that ends well sends no error
    assert sent == [None]
    assert conn.execute("SELECT seq FROM abort_probe").fetchall() == [(2,)]


def test_nul_is_refused_by_the_server_and_nothing_is_stored(conn):
    conn.execute("CREATE TEMP TABLE nul_probe (note text)")
    for write in (
        lambda: copy_rows(conn, "pg_temp.nul_probe", [("fine",), ("nul\x00inside",)], ["note"]),
        lambda: copy_frame(conn, "pg_temp.nul_probe", pd.DataFrame({"note": ["fine", "nul\x00inside"]}), ["note"]),
    ):
        with pytest.raises(psycopg.errors.CharacterNotInRepertoire), conn.transaction():
            write()
    assert conn.execute("SELECT count(*) FROM nul_probe").fetchone()[0] == 0


def test_an_unknown_column_or_table_fails_with_the_servers_error(conn):
    conn.execute("CREATE TEMP TABLE known_probe (note text)")
    with pytest.raises(psycopg.errors.UndefinedColumn), conn.transaction():
        copy_rows(conn, "pg_temp.known_probe", [("x",)], ["nope"])
    with pytest.raises(psycopg.errors.UndefinedTable), conn.transaction():
        copy_frame(conn, "pg_temp.no_such_table", pd.DataFrame({"note": ["x"]}), ["note"])


def test_a_copy_sent_in_chunks_stores_the_same_rows_in_the_same_order(conn, monkeypatch):
    """Chunks are converted and sent while the server stores the previous ones: nothing lost, moved or split."""
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


@pytest.mark.parametrize("failure", ["rejected_by_server", "unencodable_value", "wrong_type"])
@pytest.mark.parametrize("write", ["rows", "frame"])
def test_a_row_failing_late_aborts_the_whole_copy_with_its_own_error(conn, monkeypatch, failure, write):
    """A bad value in the last row, refused by the server (NUL), the encoder (a lone surrogate) or psycopg's
    dumper (text in an integer column of Python rows), stores none of the rows sent before it."""
    conn.execute("CREATE TEMP TABLE chunk_fail (seq integer, note text)")
    monkeypatch.setattr(bulk, "COPY_CHUNK_ROWS", 3_000)
    rows: list[tuple[object, object]] = [(i, f"row {i} " + "x" * 40) for i in range(20_000)]  # ~1 MB: sent in parts
    bad, expected = {
        "rejected_by_server": ((19_999, "nul \x00"), psycopg.errors.CharacterNotInRepertoire),
        "unencodable_value": ((19_999, "lone surrogate \udc80"), UnicodeEncodeError),
        "wrong_type": (
            ("not a number", "last"),
            TypeError if write == "rows" else psycopg.errors.InvalidTextRepresentation,
        ),
    }[failure]
    rows[-1] = bad
    # The text column as object dtype: with pyarrow installed pandas' default string dtype cannot even
    # hold a lone surrogate, and this test is about what the COPY does with one.
    frame = pd.DataFrame({"seq": [r[0] for r in rows], "note": pd.Series([r[1] for r in rows], dtype=object)})
    copy, data = (copy_rows, rows) if write == "rows" else (copy_frame, frame)
    with pytest.raises(expected), conn.transaction():
        copy(conn, "pg_temp.chunk_fail", data, ["seq", "note"])
    assert conn.execute("SELECT count(*) FROM chunk_fail").fetchone()[0] == 0
    assert conn.execute("SELECT 1").fetchone() == (1,)  # the connection is still usable


@pytest.mark.parametrize("write", ["rows", "frame"])
def test_domain_columns_take_their_values_and_refuse_others_in_one_copy(conn, write):
    """Columns of a value domain (V017: status, basis, day code, source, program) are sent as their base
    type, and the domain's CHECK still refuses a value outside its list: the whole COPY fails."""
    columns = ["period_start", "site_id", "child_id", "attendance_date", "voucher_id", "program", "status", "basis",
               "day_code", "source", "source_record_id", "run_id"]  # fmt: skip
    period, day = dt.date(2026, 11, 8), dt.date(2026, 11, 9)
    good = [
        (period, "S-1", "C1", day, "V1", "CCDF", "present", "recorded", "PR", "PPP", "r1", "r"),
        (period, "S-1", "C2", day, "V2", "OMW", "pending", "not_submitted", None, "PPP", None, "r"),
    ]
    bad = (period, "S-1", "C3", day, "V3", "CCDF", "late", "recorded", "PR", "PPP", "r3", "r")

    def copy(rows: list[tuple]) -> int:
        if write == "rows":
            return copy_rows(conn, "staging.daily_attendance", rows, columns)
        return copy_frame(conn, "staging.daily_attendance", pd.DataFrame.from_records(rows, columns=columns), columns)

    with pytest.raises(psycopg.errors.CheckViolation, match="attendance_status_valid"), conn.transaction():
        copy([*good, bad])
    assert conn.execute("SELECT count(*) FROM staging.daily_attendance").fetchone()[0] == 0
    assert copy(good) == 2
    stored = conn.execute(
        "SELECT child_id, program, status, basis, day_code, source FROM staging.daily_attendance ORDER BY child_id"
    ).fetchall()
    assert stored == [
        ("C1", "CCDF", "present", "recorded", "PR", "PPP"),
        ("C2", "OMW", "pending", "not_submitted", None, "PPP"),
    ]


def _framed_by_psycopg(conn, query: str) -> pd.DataFrame:
    """What read_frame returned before it parsed instants itself: psycopg's rows, framed by pandas."""
    with conn.cursor() as cursor:
        cursor.execute(query)
        return pd.DataFrame.from_records(cursor.fetchall(), columns=[c.name for c in cursor.description])


@pytest.mark.parametrize("zone", ["UTC", "America/Denver", "Asia/Kolkata"])
def test_read_frame_gives_the_frame_psycopg_rows_gave(conn, zone):
    """Instants are parsed by pandas from their text, vectorized: the same values and dtype (the session's
    time zone, microseconds) as pandas made of psycopg's datetimes, NULLs, far dates and empty results included."""
    conn.execute(f"SET TIME ZONE '{zone}'")
    conn.execute(
        "CREATE TEMP TABLE read_probe (seq integer, label text, day date, moment timestamptz, never timestamptz)"
    )
    conn.execute(
        """INSERT INTO read_probe VALUES
           (1, 'a', '2026-11-09', '2026-11-09 14:03:00+00', NULL),
           (2, NULL, NULL, NULL, NULL),
           (3, 'c', '2026-03-08', '2026-03-08 09:00:00.123456-07', NULL),
           (4, 'd', '9999-12-31', '9999-12-30 23:59:59.999999+00', NULL),
           (5, 'e', '0001-01-02', '0001-01-02 00:00:00+00', NULL),
           (6, 'f', '2026-11-01', '2026-11-01 01:30:00-05', NULL)"""
    )
    for query in (
        "SELECT * FROM read_probe ORDER BY seq",
        "SELECT * FROM read_probe WHERE seq = 2",  # every instant NULL
        "SELECT * FROM read_probe WHERE seq < 0",  # no rows
        "SELECT moment AS a, seq, moment AS b FROM read_probe ORDER BY seq",  # a name twice
    ):
        expected = _framed_by_psycopg(conn, query)
        pd.testing.assert_frame_equal(read_frame(conn, query), expected)
    frame = read_frame(conn, "SELECT moment FROM read_probe WHERE seq = 1")
    assert str(frame["moment"].dtype) == f"datetime64[us, {zone}]"
    assert frame["moment"][0] == pd.Timestamp("2026-11-09 14:03:00", tz="UTC")


def test_read_frame_leaves_what_pandas_cannot_parse_to_psycopg(conn):
    """An offset in seconds (a zone's local mean time before 1900) is psycopg's to load; 'infinity' its to refuse."""
    conn.execute("SET TIME ZONE 'America/New_York'")
    query = "SELECT '1850-06-01 12:00:00+00'::timestamptz AS old, 1 AS n"
    pd.testing.assert_frame_equal(read_frame(conn, query), _framed_by_psycopg(conn, query))
    with pytest.raises(psycopg.DataError, match="infinity"):
        read_frame(conn, "SELECT 'infinity'::timestamptz AS forever")
