"""The bodies of the period DAG's tasks: Airflow context in, pipeline step out, small dict back.

The DAG file only wires these together. Each body opens its own warehouse connection (from the
``ccms_warehouse`` Airflow connection), calls one pipeline step, and returns counts that are small
enough for XCom; rows travel through the warehouse's staging schema, never through XCom.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from ccms_attendance.canonical import STATE_TIMEZONE, Source
from ccms_attendance.periods import load_calendar, load_pipeline_config
from ccms_attendance.pipeline.run_context import RunContext, RunScope

log = logging.getLogger(__name__)


class ParamsError(ValueError):
    """A manual run's Params name something that does not exist."""


def run_context(context: Mapping[str, Any]) -> RunContext:
    """The run's identity and service period, from the DAG run's data interval."""
    start = context["data_interval_start"]
    calendar = load_calendar()
    period = calendar.period_containing(start.astimezone(STATE_TIMEZONE).date())
    if period.start_instant() != start:
        raise ValueError(
            f"data interval starting {start.isoformat()} is not the start of service period {period}; "
            "was the DAG scheduled with the ServicePeriodTimetable?"
        )
    params = context.get("params") or {}
    scope = RunScope(
        sites=tuple(params.get("sites") or ()),
        sources=tuple(Source(s) for s in params.get("sources") or ()),
    )
    dag_run = context["dag_run"]
    triggered_by = getattr(dag_run, "triggering_user_name", None) or str(getattr(dag_run, "run_type", "unknown"))
    return RunContext(
        run_id=dag_run.run_id, dag_id=context["dag"].dag_id, period=period, scope=scope, triggered_by=triggered_by
    )


def default_task_args() -> dict[str, Any]:
    """Retry policy from ``pipeline.toml`` (env ``CCMS_TASK_RETRIES`` / ``..._RETRY_DELAY_SECONDS`` win)."""
    section = load_pipeline_config().get("tasks", {})
    retries = int(os.environ.get("CCMS_TASK_RETRIES", section.get("retries", 2)))
    delay = float(os.environ.get("CCMS_TASK_RETRY_DELAY_SECONDS", section.get("retry_delay_seconds", 60)))
    return {"retries": retries, "retry_delay": dt.timedelta(seconds=delay), "on_failure_callback": on_task_failure}


def _warehouse():
    from ccms_attendance.hooks.warehouse import WarehouseHook

    return WarehouseHook().connect()


def plan(context: Mapping[str, Any]) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    from ccms_attendance.pipeline.abandoned_runs import settle_runs
    from ccms_attendance.pipeline.plan import plan_period
    from ccms_attendance.rules.lifecycle import PeriodNotEndedError

    run = run_context(context)
    config = load_pipeline_config()
    batch_count = int(config["extraction"]["site_batches_per_vendor"])
    grace = dt.timedelta(hours=config["service_periods"].get("grace_hours", 0))
    runs = config.get("runs", {})
    with _warehouse() as conn:
        _check_scope(conn, run.scope)
        try:
            result = plan_period(
                conn, run, load_calendar(), batch_count, as_known_at=as_known_at_param(context), grace=grace
            )
        except PeriodNotEndedError as error:
            raise AirflowFailException(str(error)) from None  # waiting, not retrying, is the answer
        settled = settle_runs(
            conn,
            run,
            _dag_run_state(context["ti"]),
            abandon_unknown_after=dt.timedelta(hours=float(runs.get("abandon_unknown_after_hours", 24))),
            staging_retention=dt.timedelta(days=float(runs.get("staging_retention_days", 7))),
        )
    log.info(
        "Planned %s: sites per source %s, %d plan exceptions; earlier runs: %s",
        run.describe(),
        result.sites_per_source,
        result.exceptions,
        settled.as_xcom(),
    )
    return {**result.as_xcom(), **settled.as_xcom()}


def as_known_at_param(context: Mapping[str, Any]) -> dt.datetime | None:
    """The Param ``as_known_at`` as an aware instant (None: as known when the run plans)."""
    value = (context.get("params") or {}).get("as_known_at")
    if value in (None, ""):
        return None
    try:
        instant = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise ParamsError(f"Params 'as_known_at' is not an ISO 8601 instant: {str(value)[:40]!r}") from None
    if instant.tzinfo is None:
        raise ParamsError("Params 'as_known_at' needs a time zone (e.g. 2026-12-01T09:00:00+00:00)")
    return instant


def _dag_run_state(ti: Any):
    """Airflow's state of another DAG run, asked through the task's execution API (None: unknown)."""

    def state(dag_id: str, run_id: str) -> str | None:
        if not ti.get_dr_count(dag_id=dag_id, run_ids=[run_id]):
            return None
        state = ti.get_dagrun_state(dag_id=dag_id, run_id=run_id)
        return str(getattr(state, "value", state))  # a DagRunState enum: str() would give its name

    return state


