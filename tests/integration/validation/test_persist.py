"""persist_outcome against a real PostgreSQL: a database of this module's own, migrated, then dropped."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Iterator

import pandas as pd
import psycopg
import pytest

from ccms_attendance.validation import FailedExpectation, ValidationOutcome, persist_outcome
from ccms_attendance.warehouse.migrate import apply_migrations
from ccms_attendance.warehouse.target import drop_database

ADMIN = os.environ.get("CCMS_VALIDATION_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


@pytest.fixture(scope="module")
def conninfo() -> Iterator[str]:
    dbname = f"ccms_validation_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.fail(f"no PostgreSQL at {ADMIN}: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
    target = psycopg.conninfo.make_conninfo(ADMIN, dbname=dbname)
    try:
        apply_migrations(target)
        yield target
    finally:
        drop_database(ADMIN, dbname)


def _outcome(*, critical: int, quarantined: int, rows: int = 100) -> ValidationOutcome:
    failure = FailedExpectation(
        expectation_type="expect_compound_columns_to_be_unique",
        column="site_id,child_id",
        severity="critical",
        description="expect_compound_columns_to_be_unique(column_list=['site_id', 'child_id'])",
        unexpected_count=2,
        sample_rows=[{"site_id": "S1", "child_id": "C1", "attendance_date": "2025-01-06"}],
    )
    warning = FailedExpectation("expect_column_values_to_be_in_set", "absence_reason", "warning", "in set", 1, [])
    return ValidationOutcome(
        suite_name="playground_extract",
        evaluated_rows=rows,
        critical_failures=[failure] * critical,
        warnings=[warning],
        quarantine=pd.DataFrame({"reason": ["r"] * quarantined}, index=range(quarantined)),
        result={"suite_name": "playground_extract", "statistics": {"success_percent": 90.0}, "rate": float("nan")},
    )


def test_persist_writes_then_overwrites_one_row_per_run_and_suite(conninfo):
    period = dt.date(2025, 1, 6)
    with psycopg.connect(conninfo) as conn:
        persist_outcome(conn, run_id="run-1", period_start=period, outcome=_outcome(critical=1, quarantined=3))
        conn.commit()
        row = conn.execute(
            "SELECT period_start, success, evaluated, failed_critical, failed_warning, quarantined_rows, result,"
            " validated_at FROM reconciled.validation_result"
            " WHERE run_id = 'run-1' AND suite_name = 'playground_extract'"
        ).fetchone()
        assert row[:6] == (period, False, 100, 1, 1, 3)
        assert row[6]["statistics"] == {"success_percent": 90.0}
        assert row[6]["rate"] is None  # NaN is stored as JSON null
        first_at = row[7]

        persist_outcome(conn, run_id="run-1", period_start=period, outcome=_outcome(critical=0, quarantined=0, rows=7))
        persist_outcome(conn, run_id="run-2", period_start=period, outcome=_outcome(critical=0, quarantined=1))
        conn.commit()
        rows = conn.execute(
            "SELECT run_id, success, evaluated, failed_critical, quarantined_rows, validated_at "
            "FROM reconciled.validation_result ORDER BY run_id"
        ).fetchall()
    assert [r[:5] for r in rows] == [("run-1", True, 7, 0, 0), ("run-2", True, 100, 0, 1)]
    assert rows[0][5] >= first_at


def test_persist_real_outcome(conninfo):
    from ccms_attendance.validation import validate_frame

    frame = pd.DataFrame(
        {
            "site_id": ["S1", "S1"],
            "child_id": ["C1", "C1"],
            "operating_days": [10, 10],
            "enrolled_days": [10, 10],
            "absent_days": [1, 1],
            "absence_rate": [0.1, 0.1],
            "off_days": [0, 0],
            "paid_closure_days": [0, 0],
            "unpaid_closure_days": [0, 0],
            "pending_days": [0, 0],
            "lifecycle": ["final", "final"],
        }
    )
    outcome = validate_frame("reconciled_absence_summary", frame)
    assert not outcome.success
    with psycopg.connect(conninfo) as conn:
        persist_outcome(conn, run_id="run-3", period_start=dt.date(2025, 1, 6), outcome=outcome)
        conn.commit()
        success, failed, result = conn.execute(
            "SELECT success, failed_critical, result FROM reconciled.validation_result WHERE run_id = 'run-3'"
        ).fetchone()
    assert (success, failed) == (False, 1)
    assert result["suite_name"] == "reconciled_absence_summary"
    assert any(e["action"] == "failed" for e in result["expectations"])
