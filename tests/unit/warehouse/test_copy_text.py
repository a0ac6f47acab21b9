"""The COPY text renderer's fast paths give exactly what COPY needs (escapes, NULLs, instants, constants)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ccms_attendance.canonical import AttendanceStatus
from ccms_attendance.warehouse.bulk import frame_to_copy_text, rows_to_copy_text


def rows(frame: pd.DataFrame) -> list[list[str]]:
    return [line.split("\t") for line in frame_to_copy_text(frame, list(frame.columns)).decode().splitlines()]


def test_escapes_only_what_copy_text_format_needs():
    texts = ["plain", "tab\there", "new\nline", "cr\rhere", "back\\slash", "\\N", "", None]
    frame = pd.DataFrame({"t": texts, "n": range(len(texts))})
    assert [r[0] for r in rows(frame)] == [
        "plain",
        "tab\\there",
        "new\\nline",
        "cr\\rhere",
        "back\\\\slash",
        "\\\\N",
        "",
        "\\N",
    ]


def test_a_column_without_special_characters_is_left_as_is_and_non_strings_become_text():
    frame = pd.DataFrame({"t": ["a", "b", None], "d": [dt.date(2026, 3, 8), None, dt.date(2026, 11, 1)]})
    assert rows(frame) == [["a", "2026-03-08"], ["b", "\\N"], ["\\N", "2026-11-01"]]


def test_instants_render_in_utc_at_full_precision_and_nulls_as_null():
    moments = pd.Series(
        pd.to_datetime(
            ["2026-11-01 01:30:00.123456789-05:00", None, "2026-03-08 02:30:00.000000000-05:00"], format="ISO8601"
        )
    )
    micro = pd.Series([dt.datetime(2026, 11, 1, 6, 30, 0, 5, tzinfo=dt.UTC), None], dtype="datetime64[us, UTC]")
    assert [r[0] for r in rows(pd.DataFrame({"m": moments}))] == [
        "2026-11-01T06:30:00.123456789+00:00",
        "\\N",
        "2026-03-08T07:30:00.000000000+00:00",
    ]
    assert [r[0] for r in rows(pd.DataFrame({"m": micro}))] == ["2026-11-01T06:30:00.000005+00:00", "\\N"]


def test_integers_floats_and_booleans():
    frame = pd.DataFrame({"i": [1, -20, 300], "f": [1.0, None, 2.5], "b": [True, False, True]})
    assert rows(frame) == [["1", "1", "t"], ["-20", "\\N", "f"], ["300", "2.5", "t"]]


def test_constants_are_appended_to_every_row_and_a_lone_empty_field_is_fine():
    frame = pd.DataFrame({"t": ["", "x"]})
    constants = {"run_id": "run\t1", "day": dt.date(2026, 11, 8)}
    assert frame_to_copy_text(frame, ["t"], constants) == b"\trun\\t1\t2026-11-08\nx\trun\\t1\t2026-11-08\n"


# --- rows_to_copy_text: Python row tuples (the extract step's staged records) ---------------------


def tuple_rows(rows: list[tuple], constants: dict | None = None) -> list[list[str]]:
    return [line.split("\t") for line in rows_to_copy_text(rows, constants).decode().splitlines()]


def test_row_tuples_escape_text_and_render_nulls_dates_and_aware_instants():
    est = dt.timezone(dt.timedelta(hours=-5))
    rows = [
        ("plain", dt.date(2026, 11, 1), dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC), None),
        ("tab\there\\N", None, dt.datetime(2026, 11, 1, 1, 30, tzinfo=est), ""),
        (None, dt.date(2026, 11, 1), None, "new\nline\rcr"),
    ]
    assert tuple_rows(rows) == [
        ["plain", "2026-11-01", "2026-11-01T06:30:00+00:00", "\\N"],
        ["tab\\there\\\\N", "\\N", "2026-11-01T01:30:00-05:00", ""],
        ["\\N", "2026-11-01", "\\N", "new\\nline\\rcr"],
    ]


def test_row_tuples_keep_equal_values_of_other_types_or_offsets_apart():
    est = dt.timezone(dt.timedelta(hours=-5))
    same_instant = [dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC), dt.datetime(2026, 11, 1, 1, 30, tzinfo=est)]
    assert [r[0] for r in tuple_rows([(v,) for v in same_instant])] == [
        "2026-11-01T06:30:00+00:00",
        "2026-11-01T01:30:00-05:00",
    ]
    assert [r[0] for r in tuple_rows([(1,), (True,), (1.0,), (2.5,), (False,), (None,)])] == [
        "1",
        "t",
        "1",
        "2.5",
        "f",
        "\\N",
    ]


def test_row_tuples_render_str_enums_and_constants_and_nothing_for_no_rows():
    rows = [(AttendanceStatus.PRESENT, ""), (AttendanceStatus.ABSENT, "x")]
    constants = {"run_id": "run\t1", "batch_no": 3, "day": dt.date(2026, 11, 8)}
    assert rows_to_copy_text(rows, constants) == (
        b"present\t\trun\\t1\t3\t2026-11-08\nabsent\tx\trun\\t1\t3\t2026-11-08\n"
    )
    assert rows_to_copy_text([], constants) == b""


def test_row_tuples_give_the_same_fields_as_the_frame_renderer_for_staged_records():
    """Same text and dates; instants are the same (the frame renderer spells them at full precision)."""
    moment = dt.datetime(2026, 11, 9, 12, 48, tzinfo=dt.UTC)
    rows = [
        ("S-1", "CC-1", "7100001", dt.date(2026, 11, 9), "present", None, moment, None, None, "evt-1+evt-2"),
        ("S-1", "CC-1", "7100002", dt.date(2026, 11, 9), "absent", None, None, None, "ILL", "bw\t3"),
    ]
    columns = [f"c{n}" for n in range(10)]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    from_frame = [line.split("\t") for line in frame_to_copy_text(frame, columns).decode().splitlines()]
    from_rows = tuple_rows(rows)
    assert from_frame[0][6] == "2026-11-09T12:48:00.000000+00:00"
    assert from_rows[0][6] == "2026-11-09T12:48:00+00:00"
    from_frame[0][6] = from_rows[0][6]
    assert from_rows == from_frame
