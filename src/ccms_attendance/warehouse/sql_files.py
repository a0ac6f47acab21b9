"""SQL lives in ``src/ccms_attendance/sql/`` as files; this is the one way code reads and runs them.

A file may hold several statements. :func:`run_file` and :func:`fetch_one` send the whole file in one
``execute`` through a :class:`psycopg.ClientCursor`: psycopg quotes the parameters into the text
(client-side binding) and PostgreSQL itself parses the statements, so nothing here splits SQL —
``$$`` bodies, ``;`` inside string literals and comments are the server's business. (Server-side
binding, psycopg's default, takes one statement per ``execute``.) Parameters are quoted wherever their
placeholder stands, so a placeholder must not stand in a comment: a value with a line break would
end the comment (``tests/unit/warehouse/test_target_and_sql_files.py`` checks every file).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import psycopg

from ccms_attendance.paths import SQL_DIR


@cache
def query(name: str) -> str:
    """The text of ``src/ccms_attendance/sql/queries/<name>.sql`` (parameterized with ``%(name)s`` placeholders)."""
    path = SQL_DIR / "queries" / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file {path}")
    return path.read_text()


def run_file(conn: psycopg.Connection, name: str, params: Mapping[str, Any] | None = None) -> int:
    """Execute every statement of ``name`` with ``params``, in one round trip; return the total rows
    affected. On an autocommit connection outside a transaction block, PostgreSQL runs a
    multi-statement file as one implicit transaction: an error in any statement undoes them all."""
    affected = 0
    with psycopg.ClientCursor(conn) as cursor:
        cursor.execute(query(name), params)
        affected += max(cursor.rowcount, 0)
        while cursor.nextset():
            affected += max(cursor.rowcount, 0)
    return affected


def fetch_one(conn: psycopg.Connection, name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The first row of the last statement of ``name`` as a dict (None per column if it returned none)."""
    with psycopg.ClientCursor(conn) as cursor:
        cursor.execute(query(name), params)
        while cursor.nextset():
            pass
        row = cursor.fetchone()
        columns = [column.name for column in cursor.description or []]
    return dict(zip(columns, row or [None] * len(columns), strict=True))
