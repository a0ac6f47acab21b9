"""The COPY text renderer's fast paths give exactly what COPY needs (escapes, NULLs, instants, constants)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ccms_attendance.warehouse.bulk import frame_to_copy_text


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
