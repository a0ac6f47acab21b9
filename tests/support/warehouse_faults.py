"""Catch a pipeline task at a known point inside the warehouse, deterministically, with real locks.

No hook in production code: the test holds an ordinary PostgreSQL lock on something the step will
touch (e.g. the period's row of ``reconciled.period_load``, which the load step updates near the end
of its transaction, after it has already replaced the period's rows). The task's session then waits
on that lock, mid-transaction, for as long as the test likes. The test finds it in
``pg_stat_activity`` (its ``application_name`` carries the task process's pid, see
``WarehouseHook.connect``), and then kills the process or terminates the session.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg

from ccms_attendance.warehouse.target import WarehouseTarget

_PID = re.compile(r"^ccms-attendance pid (\d+)$")


@dataclass(frozen=True)
class BlockedSession:
    backend_pid: int  # the PostgreSQL backend serving the task
    task_pid: int  # the task process (from its application_name)
    query: str


class LockHolder:
    """An open transaction holding locks that a pipeline step is about to need."""

    def __init__(self, target: WarehouseTarget) -> None:
        self.conn = psycopg.connect(target.conninfo)  # not autocommit: locks last until release()
        self.pid: int = self.conn.execute("SELECT pg_backend_pid()").fetchone()[0]

    def lock_period_load_row(self, period_start) -> None:
        """The period's row of reconciled.period_load: the load step's upsert of it waits."""
        found = self.conn.execute(
            "SELECT 1 FROM reconciled.period_load WHERE period_start = %s FOR UPDATE", (period_start,)
        ).fetchone()
        assert found, f"hold point needs a loaded period {period_start}"

    def lock_table_against_writes(self, table: str) -> None:
        self.conn.execute(f"LOCK TABLE {table} IN SHARE MODE")

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


@contextlib.contextmanager
def holding(target: WarehouseTarget) -> Iterator[LockHolder]:
    holder = LockHolder(target)
    try:
        yield holder
    finally:
        holder.release()


def blocked_sessions(conn: psycopg.Connection, holder: LockHolder) -> list[BlockedSession]:
    """Pipeline sessions waiting for a lock the holder has."""
    rows = conn.execute(
        "SELECT pid, application_name, query FROM pg_stat_activity"
        " WHERE %s = ANY(pg_blocking_pids(pid)) AND application_name LIKE 'ccms-attendance pid %%'",
        (holder.pid,),
    ).fetchall()
    return [BlockedSession(pid, int(_PID.match(name)[1]), query) for pid, name, query in rows]


def wait_for_blocked(
    conn: psycopg.Connection, holder: LockHolder, count: int = 1, timeout: float = 180.0
) -> list[BlockedSession]:
    deadline = time.monotonic() + timeout
    while True:
        sessions = blocked_sessions(conn, holder)
        if len(sessions) >= count:
            return sessions
        if time.monotonic() > deadline:
            raise AssertionError(f"no pipeline session blocked on the test's lock within {timeout:.0f} s")
        time.sleep(0.3)


def wait_backend_gone(conn: psycopg.Connection, backend_pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend_pid,)).fetchone():
        if time.monotonic() > deadline:
            raise AssertionError(f"backend {backend_pid} still there after {timeout:.0f} s")
        time.sleep(0.2)


def holds_write_locks(conn: psycopg.Connection, backend_pid: int, table: str) -> bool:
    """Whether ``backend_pid`` has written ``table`` in its open transaction (holds RowExclusiveLock)."""
    return bool(
        conn.execute(
            "SELECT 1 FROM pg_locks WHERE pid = %s AND relation = %s::regclass AND mode = 'RowExclusiveLock'"
            " AND granted",
            (backend_pid, table),
        ).fetchone()
    )
