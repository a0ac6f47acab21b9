"""SQL lives in ``include/sql/`` as files; this is the one way code reads and runs them."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import psycopg

from ccms_attendance.paths import SQL_DIR


@cache
def query(name: str) -> str:
    """The text of ``include/sql/queries/<name>.sql`` (parameterized with ``%(name)s`` placeholders)."""
    path = SQL_DIR / "queries" / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file {path}")
    return path.read_text()


@cache
def statements(name: str) -> tuple[str, ...]:
    """The statements of a multi-statement file (each ends with ``;`` at the end of a line).

    Parameterized statements go one at a time over the extended protocol, so a file of several is
    split here rather than sent as one string.
    """
    parts, current = [], []
    for line in query(name).splitlines():
        if line.lstrip().startswith("--") and not current:
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            parts.append("\n".join(current))
            current = []
    if "".join(current).strip():
        parts.append("\n".join(current))
    return tuple(parts)


def run_file(conn: psycopg.Connection, name: str, params: Mapping[str, Any] | None = None) -> int:
    """Execute every statement of ``name`` with ``params``; return the total rows affected."""
    affected = 0
    with conn.cursor() as cursor:
        for statement in statements(name):
            cursor.execute(statement, params)
            affected += max(cursor.rowcount, 0)
    return affected


def fetch_one(conn: psycopg.Connection, name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    with conn.cursor() as cursor:
        cursor.execute(query(name), params)
        row = cursor.fetchone()
        columns = [column.name for column in cursor.description or []]
    return dict(zip(columns, row or [None] * len(columns), strict=True))