def _check_scope(conn, scope: RunScope) -> None:
    if not scope.sites:
        return
    from ccms_attendance.warehouse.bulk import read_frame
    from ccms_attendance.warehouse.sql_files import query

    known = set(read_frame(conn, query("known_sites"), {"site_ids": list(scope.sites)})["site_id"])
    unknown = sorted(set(scope.sites) - known)
    if unknown:
        raise ParamsError(f"Params 'sites' names unknown site ids: {', '.join(unknown)}")


def extract_ppp(context: Mapping[str, Any]) -> dict[str, Any]:
    from ccms_attendance.pipeline.extract import extract_ppp as stage_ppp

    run = run_context(context)
    with _warehouse() as conn:
        summary = stage_ppp(conn, run)
    log.info("PPP %s: %s", run.describe(), summary.as_xcom())
    return summary.as_xcom()


def extract_ccms(context: Mapping[str, Any], source: str, batch_no: int) -> dict[str, Any]:
    from ccms_attendance.hooks import CcmsExtractionError, hook_for_source
    from ccms_attendance.pipeline.extract import extract_ccms_batch

    run = run_context(context)
    vendor = Source(source)
    sites_in_flight = int(load_pipeline_config()["extraction"].get("sites_in_flight", {}).get(str(vendor), 1))
    # A hook (and its HTTP session) is not shared between threads: one per thread that fetches.
    per_thread = threading.local()

    def site_items(license_number: str):
        if not hasattr(per_thread, "hook"):
            per_thread.hook = hook_for_source(vendor)
        return per_thread.hook.iter_site_period(license_number, run.period)

    with _warehouse() as conn:
        summary = extract_ccms_batch(
            conn, run, vendor, batch_no, site_items, (CcmsExtractionError,), sites_in_flight=sites_in_flight
        )
    log.info("%s batch %d %s: %s", vendor, batch_no, run.describe(), summary.as_xcom())
    if summary.failures:
        # Everything retrieved is staged; failing now makes the outage visible and retryable.
        # Reconciliation still runs (trigger rule all_done) and marks these sites incomplete.
        message = (
            f"{vendor} batch {batch_no}, {run.describe()}: {summary.sites_failed} of {summary.sites} sites failed: "
            + " | ".join(summary.failures[:5])
        )
        if not summary.retryable_failures:
            # Only data errors (a response that cannot be used, an unusable marker ...): a retry
            # would read the same data the same way. Fail without retrying.
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(message)
        raise CcmsExtractionError(message, retryable=True)
    return summary.as_xcom()


def validate(context: Mapping[str, Any], source: str) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    from ccms_attendance.pipeline.validate import publish_data_docs, validate_source

    run = run_context(context)
    with _warehouse() as conn:
        summary = validate_source(conn, run, Source(source))
    if summary.outcome is not None:
        log.info("GX data docs for %s: %s", summary.suite, publish_data_docs(run, [summary.outcome], summary.suite))
    if not summary.success:
        # Retrying would judge the same rows the same way: fail now. Reconciliation still runs and
        # reports this source's sites as incomplete.
        raise AirflowFailException(f"{source}, {run.describe()}: {summary.error}")
    return summary.as_xcom()


def reconcile(context: Mapping[str, Any]) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    from ccms_attendance.pipeline.reconcile import (
        UnfinishedInputsError,
        ensure_valid,
        reconcile_run,
        stage_reconciled,
        validate_reconciled,
    )
    from ccms_attendance.pipeline.validate import publish_data_docs

    run = run_context(context)
    started = time.monotonic()
    with _warehouse() as conn:
        try:
            result = reconcile_run(conn, run)
        except UnfinishedInputsError as error:
            raise AirflowFailException(str(error)) from None  # retrying reconcile cannot finish an upstream step
        outcomes = validate_reconciled(conn, run, result)
        log.info("GX data docs for the reconciled output: %s", publish_data_docs(run, outcomes, "reconciled"))
        ensure_valid(run, outcomes)
        stage_reconciled(conn, run, result)
    counts = {
        "daily_rows": len(result.daily),
        "absences": int((result.daily["status"] == "absent").sum()),
        "summary_rows": len(result.summary),
        "incomplete_sites": int((~result.site_period["complete"].astype(bool)).sum()),
        "exceptions_by_kind": result.exceptions["kind"].value_counts().to_dict(),
        "seconds": round(time.monotonic() - started, 3),
    }
    log.info("Reconciled %s: %s", run.describe(), counts)
    return counts


