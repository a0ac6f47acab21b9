"""Runs that stopped without loading: made visible, and their staging rows pruned.

A run's ``reconciled.run_audit`` row says ``running`` from its plan until its load says ``loaded``.
A run can stop in between:

* a step that stops the load (plan, reconcile, load) fails for good: its failure callback marks the
  run ``failed`` with the error (:func:`mark_run_failed`);
* its task process is killed, or Airflow stops it, and no callback runs: every plan of any run
  settles the other runs still ``running`` (:func:`settle_runs`). A run whose DAG run Airflow
  reports finished (``success`` or ``failed``) has no task left that could write: it is
  ``abandoned``. A run Airflow does not know (another deployment, its metadata cleaned, another
  ``airflow dags test`` home) is ``abandoned`` once it started more than ``abandon_unknown_after``
  ago. A run Airflow reports queued or running is left alone: Airflow fails a task whose process
  died (heartbeat timeout) and the run with it, and the next plan then settles it.

Staging rows serve only their run's tasks and retries: those of runs loaded, failed or abandoned
more than ``staging_retention`` ago are deleted, and the run is marked pruned, so that a task of it
cleared later refuses to go on (``run_context.run_clock``) instead of loading nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.warehouse.sql_files import query, run_file

log = logging.getLogger(__name__)

#: Airflow's state of a DAG run (``queued``, ``running``, ``success``, ``failed``), None if unknown.
DagRunState = Callable[[str, str], str | None]

FINISHED_STATES = frozenset({"success", "failed"})


def unknown_to_airflow(dag_id: str, run_id: str) -> str | None:
    """A :data:`DagRunState` for callers without Airflow (tests, tools): no run is known."""
    return None


@dataclass(frozen=True)
class Settlement:
    """What a plan found: runs it marked abandoned (run id -> why) and how many runs it pruned."""

    abandoned: dict[str, str] = field(default_factory=dict)
    pruned_runs: int = 0

    def as_xcom(self) -> dict[str, object]:
        return {"abandoned_runs": sorted(self.abandoned), "pruned_runs": self.pruned_runs}


def settle_runs(
    conn: psycopg.Connection,
    run: RunContext,
    dag_run_state: DagRunState,
    *,
    abandon_unknown_after: dt.timedelta,
    staging_retention: dt.timedelta,
) -> Settlement:
    """Mark the other runs that stopped without a word ``abandoned``; prune old runs' staging rows."""
    running = conn.execute(
        query("running_runs"), {"run_id": run.run_id, "unknown_after": abandon_unknown_after}
    ).fetchall()
    abandoned = {}
    for run_id, dag_id, started_at, overdue in running:
        reason = _abandoned_because(dag_run_state, dag_id, run_id, started_at, overdue)
        if reason is not None:
            abandoned[run_id] = reason
    with conn.transaction():
        for run_id, reason in abandoned.items():
            run_file(conn, "end_run_audit", {"ended_run_id": run_id, "status": "abandoned", "reason": reason})
        conn.execute("DROP TABLE IF EXISTS pg_temp.pruned_run")
        run_file(conn, "prune_old_staging", {"retention": staging_retention})
        (pruned,) = conn.execute("SELECT count(*) FROM pruned_run").fetchone() or (0,)
    for run_id, reason in abandoned.items():
        log.warning("Run %s marked abandoned (found by %s): %s", run_id, run.describe(), reason)
    if pruned:
        log.info("Pruned the staging rows of %d finished or abandoned run(s)", pruned)
    return Settlement(abandoned, int(pruned))


def _abandoned_because(
    dag_run_state: DagRunState, dag_id: str, run_id: str, started_at: dt.datetime, overdue: bool
) -> str | None:
    try:
        state = dag_run_state(dag_id, run_id)
    except Exception as error:  # Airflow could not say: as if it did not know the run
        log.warning("Could not ask Airflow for the state of %s %s: %s", dag_id, run_id, error)
        state = None
    if state in FINISHED_STATES:
        return (
            f"stopped without finishing: Airflow reports DAG run {dag_id} {run_id} {state}, but the run never "
            "loaded nor reported a failure (a task process killed?)"
        )
    if state is None and overdue:
        return (
            f"stopped without finishing: still running in the warehouse since {started_at:%Y-%m-%d %H:%M} UTC "
            f"and Airflow does not know DAG run {dag_id} {run_id}"
        )
    return None


def mark_run_failed(conn: psycopg.Connection, run_id: str, reason: str) -> None:
    """A step that stops the load failed for good: the run will not load (unless cleared and rerun)."""
    run_file(conn, "end_run_audit", {"ended_run_id": run_id, "status": "failed", "reason": reason[:2000]})
