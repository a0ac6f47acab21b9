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

from ccms_attendance.alerts.advice import extract_advice, step_advice
from ccms_attendance.alerts.task_failures import ParamsError, fail_now, task_body
from ccms_attendance.canonical import STATE_TIMEZONE, Source
from ccms_attendance.periods import load_calendar, load_pipeline_config
from ccms_attendance.pipeline.run_context import RunContext, RunScope

log = logging.getLogger(__name__)


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


def warehouse():
    from ccms_attendance.hooks.warehouse import WarehouseHook

    return WarehouseHook().connect()


def site_batch_count() -> int:
    """``[extraction] site_batches_per_vendor``: the period DAG maps each vendor's extract over this
    many batch numbers, read when its file is parsed (a small file), and hands the same number to
    its plan, so a run's plan and its mapped tasks always agree."""
    count = int(load_pipeline_config()["extraction"]["site_batches_per_vendor"])
    if count < 1:
        raise ValueError(f"[extraction] site_batches_per_vendor must be at least 1, not {count}")
    return count


@task_body("plan_period")
def plan(context: Mapping[str, Any], batch_count: int) -> dict[str, Any]:
    """Plan the run; ``batch_count`` is the number of batch numbers the DAG maps each vendor over."""
    from ccms_attendance.pipeline.abandoned_runs import settle_runs
    from ccms_attendance.pipeline.plan import plan_period
    from ccms_attendance.preload import warm_validation_in_background
    from ccms_attendance.rules.lifecycle import PeriodNotEndedError

    warm_validation_in_background()  # under `airflow dags test` only: GX imported during the extracts
    run = run_context(context)
    config = load_pipeline_config()
    grace = dt.timedelta(hours=config["service_periods"].get("grace_hours", 0))
    runs = config.get("runs", {})
    with warehouse() as conn:
        _check_scope(conn, run.scope)
        try:
            result = plan_period(
                conn, run, load_calendar(), batch_count, as_known_at=as_known_at_param(context), grace=grace
            )
        except PeriodNotEndedError as error:
            fail_now(str(error), "wait for the period to end, or pick a past period")  # not retrying
        settled = settle_runs(
            conn,
            run,
            _dag_run_state(context["ti"]),
            abandon_unknown_after=dt.timedelta(hours=float(runs.get("abandon_unknown_after_hours", 24))),
            staging_retention=dt.timedelta(days=float(runs.get("staging_retention_days", 7))),
        )
    _log_summary("Period planned", run, {**result.as_xcom(), "earlier_runs": settled.as_xcom()})
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


@task_body("extract_entries")
def extract_ppp(context: Mapping[str, Any]) -> dict[str, Any]:
    from ccms_attendance.pipeline.extract import extract_ppp as stage_ppp

    run = run_context(context)
    with warehouse() as conn:
        summary = stage_ppp(conn, run)
    _log_summary("Source extracted", run, summary.as_xcom())
    return summary.as_xcom()


@task_body("extract_batch")
def extract_ccms(context: Mapping[str, Any], source: str, batch_no: int, plan: Mapping[str, Any]) -> dict[str, Any]:
    """Extract one batch of one vendor's sites; skipped when ``plan`` (the plan task's result) gave
    that batch no site (fewer sites than batches, a vendor no site chose, a run limited to others)."""
    from airflow.sdk.exceptions import AirflowSkipException

    from ccms_attendance.hooks import CcmsExtractionError, hook_for_source
    from ccms_attendance.pipeline.extract import extract_ccms_batch

    run = run_context(context)
    vendor = Source(source)
    if batch_no not in plan.get(str(vendor), []):
        raise AirflowSkipException(f"{vendor} batch {batch_no}: the plan gave this batch no site")
    extraction = load_pipeline_config()["extraction"]
    sites_in_flight = int(extraction.get("sites_in_flight", {}).get(str(vendor), 1))
    # A hook (and its HTTP session) is not shared between threads: one per thread that fetches.
    per_thread = threading.local()

    def site_items(license_number: str):
        if not hasattr(per_thread, "hook"):
            per_thread.hook = hook_for_source(vendor)
        return per_thread.hook.iter_site_period(license_number, run.period)

    with warehouse() as conn:
        summary = extract_ccms_batch(
            conn,
            run,
            vendor,
            batch_no,
            site_items,
            (CcmsExtractionError,),
            sites_in_flight=sites_in_flight,
            progress_every=int(extraction.get("progress_every_sites", 0)),
        )
    _log_summary("Batch extracted", run, {**summary.as_xcom(), "failure_kinds": dict(summary.failure_kinds)})
    if summary.failures:
        # Everything retrieved is staged; failing now makes the outage visible.
        # Reconciliation still runs (trigger rule all_done) and marks these sites incomplete.
        message = (
            f"{vendor} batch {batch_no}, {run.describe()}: {summary.sites_failed} of {summary.sites} sites failed: "
            + " | ".join(summary.failures[:5])
        )
        advice = extract_advice(str(vendor), summary.failure_kinds)
        if not summary.retryable_failures:
            # Credentials, an unknown license, a refused request, unusable data: a retry would meet
            # the same answer. Fail without retrying, saying what has to change first.
            fail_now(message, advice)
        error = CcmsExtractionError(message, retryable=True)
        error.advice = advice  # type: ignore[attr-defined]
        raise error
    return summary.as_xcom()


