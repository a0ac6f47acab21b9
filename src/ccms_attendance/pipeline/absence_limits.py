"""Recount absence limits for the children a load changed (see rules.absence_limits).

Called by the load step inside its transaction, after the period's rows are swapped in, so the
notice list always agrees with the reconciled tables it was computed from: both commit together
or not at all. Each child's count continues from its state at the end of its previous period
(``reconciled.absence_limit_state``, written by the same recount) where one fits, so a load's
recount reads its own period, not the enrollment year so far (issue 20); the results are those
of a recount of the year, which ``from_scratch`` does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from ccms_attendance.rules.absence_limits import limit_parameters
from ccms_attendance.warehouse.sql_files import fetch_one, query, run_file

#: Serializes recounts of different periods: they may share children.
_LIMITS_LOCK = (0x4C494D54, 0)  # "LIMT"


def children_changed_by_load(conn: psycopg.Connection, run_id: str, period_start: dt.date) -> list[str]:
    """Children with rows in the version just loaded or in the one it replaced."""
    rows = conn.execute(query("children_changed_by_load"), {"run_id": run_id, "period_start": period_start})
    return [child_id for (child_id,) in rows.fetchall()]


def refresh_absence_limits(
    conn: psycopg.Connection, run_id: str, period_start: dt.date, children: list[str], *, from_scratch: bool = False
) -> dict[str, Any]:
    """Recount ``children`` and update tallies and notices; return what changed, for the audit.

    ``from_scratch`` ignores the stored states: every child is recounted from the start of its
    enrollment year (the same results; the reference the states are tested against).
    """
    params = {
        **limit_parameters(),
        "run_id": run_id,
        "period_start": period_start,
        "children": children,
        "from_scratch": from_scratch,
    }
    # Its work tables live until commit: inside the load's transaction this is a savepoint.
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", _LIMITS_LOCK)
        run_file(conn, "refresh_absence_limits", params)
        changes = fetch_one(conn, "absence_limit_changes", params)
    return {"children_recounted": len(children), **changes}
