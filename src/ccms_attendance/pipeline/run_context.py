"""What every pipeline step needs to know about the DAG run it serves."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import psycopg

from ccms_attendance.canonical import Source
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.rules.lifecycle import Deadline
from ccms_attendance.warehouse.sql_files import query


@dataclass(frozen=True)
class RunScope:
    """Manual runs may be limited (Params); an empty scope means the whole period."""

    sites: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()

    @property
    def is_full_period(self) -> bool:
        return not self.sites and not self.sources

    def as_json(self) -> dict[str, Any]:
        return {"sites": list(self.sites), "sources": [str(s) for s in self.sources]}


@dataclass(frozen=True)
class RunContext:
    run_id: str
    dag_id: str
    period: ServicePeriod
    scope: RunScope = field(default_factory=RunScope)
    triggered_by: str = "unknown"  # who or what started the run (user name, or scheduler/backfill)

    @property
    def period_params(self) -> dict[str, Any]:
        """Query parameters naming the run and its period (every SQL file uses these names)."""
        return {
            "run_id": self.run_id,
            "period_start": self.period.start,
            "period_end": self.period.end,
            "period_start_instant": self.period.start_instant(),
            "period_end_instant": self.period.end_instant(),
        }

    def describe(self) -> str:
        return f"period {self.period} (run {self.run_id})"


class RunNotPlannedError(RuntimeError):
    """A step ran for a DAG run whose plan never completed: there is nothing of its own to work on."""


class RunStagingPrunedError(RunNotPlannedError):
    """A step ran for a DAG run whose staging rows were pruned (it had finished or was abandoned)."""


def run_clock(conn: psycopg.Connection, run: RunContext) -> tuple[dt.datetime, Deadline]:
    """The instant the run judges "now" by (taken once, at plan) and its period's deadline as of then."""
    row = conn.execute(query("run_clock"), {"run_id": run.run_id}).fetchone()
    if row is None or row[0] is None:
        raise RunNotPlannedError(
            f"no plan recorded for {run.describe()}: the plan_period task has not completed; clear and rerun it"
        )
    as_of, deadline_day, pruned_at, _ = row
    if pruned_at is not None:
        # Going on would reconcile or load nothing in place of the period (pipeline.abandoned_runs).
        raise RunStagingPrunedError(
            f"{run.describe()} finished or was abandoned and its staging rows were pruned at "
            f"{pruned_at:%Y-%m-%d %H:%M} UTC; no step of it can go on: clear the whole run (from plan_period) "
            "or trigger a new one"
        )
    return as_of, Deadline.as_of(deadline_day, as_of)


def run_as_known_at(conn: psycopg.Connection, run: RunContext) -> dt.datetime:
    """The instant the run reads reference and portal data as known at (docs/history.md)."""
    row = conn.execute(query("run_clock"), {"run_id": run.run_id}).fetchone()
    if row is None or row[3] is None:
        raise RunNotPlannedError(
            f"no plan recorded for {run.describe()}: the plan_period task has not completed; clear and rerun it"
        )
    return row[3]
