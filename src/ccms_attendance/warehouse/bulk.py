"""Bulk I/O between Python rows or pandas frames and PostgreSQL.

Writes use psycopg's binary ``COPY ... FROM STDIN (FORMAT BINARY)``: the target columns' types are
read from the catalog once per call (:func:`_target_columns`) and given to ``Copy.set_types``, so
psycopg's C dumpers write each value in the column's own binary format. Nothing is escaped or
rendered as text, so a value that looks like SQL, CSV or a COPY escape is stored verbatim, an empty
string stays an empty string, and None is NULL. Text PostgreSQL cannot store (NUL) is refused by the
server and a lone surrogate by the encoder, as before: the COPY fails and stores nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from psycopg.types.json import Json, Jsonb

# Reads live in bulk_read; read_frame is imported from here by most callers.
from ccms_attendance.warehouse.bulk_read import read_frame as read_frame

# Frame rows converted to Python values per slice: large enough that per-slice overhead (a few pandas
# calls per column) is noise, small enough that memory stays bounded and the server starts early.
COPY_CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class _Column:
    """A target column: the type binary COPY must be given (a domain's base type) and how to adapt to it."""

    name: str
    oid: int
    sql_type: str  # format_type() with the typmod, e.g. numeric(5,4): what a string value is cast to
    kind: str  # text, date, timestamp (timestamptz), integer, numeric, float, boolean, json, jsonb, array, other


# The pandas.api.types.infer_dtype results a kind's binary dumper takes as they are (checked in C,
# once per column and slice); anything else goes through _adapt_value.
_TAKEN_AS_IS = {
    "text": {"string", "empty"},
    "date": {"date", "empty"},
    "timestamp": {"datetime", "empty"},
    "integer": {"integer", "empty"},
    "numeric": {"integer", "decimal", "mixed-integer", "empty"},
    "float": {"floating", "integer", "mixed-integer-float", "empty"},
    "boolean": {"boolean", "empty"},
    "json": {"empty"},
    "jsonb": {"empty"},
    "array": {"empty"},
    "other": {"empty"},
}

_KIND_OF_TYPE = {
    "text": "text",
    "varchar": "text",
    "bpchar": "text",
    "name": "text",
    "date": "date",
    "timestamptz": "timestamp",
    "int2": "integer",
    "int4": "integer",
    "int8": "integer",
    "numeric": "numeric",
    "float4": "float",
    "float8": "float",
    "bool": "boolean",
    "json": "json",
    "jsonb": "jsonb",
}

_TARGET_COLUMNS = """
SELECT c.name, t.oid, format_type(t.oid, CASE WHEN d.typtype = 'd' THEN d.typtypmod ELSE a.atttypmod END),
       t.typname, t.typcategory
FROM unnest(%(columns)s::text[]) WITH ORDINALITY AS c (name, position)
LEFT JOIN pg_attribute AS a ON a.attrelid = %(table)s::regclass AND a.attname = c.name AND a.attnum > 0
                              AND NOT a.attisdropped
LEFT JOIN pg_type AS d ON d.oid = a.atttypid
LEFT JOIN pg_type AS t ON t.oid = CASE WHEN d.typtype = 'd' THEN d.typbasetype ELSE d.oid END
ORDER BY c.position
"""


def _target_columns(conn: psycopg.Connection, table: sql.Identifier, columns: Sequence[str]) -> list[_Column] | None:
    """The columns' types from the catalog; None if one is not a column of the table (the COPY then
    fails with the server's own error, as it always did)."""
    with conn.cursor() as cursor:
        cursor.execute(_TARGET_COLUMNS, {"columns": list(columns), "table": table.as_string(conn)})
        found = cursor.fetchall()
    if any(oid is None for _, oid, *_ in found):
        return None
    return [
        _Column(name, oid, sql_type, "array" if category == "A" else _KIND_OF_TYPE.get(typname, "other"))
        for name, oid, sql_type, typname, category in found
    ]


class CopyAbortedError(RuntimeError):
    """What an aborted COPY tells the server: only the type of the error that aborted it."""


class BoundedAbortWriter(QueuedLibpqWriter):
    """psycopg's queued writer, except for what an aborted COPY sends the server.

    psycopg aborts a COPY with ``error from Python: <type> - <message>``, and PostgreSQL writes that
    to its log. The message of an error raised while the rows were produced (a vendor's value, a
    payload's text) has no place in the server's log: the server is told the error's type only. The
    caller still gets the error itself (``Copy.__exit__`` does not swallow it).
    """

    def finish(self, exc: BaseException | None = None) -> None:
        super().finish(CopyAbortedError(type(exc).__name__) if exc is not None else None)


def _copy(
    conn: psycopg.Connection,
    target: sql.Identifier,
    names: Sequence[str],
    targets: list[_Column] | None,
    rows: Iterable[Sequence[Any]],
) -> int:
    """One binary COPY of ``rows`` into ``target``'s ``names`` (of the types ``targets``); the row count.

    psycopg's queued writer sends from a worker thread that waits on the socket without the GIL, so
    the client's dumping (Python) and the server's storing and index updates (another process)
    overlap instead of taking turns. It is one COPY in the caller's transaction: an error raised
    while producing or dumping a later row aborts the COPY, and nothing of it is stored; the server
    is told only the error's type (:class:`BoundedAbortWriter`).
    """
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        target, sql.SQL(", ").join(map(sql.Identifier, names))
    )
    with conn.cursor() as cursor, cursor.copy(statement, writer=BoundedAbortWriter(cursor)) as copy:
        if targets is None:  # unreachable: the server refused the COPY of an unknown column above
            raise RuntimeError(f"no column types for {names}")
        copy.set_types([column.oid for column in targets])
        write_row = copy.write_row
        count = 0
        for row in rows:
            write_row(row)
            count += 1
    return count


