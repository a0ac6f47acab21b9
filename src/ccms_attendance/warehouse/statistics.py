"""Fresh planner statistics right after a step's bulk write (migration V019, docs/performance.md).

A table PostgreSQL has not analyzed since a bulk write misleads the planner, and autovacuum
analyzes only a minute or more later (never where it is off): after the next step has read it. So
each step that finishes a bulk write that later steps join analyzes it, through the owner's
functions (only a table's owner may ANALYZE it): the plan, the reconcile, the intake and the load.

Best effort: the data is committed before, and correct results never depend on statistics, only
the time the next queries take. A lock not granted in time or a lost connection is a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import psycopg

from ccms_attendance.warehouse.sql_files import run_file

log = logging.getLogger(__name__)

#: How long ANALYZE (or adding a partition) waits for a lock: a long reader, a running autovacuum.
LOCK_TIMEOUT = "1min"


def refresh_statistics(conn: psycopg.Connection, sql_file: str, params: Mapping[str, Any] | None, what: str) -> bool:
    """Run the ANALYZE of ``sql_file`` in a transaction of its own; False (and a warning) if it failed.

    Never inside a step's own transaction: ANALYZE holds its SHARE UPDATE EXCLUSIVE locks until
    the transaction ends.
    """
    try:
        with conn.transaction():
            conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            run_file(conn, sql_file, params)
    except psycopg.Error as error:
        message = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
        log.warning("%s: committed, but ANALYZE failed (autovacuum will analyze later): %s", what, message)
        return False
    return True


def analyze_staging(conn: psycopg.Connection, tables: list[str], what: str) -> bool:
    """ANALYZE these ``staging`` tables (the writer's step just wrote them)."""
    return refresh_statistics(conn, "analyze_staging", {"tables": tables}, what)