@task_body("validate")
def validate(context: Mapping[str, Any]) -> dict[str, Any]:
    from ccms_attendance.pipeline.validate import validate_run

    run = run_context(context)
    with warehouse() as conn:
        summaries = validate_run(conn, run)
    failed = [summary for summary in summaries if not summary.success]
    if failed:
        # Retrying would judge the same rows the same way: fail now. Reconciliation still runs and
        # reports these sources' sites as incomplete; the other sources' verdicts are recorded.
        fail_now(
            f"{run.describe()}: " + " || ".join(f"{summary.source}: {summary.error}" for summary in failed),
            step_advice("validate"),
        )
    return {"sources": [summary.as_xcom() for summary in summaries]}


@task_body("reconcile")
def reconcile(context: Mapping[str, Any]) -> dict[str, Any]:
    from ccms_attendance.pipeline.reconcile import UnfinishedInputsError, check_and_stage, ensure_valid, reconcile_run
    from ccms_attendance.pipeline.validate import keep_for_data_docs

    run = run_context(context)
    started = time.monotonic()
    with warehouse() as conn:
        try:
            result = reconcile_run(conn, run)
        except UnfinishedInputsError as error:
            fail_now(str(error), step_advice("reconcile"))  # retrying reconcile cannot finish an upstream step
        outcomes = check_and_stage(conn, run, result)  # staged only if valid
        keep_for_data_docs(run, outcomes, "reconciled")  # rendered by the data_docs task
        ensure_valid(run, outcomes)
    counts = {
        "daily_rows": len(result.daily),
        "absences": int((result.daily["status"] == "absent").sum()),
        "summary_rows": len(result.summary),
        "incomplete_sites": int((~result.site_period["complete"].astype(bool)).sum()),
        "exceptions_by_kind": result.exceptions["kind"].value_counts().to_dict(),
        "seconds": round(time.monotonic() - started, 3),
    }
    _log_summary("Period reconciled", run, counts)
    return counts


@task_body("load")
def load(context: Mapping[str, Any]) -> dict[str, Any]:
    from ccms_attendance.pipeline.load import load_period

    run = run_context(context)
    with warehouse() as conn:
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


@task_body("data_docs")
def data_docs(context: Mapping[str, Any]) -> dict[str, Any]:
    from ccms_attendance.pipeline.validate import publish_kept_data_docs

    run = run_context(context)
    published = publish_kept_data_docs(run)
    for name, index in published.items():
        log.info("GX data docs for %s: %s", name, index)
    return {"sites": sorted(published)}


@task_body("report")
def report(context: Mapping[str, Any]) -> dict[str, Any]:
    from ccms_attendance.reporting import build_period_report
    from ccms_attendance.ui.links import report_url

    run = run_context(context)
    from ccms_attendance.validation.retention import prune_data_docs

    with warehouse() as conn:
        path = build_period_report(conn, run.period.start, run.run_id)
        pruned = prune_data_docs(conn)  # [data_docs] retention in pipeline.toml
    url = report_url(run.dag_id, run.run_id)
    summary = {"report_file": str(path), "report_url": url, "data_docs_runs_removed": len(pruned.removed)}
    _log_summary("Period report", run, summary)
    return summary


@task_body("check_period")
def check_period(context: Mapping[str, Any]) -> dict[str, Any]:
    """Fail the run when it needs attention (a failed task, no load, a site-period without usable data)."""
    from ccms_attendance.alerts.outcome import read_run_outcome

    run = run_context(context)
    failed = failed_tasks(context)
    with warehouse() as conn:
        outcome = read_run_outcome(conn, run, failed)
    log.info("Period check: %s", outcome.json_line())
    if outcome.needs_attention:
        lines = outcome.lines()
        for line in lines[:-1]:
            log.error("%s", line)
        fail_now("\n".join(lines[:-1]), outcome.advice())
    return {"needs_attention": False}


def failed_tasks(context: Mapping[str, Any]) -> list[str]:
    """This run's failed task instances (``task[map index]``), asked through the execution API."""
    ti, dag_run = context["ti"], context["dag_run"]
    states = ti.get_task_states(dag_id=context["dag"].dag_id, run_ids=[dag_run.run_id]).get(dag_run.run_id, {})
    return sorted(_task_label(key) for key, state in states.items() if getattr(state, "value", state) == "failed")


def _task_label(key: str) -> str:
    """``brightwheel.extract_batch_0`` (the API's key of a mapped instance) as ``brightwheel.extract_batch[0]``."""
    name, _, index = key.rpartition("_")
    return f"{name}[{index}]" if name and index.isdigit() else key


def _log_summary(title: str, run: Any, fields: Mapping[str, Any]) -> None:
    """One structured line: ``<title>: {json}``, with the period and run named."""
    line = {"period": str(run.period), "run_id": run.run_id, **fields}
    log.info("%s: %s", title, json.dumps(line, sort_keys=True, default=str))


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
        getattr(context.get("exception"), "advice", None) or step_advice(step),
    )
    if step in _STEPS_THAT_STOP_THE_LOAD:
        _record_run_failed(context["dag_run"].run_id, f"{where} failed: {context.get('exception')}")


#: A final failure of these steps means the run will not load (until its tasks are cleared).
_STEPS_THAT_STOP_THE_LOAD = frozenset({"plan_period", "reconcile", "load"})


def _record_run_failed(run_id: str, reason: str) -> None:
    """Mark the run ``failed`` in ``reconciled.run_audit`` (best effort: the warehouse may be the cause)."""
    from ccms_attendance.pipeline.abandoned_runs import mark_run_failed

    try:
        with warehouse() as conn:
            mark_run_failed(conn, run_id, reason)
    except Exception as error:  # the callback must never fail; the next plan settles the run
        log.warning("Could not mark run %s failed in the warehouse: %s", run_id, error)