def _identifier(table: str) -> sql.Identifier:
    schema, _, name = table.partition(".")
    return sql.Identifier(schema, name)


def copy_rows(
    conn: psycopg.Connection,
    table: str,
    rows: Iterable[Sequence[Any]],
    columns: Sequence[str],
    constants: Mapping[str, Any] | None = None,
) -> int:
    """COPY Python row tuples (in ``columns`` order) into ``schema.table``; ``constants`` adds the
    same value to every row, in its own column. Returns the number of rows.

    For rows built in Python, e.g. the extract step's staged records (hundreds of thousands per
    batch): their values go to psycopg's dumpers as they are, so they must be of the columns' types
    already — ``str`` (str enums too) for text, ``datetime.date`` for dates, aware ``datetime`` for
    timestamptz, ints (numpy ints too) for integers; None is NULL. A value of another type fails the
    COPY with psycopg's ``TypeError`` and stores nothing; :func:`copy_frame` adapts what a frame holds.
    Constants are adapted like a frame's values.

    ``rows`` may be a generator: each row is sent as it is produced (the extract step stages a
    site's records while the next sites are fetched), and an error it raises aborts the COPY.
    """
    if isinstance(rows, Sequence) and not rows:
        return 0
    constants = dict(constants or {})
    names = [*columns, *constants]
    target = _identifier(table)
    targets = _target_columns(conn, target, names)
    tail: tuple = ()
    if targets is not None and constants:
        tail = tuple(_adapt_constants(conn, constants, targets[len(columns) :]))
    return _copy(conn, target, names, targets, ((*row, *tail) for row in rows) if tail else rows)


def copy_frame(
    conn: psycopg.Connection,
    table: str,
    frame: pd.DataFrame,
    columns: Sequence[str],
    constants: Mapping[str, Any] | None = None,
) -> int:
    """COPY ``frame[columns]`` into ``schema.table``; ``constants`` adds the same value to every row.

    Values are adapted to the columns' types (:func:`_frame_column`, :func:`_adapt`): NaN, NaT and
    None are NULL; tz-aware instants keep their instant (nanoseconds rounded to microseconds, as
    PostgreSQL rounds); naive datetimes in a date column are their calendar day; integral floats
    (an int column that met a NaN) are integers, other floats in a numeric column the digits of
    their ``repr``; strings in a non-text column (an array literal such as ``{1,2}``, a date) are
    parsed by PostgreSQL itself, once per distinct string, exactly as text COPY parsed them; a
    string in a json/jsonb column is the JSON text. Rows are converted :data:`COPY_CHUNK_ROWS` at a
    time, so memory stays bounded.
    """
    if frame.empty:
        return 0
    constants = dict(constants or {})
    names = [*columns, *constants]
    target = _identifier(table)
    targets = _target_columns(conn, target, names)
    rows: Iterable[tuple] = ()
    if targets is not None:
        # Every query (string parsing) before the COPY starts: a COPY in progress takes none.
        candidates = {column: frame[column] for column in columns}
        parsed = _parse_strings(conn, candidates, targets)
        tail: list[Iterator[Any]] = [
            repeat(value) for value in _adapt_constants(conn, constants, targets[len(columns) :])
        ]
        rows = _frame_rows(frame, columns, targets, parsed, tail)
    _copy(conn, target, names, targets, rows)
    return len(frame)


def _frame_rows(
    frame: pd.DataFrame,
    columns: Sequence[str],
    targets: list[_Column],
    parsed: Mapping[str, Mapping[str, Any]],
    tail: list[Iterator[Any]],
) -> Iterator[tuple]:
    for start in range(0, len(frame), COPY_CHUNK_ROWS):
        part = frame.iloc[start : start + COPY_CHUNK_ROWS]
        values = [
            _adapt(_frame_column(part[column]), target, parsed.get(column))
            for column, target in zip(columns, targets, strict=False)
        ]
        yield from zip(*values, *tail, strict=False)  # tail: endless repeats


