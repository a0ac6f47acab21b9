"""A run's outcome as the warehouse records it, and whether it needs someone's attention.

A run needs attention when a task of it failed, when it did not load, or when a site-period it
planned has no usable data (``incomplete_kind = 'data_unavailable'``: an unlinked license, a vendor
that failed or sent nothing, records that failed validation). Pending days of a site that has not
submitted yet are the normal state of a provisional period and never make a run fail.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg

from ccms_attendance.alerts.advice import cause_advice, step_advice
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.warehouse.bulk import read_frame
from ccms_attendance.warehouse.sql_files import query

#: At most this many sites are named in a summary (the rest are counted); reasons are cut to this length.
MAX_SITES_LISTED = 10
MAX_REASON_CHARS = 200


@dataclass(frozen=True)
class SiteProblem:
    site_id: str
    license_number: str
    source: str
    cause: str
    reason: str
    kept: bool  # the load kept an earlier version of this site instead

    def line(self) -> str:
        kept = " (its earlier version is kept)" if self.kept else ""
        reason = self.reason if len(self.reason) <= MAX_REASON_CHARS else self.reason[: MAX_REASON_CHARS - 3] + "..."
        return (
            f"site {self.site_id} (license {self.license_number}, {self.source}){kept}: {reason} "
            f"-- what to do: {cause_advice(self.cause)}"
        )


@dataclass(frozen=True)
class RunOutcome:
    run: RunContext
    audit_status: str | None  # reconciled.run_audit.status; None: the run never planned
    status_reason: str | None
    sites: tuple[SiteProblem, ...] = ()
    failed_tasks: tuple[str, ...] = field(default=())

    @property
    def loaded(self) -> bool:
        return self.audit_status == "loaded"

    @property
    def needs_attention(self) -> bool:
        return bool(not self.loaded or self.sites or self.failed_tasks)

    def headline(self) -> str:
        if self.audit_status is None:
            state = "NOT loaded (the run never planned)"
        elif not self.loaded:
            state = f"NOT loaded (run {self.audit_status}: {self.status_reason or 'no reason recorded'})"
        else:
            state = "loaded"
        problems = []
        if self.failed_tasks:
            problems.append(f"{len(self.failed_tasks)} failed task(s)")
        if self.sites:
            sources = sorted({site.source for site in self.sites})
            problems.append(f"{len(self.sites)} site(s) without usable data ({', '.join(sources)})")
        return f"Service period {self.run.period} (run {self.run.run_id}): {state}; " + (
            "; ".join(problems) or "no problem found"
        )

    def lines(self) -> list[str]:
        """The headline, then one line per failed task and per site (capped), then what to do."""
        lines = [self.headline()]
        if self.failed_tasks:
            lines.append("Failed tasks: " + ", ".join(self.failed_tasks))
        lines += [f"- {site.line()}" for site in self.sites[:MAX_SITES_LISTED]]
        if len(self.sites) > MAX_SITES_LISTED:
            lines.append(f"- and {len(self.sites) - MAX_SITES_LISTED} more sites (reconciled.site_period)")
        lines.append(f"What to do: {self.advice()}")
        return lines

    def advice(self) -> str:
        if not self.loaded:
            return (
                "the period was not loaded and its previous version stays current: open the failed task "
                "(its log's last line says what to do), fix the cause, clear it with its downstream tasks."
            )
        return step_advice("check_period")

    def as_json(self) -> dict[str, object]:
        return {
            "period": str(self.run.period),
            "run_id": self.run.run_id,
            "run_status": self.audit_status,
            "needs_attention": self.needs_attention,
            "failed_tasks": list(self.failed_tasks),
            "sites_without_usable_data": [
                {"site_id": s.site_id, "source": s.source, "cause": s.cause, "kept": s.kept} for s in self.sites
            ],
        }

    def json_line(self) -> str:
        return json.dumps(self.as_json(), sort_keys=True)


def read_run_outcome(conn: psycopg.Connection, run: RunContext, failed_tasks: Iterable[str] = ()) -> RunOutcome:
    """The run's outcome from ``reconciled.run_audit`` and its staged site-periods."""
    row = conn.execute(query("run_outcome_audit"), {"run_id": run.run_id}).fetchone()
    status, reason = (row[0], row[1]) if row else (None, None)
    frame = read_frame(conn, query("run_outcome_sites"), {"run_id": run.run_id})
    sites = tuple(
        SiteProblem(
            site_id=r.site_id,
            license_number=r.license_number,
            source=r.governing_source,
            cause=r.unavailable_cause or "unknown",
            reason=r.incomplete_reason or "",
            kept=bool(r.kept),
        )
        for r in frame.itertuples(index=False)
    )
    return RunOutcome(run, status, reason, sites, tuple(sorted(failed_tasks)))