def load(context: Mapping[str, Any]) -> dict[str, Any]:
    from ccms_attendance.pipeline.load import load_period

    run = run_context(context)
    with _warehouse() as conn:
        loaded = load_period(conn, run)
    summary = {
        "period": str(run.period),
        "run_id": run.run_id,
        **{k: v for k, v in loaded.items() if isinstance(v, int)},
        **loaded["summary"],
        "load_step_seconds": loaded["timings"],
    }
    # One structured line an engineer (or a log search) can read the whole run from.
    log.info("Period loaded: %s", json.dumps(summary, sort_keys=True))
    _tag_asset_events(context, run.period.start, loaded["summary"].get("lifecycle"))
    return {k: v for k, v in summary.items() if k != "run_id"}


def _tag_asset_events(context: Mapping[str, Any], period_start: dt.date, lifecycle: str | None) -> None:
    """Say on each published Asset event which period this load was and its lifecycle (the outputs DAG
    reads it from its triggering events)."""
    from ccms_attendance.assets import PERIOD_TABLES

    events = context.get("outlet_events")
    if events is None:
        return
    for asset in PERIOD_TABLES:
        events[asset].extra = {"period_start": period_start.isoformat(), "lifecycle": lifecycle}


def report(context: Mapping[str, Any]) -> dict[str, Any]:
    from ccms_attendance.reporting import build_period_report
    from ccms_attendance.ui.links import report_url

    run = run_context(context)
    from ccms_attendance.validation.retention import prune_data_docs

    with _warehouse() as conn:
        path = build_period_report(conn, run.period.start, run.run_id)
        pruned = prune_data_docs(conn)  # [data_docs] retention in pipeline.toml
    url = report_url(run.dag_id, run.run_id)
    log.info("Period report: %s (file %s)", url, path)
    return {"report_file": str(path), "report_url": url, "data_docs_runs_removed": len(pruned.removed)}


#: What to do when a step fails, by task (shown by the failure callback and in the task docs).
FAILURE_ADVICE = {
    "plan_period": (
        "If the period has not ended, run a past period instead (trigger form: a logical date inside it). "
        "Otherwise check the warehouse connection and the portal tables; then clear the whole run."
    ),
    "extract_entries": "Check the warehouse connection; clear this task (the run continues from here).",
    "extract_batch": (
        "The vendor API failed for some sites after retries; those sites are reported incomplete, never "
        "absent. When the vendor is back, clear this task and the downstream reconcile/load."
    ),
    "validate": (
        "If the source's data broke a critical expectation (see the message and the data docs), its sites are "
        "reported incomplete: fix the data at the source, then clear the source's extract task downstream. "
        "If the check itself failed (warehouse unreachable, GX could not evaluate), the run stops at reconcile "
        "and loads nothing: fix the cause, clear this task and its downstream tasks."
    ),
    "reconcile": (
        "The period was NOT loaded; its previous version stays current. If an extract or validate step did not "
        "complete, clear it with its downstream tasks; otherwise read the error, fix, clear reconcile."
    ),
    "load": "The load rolled back: the previous version of the period is intact. Clear the load task to retry.",
    "report": "The period IS loaded; only its report is missing. Read the error, fix, clear the report task.",
    "deliver_outputs": (
        "Letters already recorded in reconciled.notice_delivery are not sent again. Check the outputs folder and "
        "the ccms_outputs_smtp connection, then clear this task."
    ),
}


def on_task_failure(context: Mapping[str, Any]) -> None:
    """Failure callback: one actionable message naming the step, source batch, period and what to do."""
    ti = context["ti"]
    step = ti.task_id.rsplit(".", 1)[-1]
    group = ti.task_id.split(".", 1)[0] if "." in ti.task_id else None
    where = ti.task_id if ti.map_index is None or ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
    try:
        period = str(run_context(context).period)
    except Exception:  # the callback must never fail: report what is known
        period = "unknown period"
    log.error(
        "CCMS attendance step failed: %s%s, period %s, run %s: %s -- What to do: %s",
        where,
        f" (source {group.upper()})" if group else "",
        period,
        context["dag_run"].run_id,
        context.get("exception"),
        FAILURE_ADVICE.get(step, "Read the task log, fix the cause, clear the task."),
    )
    if step in _STEPS_THAT_STOP_THE_LOAD:
        _record_run_failed(context["dag_run"].run_id, f"{where} failed: {context.get('exception')}")


#: A final failure of these steps means the run will not load (until its tasks are cleared).
_STEPS_THAT_STOP_THE_LOAD = frozenset({"plan_period", "reconcile", "load"})


def _record_run_failed(run_id: str, reason: str) -> None:
    """Mark the run ``failed`` in ``reconciled.run_audit`` (best effort: the warehouse may be the cause)."""
    from ccms_attendance.pipeline.abandoned_runs import mark_run_failed

    try:
        with _warehouse() as conn:
            mark_run_failed(conn, run_id, reason)
    except Exception as error:  # the callback must never fail; the next plan settles the run
        log.warning("Could not mark run %s failed in the warehouse: %s", run_id, error)
