"""Step 3: apply the reconciliation rules to the staged records and stage the result."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import psycopg

from ccms_attendance.pipeline.run_context import RunContext, run_as_known_at, run_clock
from ccms_attendance.pipeline.validate import SUITE_BY_SOURCE
from ccms_attendance.rules.daily_attendance import (
    DAILY_COLUMNS,
    STAGED_SITE_PERIOD_COLUMNS,
    SUMMARY_COLUMNS,
    ReconciledPeriod,
    reconcile,
)
from ccms_attendance.rules.rule_exceptions import EXCEPTION_COLUMNS
from ccms_attendance.warehouse.bulk import copy_frame, read_frame
from ccms_attendance.warehouse.bulk_read import read_bulk_frame
from ccms_attendance.warehouse.sql_files import query, run_file
from ccms_attendance.warehouse.statistics import analyze_staging

log = logging.getLogger(__name__)


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column])
    return frame


def read_inputs(conn: psycopg.Connection, run: RunContext) -> dict[str, pd.DataFrame]:
    """The staged records and the reference data valid on the period's days, as known at the run's
    as_known_at (docs/history.md)."""
    params = {**run.period_params, "as_known_at": run_as_known_at(conn, run)}
    plan = read_frame(conn, query("reconcile_inputs_plan"), params)
    # read_frame keeps a query's columns even when it returns no rows, so empty inputs need no care.
    frames = {
        "plan": plan,
        "sites": read_frame(conn, query("reconcile_inputs_sites"), params),
        "closures": _dates(read_frame(conn, query("reconcile_inputs_closures"), params), "closure_date"),
        "vouchers": _dates(
            read_frame(conn, query("reconcile_inputs_vouchers"), params), "authorized_start", "authorized_end"
        ),
        "records": _dates(read_bulk_frame(conn, query("reconcile_inputs_records"), params), "attendance_date"),
        "extracts": _dates(read_frame(conn, query("reconcile_inputs_extracts"), params), "data_through"),
        "quarantined": _dates(read_frame(conn, query("reconcile_inputs_quarantine"), params), "attendance_date"),
    }
    return frames


class UnfinishedInputsError(RuntimeError):
    """An extract or validate step of the run did not complete: no verdict on the data, nothing loads."""


def require_finished_inputs(conn: psycopg.Connection, run: RunContext) -> None:
    """Refuse to reconcile a run whose records were not all extracted and validated.

    A step that did not complete (the warehouse unreachable, a session killed, GX unable to evaluate
    a suite, a bug) says nothing about the data. Reconciling anyway would turn its sites
    incomplete and replace the period's current version with a less complete one, so the run fails
    here, before anything is staged, and the period keeps its current version. Only a data verdict
    (a critical expectation failed: the validate task recorded it) or a vendor that could
    not be read makes sites incomplete.
    """
    params = {**run.period_params, "sources": [str(s) for s in SUITE_BY_SOURCE]}
    unvalidated = read_frame(conn, query("unvalidated_sources"), params)["source"].tolist()
    unextracted = read_frame(conn, query("unextracted_sites"), params)
    problems = []
    if len(unextracted):
        per_source = unextracted.groupby("source")["site_id"].agg(list)
        problems += [
            f"{source}: no extraction result for {len(sites)} site(s) ({', '.join(sites[:10])}"
            + (", ..." if len(sites) > 10 else "")
            + ")"
            for source, sites in per_source.items()
        ]
    problems += [
        f"{source}: records were never validated (the validate task did not complete since they were staged)"
        for source in unvalidated
    ]
    if problems:
        raise UnfinishedInputsError(
            f"{run.describe()}: not reconciled, nothing will load, the period keeps its current version. "
            "A step did not complete (an infrastructure failure, not a verdict on the data): "
            + "; ".join(problems)
            + ". Clear the failed extract/validate tasks (with their downstream tasks) once the cause is fixed."
        )


class ReconciledValidationError(RuntimeError):
    """The reconciled output broke a critical expectation: nothing is staged, nothing will load."""


OUTPUT_SUITES = {"daily": "reconciled_daily_attendance", "summary": "reconciled_absence_summary"}


def reconcile_run(conn: psycopg.Connection, run: RunContext) -> ReconciledPeriod:
    """Reconcile what the run staged; :class:`RunNotPlannedError` when its plan never completed,
    :class:`UnfinishedInputsError` when an extract or validate step did not complete."""
    _, deadline = run_clock(conn, run)
    # The extract tasks (in parallel) and the validate task wrote these; none of them analyzes them.
    analyze_staging(conn, ["site_extract", "quarantine"], f"{run.describe()}: extracted")
    require_finished_inputs(conn, run)
    return reconcile(run.period, deadline=deadline, **read_inputs(conn, run))


def check_reconciled(run: RunContext, result: ReconciledPeriod) -> list:
    """The output's outcomes against its GX suites. No connection: :func:`check_and_stage` runs it in
    a thread of its own (with its own GX context) while the output is being staged."""
    from ccms_attendance.validation import validate_frame

    frames = {"daily": result.daily, "summary": result.summary}
    values = {"period_start": run.period.start, "period_end": run.period.end}
    return [validate_frame(OUTPUT_SUITES[name], frames[name], context_values=values) for name in frames]


def persist_outcomes(conn: psycopg.Connection, run: RunContext, outcomes: list) -> None:
    from ccms_attendance.validation import persist_outcome

    with conn.transaction():
        for outcome in outcomes:
            persist_outcome(conn, run_id=run.run_id, period_start=run.period.start, outcome=outcome)


def check_and_stage(conn: psycopg.Connection, run: RunContext, result: ReconciledPeriod) -> list:
    """Check the output with its GX suites while staging it; return the outcomes (persisted).

    The check (pandas and GX, in a thread) and the staging COPY (the server parses and stores the
    rows) overlap instead of taking turns: 1.6-1.8 s less on the statewide period
    (docs/performance.md). The staged rows are committed only if no critical expectation failed;
    otherwise they are rolled back and :func:`ensure_valid` raises, as when the check came first.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="check-reconciled") as pool:
        checking = pool.submit(check_reconciled, run, result)
        with conn.transaction():
            stage_reconciled(conn, run, result)
            outcomes = checking.result()  # an error of the check rolls the staging back
            if failed_outcomes(outcomes):
                raise psycopg.Rollback()  # a bug in the rules: none of this output stays staged
    persist_outcomes(conn, run, outcomes)
    return outcomes


