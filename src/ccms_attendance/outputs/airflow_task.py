"""The body of the outputs DAG's task: which periods triggered it, then ``produce.produce_outputs``."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any

from ccms_attendance.canonical import STATE_TIMEZONE

log = logging.getLogger(__name__)


def triggering_periods(context: Mapping[str, Any]) -> list[dt.date]:
    """The periods named by the triggering Asset events (each load tags its events), else the
    ``period_start`` Param of a manual run."""
    found: set[dt.date] = set()
    events = context.get("triggering_asset_events") or {}
    for asset in events:
        for event in events[asset]:
            if start := (event.extra or {}).get("period_start"):
                found.add(dt.date.fromisoformat(start))
    if not found and (param := (context.get("params") or {}).get("period_start")):
        found.add(dt.date.fromisoformat(str(param)))
    if not found:
        raise ValueError("no period to deliver: no triggering Asset event names one, and Param period_start is empty")
    return sorted(found)


def _mailer(config):
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    from ccms_attendance.outputs.delivery import Mailer

    try:
        BaseHook.get_connection(config.smtp_conn_id)
    except AirflowNotFoundException:
        log.info("No connection %s: letters go to the folder only", config.smtp_conn_id)
        return None
    return Mailer(config)


def deliver(context: Mapping[str, Any]) -> dict[str, Any]:
    from ccms_attendance.airflow_tasks import _warehouse
    from ccms_attendance.outputs.delivery import Folder, OutputsConfig
    from ccms_attendance.outputs.produce import produce_outputs

    config = OutputsConfig.load()
    today = dt.datetime.now(STATE_TIMEZONE).date()
    folder, mailer = Folder(config), _mailer(config)
    results = []
    with _warehouse() as conn:
        for period_start in triggering_periods(context):
            summary = produce_outputs(
                conn, period_start, context["dag_run"].run_id, today, config.correction_window_days, folder, mailer
            )
            if summary.lifecycle != "final":
                log.info(
                    "Period %s is %s, not final: no outputs (letters go out once the period is final)",
                    period_start, summary.lifecycle or "not loaded",
                )  # fmt: skip
            else:
                log.info("Outputs of period %s: %s", period_start, json.dumps(summary.as_xcom(), sort_keys=True))
            results.append(summary.as_xcom())
    return {"periods": results}
