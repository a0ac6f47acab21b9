"""Bulk I/O between pandas frames and PostgreSQL.

Writes use ``COPY ... FROM STDIN`` in PostgreSQL's text format, rendered column-wise: it is
exact (NULL is ``\\N``, every other value is escaped, so an empty string stays an empty string and a
value that looks like SQL or CSV is stored verbatim) and an order of magnitude faster than row-wise
inserts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

_NULL = "\\N"


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = ("\\", "\t", "\n", "\r")


def _escape_text(values: pd.Series) -> pd.Series:
    """Text values escaped for COPY's text format (backslash, tab, newline, carriage return).

    Statewide loads write millions of values and almost none needs escaping, so the column is
    checked once (one C-level join and four scans) and escaped value by value only when needed;
    non-strings (dates kept as objects, numbers in a text column) are converted only when present.
    """
    present = values.notna()
    text = values.astype("object").where(present, None)
    if pd.api.types.infer_dtype(text, skipna=True) not in ("string", "empty"):
        text = text.map(lambda v: v if v is None or isinstance(v, str) else str(v))
    joined = "".join(text[present].tolist())
    if any(special in joined for special in _SPECIAL):
        text = text.map(lambda v: v if v is None else v.translate(_ESCAPES))
    return text


def _number_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _column_as_copy_text(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        # Vectorized ISO 8601 in UTC at the column's own precision ("2026-11-01T06:30:00.000000+00:00"):
        # the same instant PostgreSQL reads, without formatting a Timestamp object per value.
        utc = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
        text = np.char.add(np.datetime_as_string(utc, unit=values.dtype.unit), "+00:00")
        return pd.Series(text.astype(object), index=values.index).where(values.notna(), None)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.dt.strftime("%Y-%m-%d").astype("object").where(values.notna(), None)
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.map({True: "t", False: "f"}).astype("object")
    if pd.api.types.is_integer_dtype(values.dtype) and not pd.api.types.is_extension_array_dtype(values.dtype):
        return values.astype(str).astype("object")  # numpy integers cannot be null: no per-value work
    if pd.api.types.is_numeric_dtype(values.dtype):
        # Integral floats (an int column that met a NaN) render as integers, so integer columns accept them.
        return values.astype("object").where(values.notna(), None).map(_number_text)
    return _escape_text(values)


def _copy_fields(values: pd.Series) -> list[str]:
    """A column as COPY fields: its text, NULL as ``\\N``."""
    fields = _column_as_copy_text(values).to_numpy(dtype=object)
    missing = pd.isna(fields)
    if missing.any():
        fields = fields.copy()
        fields[missing] = _NULL
    return fields.tolist()


def frame_to_copy_text(
    frame: pd.DataFrame, columns: Sequence[str], constants: Mapping[str, Any] | None = None
) -> bytes:
    """Render ``frame[columns]`` (then one column per ``constants`` entry) as COPY text-format bytes.

    Rows are joined directly from the columns' fields (every field is already escaped, so no
    quoting applies): about three times faster than ``DataFrame.to_csv`` on statewide frames. A
    constant is rendered once and repeated.
    """
    if frame.empty:
        return b""
    fields = [_copy_fields(frame[column]) for column in columns]
    for value in (constants or {}).values():
        fields.append(_copy_fields(pd.Series([value])) * len(frame))
    lines = ["\t".join(row) for row in zip(*fields, strict=True)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def copy_frame(
    conn: psycopg.Connection,
    table: str,
    frame: pd.DataFrame,
    columns: Sequence[str],
    constants: Mapping[str, Any] | None = None,
) -> int:
    """COPY ``frame`` into ``schema.table``; ``constants`` adds the same value to every row."""
    if frame.empty:
        return 0
    constants = dict(constants or {})
    schema, _, name = table.partition(".")
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(schema, name), sql.SQL(", ").join(map(sql.Identifier, [*columns, *constants]))
    )
    payload = frame_to_copy_text(frame, columns, constants)
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        chunk = 8 << 20
        for offset in range(0, len(payload), chunk):
            copy.write(payload[offset : offset + chunk])
    return len(frame)


def read_frame(conn: psycopg.Connection, query: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run a SELECT and return its rows as a frame with the query's column names."""
    with conn.cursor() as cursor:
        cursor.execute(query, params)
        columns = [column.name for column in cursor.description or []]
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
