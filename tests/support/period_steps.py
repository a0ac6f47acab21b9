"""A PPP-only period through the pipeline's steps in DAG order, without Airflow."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from ccms_attendance.canonical import Source
from ccms_attendance.periods import load_calendar
from ccms_attendance.pipeline.extract import extract_ppp
from ccms_attendance.pipeline.load import load_period
from ccms_attendance.pipeline.plan import plan_period
from ccms_attendance.pipeline.reconcile import check_and_stage, ensure_valid, reconcile_run
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.pipeline.validate import validate_source
from support.roles import acting_as

#: "Now" for the step tests: after every submission deadline of the 2026 periods they use, so their
#: results do not depend on the day the tests run (a run records its own as_of at plan).
AFTER_DEADLINES = dt.datetime(2027, 1, 15, 12, tzinfo=dt.UTC)


def run_ppp_period(
    conn: psycopg.Connection,
    run: RunContext,
    as_of: dt.datetime = AFTER_DEADLINES,
    as_known_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Plan, extract and validate the portal's entries, reconcile and load; return the load's result.

    The steps run with the loader's privileges, as the DAG's (a step needing more fails here).
    ``as_known_at``: read ref/portal as known then (default: as known when the plan runs)."""
    with acting_as(conn):
        plan_period(conn, run, load_calendar(), batch_count=1, as_of=as_of, as_known_at=as_known_at)
        extract_ppp(conn, run)
        assert validate_source(conn, run, Source.PPP).success
        result = reconcile_run(conn, run)
        ensure_valid(run, check_and_stage(conn, run, result))
        return load_period(conn, run)
