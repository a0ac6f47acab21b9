"""Step 4: make a run's reconciled rows the period's current version, all at once.

Everything happens in one transaction that holds the period's advisory lock: readers see either the
previous version or the new one, never a mix; a failed or killed load leaves the previous version
untouched; two runs of one period never interleave. The replaced rows move to ``history.*`` and
``history.period_version`` records who loaded each version, whether it was provisional or final,
and which run superseded it. The absence limits of the children the load changed are recounted in
the same transaction (from final, complete child-periods only).

**Kept versions.** A load never turns a site-period whose current version holds usable data
(complete, or pending only by the lifecycle) into one whose data is unavailable unless that is a
data verdict (``rules.lifecycle.UnavailableCause``): when this run could not read the site's vendor
(an outage, a 4xx) or the vendor sent nothing, the site's current rows stay current, untouched
(not moved to history, not recounted), and the load records why: a ``site_period_kept`` exception
per site, ``kept_sites`` in its ``history.period_version`` row, ``kept_previous_version`` in the
run summary and a warning in the log.

**Partitions and statistics** (migration V016, docs/operations.md). ``history.*``'s big tables hold
one partition per period: the load adds the period's partitions if missing, in a short transaction
before its own (attaching one locks the parent SHARE UPDATE EXCLUSIVE, which should not last the
whole load). After its transaction commits it ANALYZEs the reconciled tables it swapped rows in and
the period's history partitions, so the next period's plans see their rows; that is best effort (the
period is loaded either way) and timed as ``analyze``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ccms_attendance.pipeline.absence_limits import children_changed_by_load, refresh_absence_limits
from ccms_attendance.pipeline.run_context import RunContext, run_as_known_at, run_clock
from ccms_attendance.rules.lifecycle import PendingBasis, UnavailableCause, period_lifecycle
from ccms_attendance.warehouse.bulk import read_frame
from ccms_attendance.warehouse.sql_files import fetch_one, query, run_file
from ccms_attendance.warehouse.statistics import LOCK_TIMEOUT, refresh_statistics

log = logging.getLogger(__name__)

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
    with step("partitions"), conn.transaction():
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        run_file(conn, "add_history_partitions", params)
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
            kept = kept_site_periods(conn, run)
            params["kept_sites"] = list(kept)
            run_file(conn, "load_period", params)
            if kept:
                run_file(conn, "record_kept_sites", {**params, "kept_details": list(kept.values())})
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
                "as_known_at": run_as_known_at(conn, run).isoformat(),
                **run_summary(conn, run, quarantined=staged["quarantined"]),
                "absence_limits": limits,
                "kept_previous_version": kept,
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
                    "kept_sites_json": Jsonb([{"site_id": site, "reason": detail} for site, detail in kept.items()]),
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
        # This transaction's row counts reach pg_stat_user_tables as it commits, not a second later
        # after ANALYZE has set them (they would be counted twice, dead rows too).
        conn.execute("SELECT pg_stat_force_next_flush()")
    analyze_after_load(conn, run, step)
    return {**checksums, "summary": summary, "timings": timings}


def analyze_after_load(conn: psycopg.Connection, run: RunContext, step: _Stopwatch) -> None:
    """ANALYZE what the committed load swapped; record its seconds in the run's audit timings.

    Best effort (:func:`~ccms_attendance.warehouse.statistics.refresh_statistics`): the period is
    loaded and its audit written, so a failure here is a warning, never a failed load.
    """
    with step("analyze"):
        refresh_statistics(conn, "analyze_after_load", run.period_params, f"{run.describe()}: loaded")
    try:
        run_file(conn, "record_load_timings", {"run_id": run.run_id, "timings": Jsonb(step.timings)})
    except psycopg.Error as error:
        log.warning("%s: loaded, but the ANALYZE timing was not recorded: %s", run.describe(), type(error).__name__)


#: Why a site's data may be unavailable without any verdict on it: a load keeps its usable version.
KEEPABLE_CAUSES = [str(c) for c in UnavailableCause if not c.is_data_verdict]
#: A current site-period pending only by the lifecycle (not submitted yet) holds usable data.
USABLE_PENDING_KINDS = [str(k) for k in PendingBasis if k.awaits_submission]


def kept_site_periods(conn: psycopg.Connection, run: RunContext) -> dict[str, str]:
    """The sites whose current version this load keeps, each with the line that says why.

    Called under the period's lock: the current version is the one the load would replace.
    """
    rows = conn.execute(
        query("kept_site_periods"),
        {"run_id": run.run_id, "keepable_causes": KEEPABLE_CAUSES, "usable_kinds": USABLE_PENDING_KINDS},
    ).fetchall()
    kept = {}
    for site_id, kept_run_id, complete, kind, lifecycle, reason in rows:
        state = "complete" if complete else f"pending ({kind})"
        kept[site_id] = (
            f"kept previous version: loaded by run {kept_run_id}, {state}, {lifecycle}; this run could not use "
            f"the site's data, which is no verdict on it: {reason}"
        )
        log.warning("%s, site %s: %s", run.describe(), site_id, kept[site_id])
    return kept


class _Stopwatch:
    """``with step("name"):`` adds the block's seconds to ``timings["name"]``."""

    def __init__(self, timings: dict[str, float]) -> None:
        self._timings = timings

    @property
    def timings(self) -> dict[str, float]:
        return self._timings

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
