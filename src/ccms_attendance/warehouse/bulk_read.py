"""Reading query results into pandas frames.

:func:`read_frame` is the general read: psycopg's rows, framed by pandas. :func:`read_bulk_frame`
gives the same frame for the few large reads (a statewide run's 419k staged records, read by the
validate task and again by the reconcile): the server writes the result as CSV through
``COPY (query) TO STDOUT`` and pyarrow parses it in C, instead of psycopg building a Python object
per value and pandas inferring each column from them. Measured on the statewide period's records:
1.6-1.9 s with :func:`read_frame`, 0.55-0.65 s this way (docs/performance.md).

Only result columns of types whose CSV text pyarrow reads to the very values psycopg would give
take that path (text, varchar, date, boolean, integers, double precision, timestamptz); a query
with any other column type, a result the parser refuses (a date in a non-ISO ``DateStyle``, an
infinite instant) or duplicate column names is read by :func:`read_frame`.
``tests/integration/test_bulk_read.py`` checks that the two give equal frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import postgres
from psycopg.pq import Format
from psycopg.types.string import TextLoader

#: pg_type OID of timestamptz: read as text and parsed by pandas (:func:`read_frame`).
_TIMESTAMPTZ = postgres.types["timestamptz"].oid

#: Result types :func:`read_bulk_frame` parses itself, as the Arrow type of their CSV text. Arrow
#: reads an instant's offset (+00, -05, +05:30) into UTC; what it cannot read (``infinity``, BC, an
#: offset with seconds) sends the whole read to :func:`read_frame`.
_ARROW_TYPES = {
    postgres.types[name].oid: arrow_type
    for name, arrow_type in (
        ("text", pa.string()),
        ("varchar", pa.string()),
        ("timestamptz", pa.timestamp("us", tz="UTC")),
        ("date", pa.date32()),
        ("bool", pa.bool_()),
        ("int2", pa.int64()),
        ("int4", pa.int64()),
        ("int8", pa.int64()),
        ("float8", pa.float64()),
    )
}


def read_frame(conn: psycopg.Connection, query: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run a SELECT and return its rows as a frame with the query's column names.

    The frame is what ``DataFrame.from_records`` makes of psycopg's rows, except that instants
    (``timestamptz``) arrive as their text and are parsed by pandas in one vectorized call into the
    same ``datetime64[us, <session time zone>]`` column: building that column from Python datetimes,
    one object at a time, was most of a large read (the reconcile's 419k staged records, two
    instant columns: 2.55 s, now 1.09 s; ``tests/integration/test_bulk_copy.py`` checks the frames equal).
    """
    with conn.cursor() as cursor:
        cursor.adapters.register_loader(_TIMESTAMPTZ, TextLoader)  # this cursor only
        cursor.execute(query, params)
        description = cursor.description or []
        frame = pd.DataFrame.from_records(cursor.fetchall(), columns=[column.name for column in description])
    for position, column in enumerate(description):
        if column.type_code == _TIMESTAMPTZ:
            frame.isetitem(position, _instants(conn, frame.iloc[:, position]))
    return frame


def read_bulk_frame(conn: psycopg.Connection, query: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """:func:`read_frame`'s frame of a large result, read as CSV through COPY (see the module docstring).

    ``query`` is one SELECT without a trailing comment after its last statement; its parameters are
    bound by psycopg on the client (COPY takes none), quoted as literals.
    """
    body = query.strip().removesuffix(";")
    with conn.cursor() as cursor:
        # The result's columns without running the query: LIMIT 0 stops it before its first row.
        cursor.execute(f"SELECT * FROM (\n{body}\n) AS described LIMIT 0", params)
        description = cursor.description or []
    names = [column.name for column in description]
    types = [_ARROW_TYPES.get(column.type_code) for column in description]
    if None in types or len(set(names)) != len(names):
        return read_frame(conn, query, params)
    data = bytearray()
    with conn.cursor() as cursor, cursor.copy(f"COPY (\n{body}\n) TO STDOUT (FORMAT csv)", params) as copy:
        for block in copy:
            data += block
    if not data:  # no rows: the frame read_frame makes of none
        return pd.DataFrame.from_records([], columns=names)
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict(zip(names, types, strict=True)),
                # COPY's CSV writes NULL unquoted and empty text as "": only the former is missing.
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                true_values=["t"],
                false_values=["f"],
            ),
        )
    except pa.ArrowInvalid:  # text pyarrow does not read as psycopg would: psycopg reads it
        return read_frame(conn, query, params)
    frame = table.to_pandas(date_as_object=True)
    for position, (column, description_column) in enumerate(zip(table.columns, description, strict=True)):
        if column.null_count == len(column):  # pandas makes an all-None column of Python objects
            frame.isetitem(position, pd.Series([None] * len(frame), index=frame.index, dtype=object))
        elif description_column.type_code == _TIMESTAMPTZ:  # in the session's zone, as psycopg gives them
            zone = conn.info.timezone
            frame.isetitem(position, frame.iloc[:, position].dt.tz_convert(zone).astype(pd.DatetimeTZDtype("us", zone)))
    return frame


def _instants(conn: psycopg.Connection, texts: pd.Series) -> pd.Series:
    """PostgreSQL's text of instants as psycopg would have loaded them, then pandas framed them."""
    if not texts.notna().any():  # no rows, or every one NULL: None objects, as from_records left them
        return texts
    zone = conn.info.timezone
    try:
        parsed = pd.to_datetime(texts, format="ISO8601", utc=True)
    except (ValueError, OverflowError):  # 'infinity', BC, an offset with seconds: psycopg's loader decides
        loader = conn.adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)
        if loader is None:
            raise
        load = loader(_TIMESTAMPTZ, conn).load
        values = [None if missing else load(text.encode()) for text, missing in zip(texts, texts.isna(), strict=True)]
        return pd.DataFrame.from_records([(value,) for value in values], columns=["v"], index=texts.index)["v"]
    return parsed.dt.tz_convert(zone).astype(pd.DatetimeTZDtype("us", zone))
