"""Running pipeline steps with the loader's privileges on a test's owner connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from ccms_attendance.warehouse.target import LOADER_ROLE, role_name


@contextmanager
def acting_as(conn: psycopg.Connection, kind: str = LOADER_ROLE) -> Iterator[psycopg.Connection]:
    """Within the block ``conn`` (the owner's, autocommit) has exactly the privileges of its database's
    role of ``kind`` (``SET ROLE``): a step tests that run through it prove the role may do what the
    step does, while the tests' own setup keeps the owner's rights."""
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role_name(conn.info.dbname, kind))))
    try:
        yield conn
    finally:
        conn.execute("RESET ROLE")
