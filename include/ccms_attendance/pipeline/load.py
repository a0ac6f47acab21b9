"""Step 4: make a run's reconciled rows the period's current version, all at once.

Everything happens in one transaction that holds the period's advisory lock: readers see either the
previous version or the new one, never a mix; a failed or killed load leaves the previous version
untouched; two runs of one period never interleave. The replaced rows move to ``history.*`` and
``history.period_version`` records who loaded each version and which run superseded it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.warehouse.sql_files import fetch_one, run_file

_PERIOD_LOCK_NAMESPACE = 0x4C4F4144  # "LOAD"


class NothingToLoadError(RuntimeError):
    """The run has no reconciled rows staged (its reconcile step did not complete)."""


def period_lock_key(period_start: dt.date) -> int:
    return period_start.toordinal()


def load_period(conn: psycopg.Connection, run: RunContext, timings: dict[str, float] | None = None) -> dict[str, Any]:
    """Swap the run's staged rows in for its period and record the audit; return the checksums."""
    params = {**run.period_params, "full_period": run.scope.is_full_period}
    with conn.transaction():
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        conn.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", (_PERIOD_LOCK_NAMESPACE, period_lock_key(run.period.start))
        )
        staged = conn.execute("SELECT count(*) FROM staging.site_period WHERE run_id = %s", (run.run_id,)).fetchone()
        planned = conn.execute("SELECT count(*) FROM staging.site_plan WHERE run_id = %s", (run.run_id,)).fetchone()
        if staged[0] != planned[0]:
            raise NothingToLoadError(
                f"{run.describe()}: {planned[0]} sites planned but {staged[0]} reconciled; "
                "rerun the reconcile task before loading"
            )
        run_file(conn, "load_period", params)
        checksums = fetch_one(conn, "period_checksums", params)
        run_file(conn, "record_period_load", {**params, "checksum": checksums["daily_attendance"]})
        run_file(
            conn,
            "record_period_version",
            {
                **params,
                "dag_id": run.dag_id,
                "loaded_by": run.triggered_by,
                "scope": Jsonb(run.scope.as_json()),
                "checksum": checksums["daily_attendance"],
            },
        )
        run_file(
            conn,
            "finish_run_audit",
            {
                **params,
                "status": "loaded",
                "counts": Jsonb({k: v for k, v in checksums.items() if isinstance(v, int)}),
                "checksums": Jsonb({k: v for k, v in checksums.items() if isinstance(v, str)}),
                "timings": Jsonb(timings or {}),
            },
        )
    return checksums
