"""SQL lives in ``src/ccms_attendance/sql/`` as files; this is the one way code reads and runs them."""

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


@cache
def statements(name: str) -> tuple[str, ...]:
    """The statements of a multi-statement file (see :func:`split_statements`).

    Parameterized statements go one at a time over the extended protocol, so a file of several is
    split here rather than sent as one string.
    """
    return split_statements(query(name))


def split_statements(text: str) -> tuple[str, ...]:
    """Statements of ``text``: each ends with ``;`` at the end of a line that is not a comment.

    A comment line never ends a statement, even when its prose ends with ``;`` (it would otherwise
    cut the statement it sits in). Comment lines before a statement are dropped.
    """
    parts: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        comment = line.lstrip().startswith("--")
        if comment and not current:
            continue
        current.append(line)
        if not comment and line.rstrip().endswith(";"):
            parts.append("\n".join(current))
            current = []
    if any(line.strip() and not line.lstrip().startswith("--") for line in current):
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
