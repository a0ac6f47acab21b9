"""The Airflow Assets a period load publishes, shared by the period DAGs (outlets) and the outputs
DAG (schedule). Each load attaches ``{"period_start": ..., "lifecycle": ...}`` to its events."""

from __future__ import annotations

from airflow.sdk import Asset

PERIOD_TABLES = [
    Asset(name=f"ccms_reconciled_{table}", uri=f"postgres://ccms-warehouse:5432/ccms/reconciled/{table}")
    for table in ("daily_attendance", "absence_summary", "exception", "absence_limit_notice")
]