def _adapt_constants(conn: psycopg.Connection, constants: Mapping[str, Any], targets: list[_Column]) -> list[Any]:
    parsed = _parse_strings(
        conn, {name: pd.Series([value], dtype=object) for name, value in constants.items()}, targets
    )
    return [
        _adapt(_frame_column(pd.Series([value], dtype=object)), target, parsed.get(name))[0]
        for (name, value), target in zip(constants.items(), targets, strict=True)
    ]


def _parse_strings(
    conn: psycopg.Connection, candidates: Mapping[str, pd.Series], targets: list[_Column]
) -> dict[str, dict[str, Any]]:
    """Per non-text column holding strings: each distinct string cast by PostgreSQL to the column's
    type and read back in binary, so it is stored as text COPY stored it."""
    parsed: dict[str, dict[str, Any]] = {}
    for (name, values), target in zip(candidates.items(), targets, strict=False):
        if target.kind in ("text", "json", "jsonb") or not _may_hold_strings(values.dtype):
            continue
        strings = {value for value in values.dropna().tolist() if isinstance(value, str)}
        if strings:
            cast = sql.SQL("SELECT s, s::{} FROM unnest(%s::text[]) AS s").format(sql.SQL(target.sql_type))
            with conn.cursor(binary=True) as cursor:
                cursor.execute(cast, [sorted(strings)])
                parsed[name] = dict(cursor.fetchall())
    return parsed


def _may_hold_strings(dtype: Any) -> bool:
    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)


def _frame_column(values: pd.Series) -> list[Any]:
    """A frame column as Python values, None for NaN/NaT/None. Instants and days are converted once per
    distinct value (dates and check-in minutes repeat across thousands of rows)."""
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _each_distinct(values.dt.tz_convert("UTC"), _microseconds)
    if pd.api.types.is_datetime64_dtype(dtype):  # naive: a calendar day
        return _each_distinct(values, pd.Timestamp.date)
    python = values.to_numpy(dtype=object)
    missing = values.isna().to_numpy()  # the column's own (vectorized) test, e.g. for pandas strings
    if missing.any():
        python = python.copy()
        python[missing] = None
    if pd.api.types.infer_dtype(python, skipna=True) == "datetime":  # Timestamps (of several zones) as objects
        return [_microseconds(value) if isinstance(value, pd.Timestamp) else value for value in python]
    return python.tolist()


def _microseconds(value: pd.Timestamp) -> dt.datetime:
    """PostgreSQL keeps microseconds and rounds half to even; so does ``round`` (in UTC: no DST)."""
    if value.nanosecond:
        value = value.tz_convert("UTC").round("us").tz_convert(value.tz) if value.tz else value.round("us")
    return value.to_pydatetime()


def _each_distinct(values: pd.Series, convert: Any) -> list[Any]:
    codes, uniques = pd.factorize(values)  # NaT gets code -1: the None appended last
    converted = np.empty(len(uniques) + 1, dtype=object)
    converted[:-1] = [convert(unique) for unique in uniques]
    return converted[codes].tolist()


def _adapt(values: list[Any], target: _Column, parsed: Mapping[str, Any] | None) -> list[Any]:
    """One column's ``values`` as the Python types the binary dumper of the column's type takes."""
    if pd.api.types.infer_dtype(values, skipna=True) in _TAKEN_AS_IS[target.kind]:
        return values
    return [None if value is None else _adapt_value(value, target, parsed) for value in values]


def _adapt_value(value: Any, target: _Column, parsed: Mapping[str, Any] | None) -> Any:
    kind = target.kind
    if kind == "text":  # what text COPY stored for a non-string: its usual spelling
        if isinstance(value, bool | np.bool_):
            return "t" if value else "f"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if kind in ("json", "jsonb"):  # a string is the JSON text itself, as in text COPY
        wrapper = Json if kind == "json" else Jsonb
        return wrapper(value, dumps=str) if isinstance(value, str) else value
    if isinstance(value, str) and parsed is not None:
        return parsed[value]
    if isinstance(value, float):
        if kind in ("integer", "numeric") and value.is_integer():
            return int(value)
        if kind == "numeric":
            return Decimal(repr(value))  # the shortest repr, the digits text COPY sent
        return value
    if kind == "date" and isinstance(value, dt.datetime):
        return value.date()
    if kind == "array" and isinstance(value, tuple | np.ndarray):
        return list(value) if isinstance(value, tuple) else value.tolist()
    return value