def failed_outcomes(outcomes: list) -> list:
    """The outcomes that stop the run: a critical expectation failed, or a row would be quarantined
    (reconciled rows never are: a bad row here is a bug in the rules)."""
    return [o for o in outcomes if not o.success or len(o.quarantine)]


def ensure_valid(run: RunContext, outcomes: list) -> None:
    """Raise on any critical failure of the reconciled output (:func:`failed_outcomes`): the run
    stops before the load and the period keeps its previous version."""
    failed = failed_outcomes(outcomes)
    if failed:
        raise ReconciledValidationError(
            f"{run.describe()}: reconciled output failed validation; nothing was loaded.\n"
            + "\n".join(o.error_message() for o in failed)
        )


def stage_reconciled(conn: psycopg.Connection, run: RunContext, result: ReconciledPeriod) -> None:
    """Replace the run's staged output with ``result`` (unchecked: the task runs :func:`check_and_stage`)."""
    constants = {"run_id": run.run_id, "period_start": run.period.start}
    with conn.transaction():
        run_file(conn, "clear_run_reconciled_staging", run.period_params)
        copy_frame(conn, "staging.daily_attendance", result.daily, DAILY_COLUMNS, constants)
        copy_frame(conn, "staging.absence_summary", result.summary, SUMMARY_COLUMNS, constants)
        copy_frame(conn, "staging.site_period", result.site_period, STAGED_SITE_PERIOD_COLUMNS, constants)
        copy_frame(conn, "staging.exception", result.exceptions, EXCEPTION_COLUMNS, {**constants, "stage": "reconcile"})
