"""Recording a ValidationOutcome in ``reconciled.validation_result`` (one row per run and suite)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ccms_attendance.validation.outcome import ValidationOutcome, json_safe
from ccms_attendance.warehouse.sql_files import run_file

if TYPE_CHECKING:
    import psycopg


def persist_outcome(
    conn: psycopg.Connection, *, run_id: str, period_start: dt.date, outcome: ValidationOutcome
) -> None:
    """Insert or replace the (run_id, suite) row; runs in the caller's transaction, if any."""
    from psycopg.types.json import Jsonb

    run_file(
        conn,
        "upsert_validation_result",
        {
            "run_id": run_id,
            "period_start": period_start,
            "suite_name": outcome.suite_name,
            "success": outcome.success,
            "evaluated": int(outcome.evaluated_rows),
            "failed_critical": len(outcome.critical_failures),
            "failed_warning": len(outcome.warnings),
            "quarantined_rows": len(outcome.quarantine),
            "result": Jsonb(json_safe(outcome.result)),
        },
    )
