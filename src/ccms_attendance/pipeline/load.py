"""Step 4: make a run's reconciled rows the period's current version, all at once.

Everything happens in one transaction that holds the period's advisory lock: readers see either the
previous version or the new one, never a mix; a failed or killed load leaves the previous version
untouched; two runs of one period never interleave. The replaced rows move to ``history.*`` and
``history.period_version`` records who loaded each version, whether it was provisional or final,
and which run superseded it. The absence limits of the children the load changed are recounted in
the same transaction (from final, complete child-periods only).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ccms_attendance.pipeline.absence_limits import children_changed_by_load, refresh_absence_limits
from ccms_attendance.pipeline.run_context import RunContext, run_clock
from ccms_attendance.rules.lifecycle import period_lifecycle
from ccms_attendance.warehouse.bulk import read_frame
from ccms_attendance.warehouse.sql_files import fetch_one, query, run_file

_PERIOD_LOCK_NAMESPACE = 0x4C4F4144  # "LOAD"


class NothingToLoadError(RuntimeError):
    """The run has no reconciled rows staged (its reconcile step did not complete)."""


def period_lock_key(period_start: dt.date) -> int:
    return period_start.toordinal()


def load_period(conn: psycopg.Connection, run: RunContext) -> dict[str, Any]:
    """Swap the run's staged rows in for its period and record the audit; return the checksums.

    How long each step took is recorded in the audit (``reconciled.run_audit.timings``) and
    returned under ``timings``: a slow load says where its time went.
    """
    params = {**run.period_params, "full_period": run.scope.is_full_period}
    as_of, deadline = run_clock(conn, run)
    timings: dict[str, float] = {}
    step = _Stopwatch(timings)
    with conn.transaction():
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        # A statewide period's sorts and hashes (changed children, the recount) fit in memory
        # instead of spilling to disk at the default 4MB; only for this transaction.
        conn.execute("SET LOCAL work_mem = '256MB'")
        with step("lock"):
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", (_PERIOD_LOCK_NAMESPACE, period_lock_key(run.period.start))
            )
        staged = fetch_one(conn, "run_staging_counts", params)
        if staged["reconciled_sites"] != staged["planned_sites"]:
            raise NothingToLoadError(
                f"{run.describe()}: {staged['planned_sites']} sites planned but {staged['reconciled_sites']} "
                "reconciled; rerun the reconcile task before loading"
            )
        with step("swap_rows"):
            run_file(conn, "load_period", params)
        with step("changed_children"):
            changed = children_changed_by_load(conn, run.run_id, run.period.start)
        with step("absence_limits"):
            limits = refresh_absence_limits(conn, run.run_id, run.period.start, changed)
        with step("checksums"):
            checksums = fetch_one(conn, "period_checksums", params)
        with step("audit"):
            sites = [lifecycle for (lifecycle,) in conn.execute(query("period_site_lifecycles"), params).fetchall()]
            lifecycle = period_lifecycle(deadline_passed=deadline.passed, site_lifecycles=sites)
            summary = {
                "lifecycle": str(lifecycle),
                "submission_deadline": deadline.day.isoformat(),
                "as_of": as_of.isoformat(),
                **run_summary(conn, run, quarantined=staged["quarantined"]),
                "absence_limits": limits,
            }
            params["lifecycle"] = str(lifecycle)
            run_file(conn, "record_period_load", {**params, "checksum": checksums["daily_attendance"]})
            run_file(
                conn,
                "record_period_version",
                {
                    **params,
                    "dag_id": run.dag_id,
                    "loaded_by": run.triggered_by,
                    "scope": Jsonb(run.scope.as_json()),
                    "checksum": checksums["daily_attendance"],
                },
            )
        run_file(
            conn,
            "finish_run_audit",
            {
                **params,
                "status": "loaded",
                "counts": Jsonb({**{k: v for k, v in checksums.items() if isinstance(v, int)}, **summary}),
                "checksums": Jsonb({k: v for k, v in checksums.items() if isinstance(v, str)}),
                "timings": Jsonb(timings),
            },
        )
    return {**checksums, "summary": summary, "timings": timings}


class _Stopwatch:
    """``with step("name"):`` adds the block's seconds to ``timings["name"]``."""

    def __init__(self, timings: dict[str, float]) -> None:
        self._timings = timings

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self._timings[name] = round(self._timings.get(name, 0.0) + time.perf_counter() - started, 3)


def run_summary(conn: psycopg.Connection, run: RunContext, quarantined: int) -> dict[str, Any]:
    """What the run extracted per source and what the period now holds, for logs and the audit."""
    extracts = read_frame(conn, query("run_extract_counts"), run.period_params)
    kinds = read_frame(conn, query("period_exception_kinds"), run.period_params)
    return {
        "extracted": {
            row.source: {k: int(v) for k, v in row._asdict().items() if k != "source"}
            for row in extracts.itertuples(index=False)
        },
        "quarantined": quarantined,
        "exceptions_by_kind": dict(zip(kinds["kind"], kinds["exceptions"].astype(int), strict=True))
        if not kinds.empty
        else {},
    }
