"""The period report's data: a loaded period's figures read from ``reconciled.*``.

SQL in ``src/ccms_attendance/sql/queries/report_*.sql``; rendering is in :mod:`.render`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import psycopg

from ccms_attendance.warehouse.bulk import read_frame
from ccms_attendance.warehouse.sql_files import fetch_one, query


class PeriodNotLoadedError(LookupError):
    """The period is unknown to the warehouse (no ``ref.service_period`` row)."""


def period_key(period_start: dt.date | str) -> dt.date:
    return period_start if isinstance(period_start, dt.date) else dt.date.fromisoformat(str(period_start))


@dataclass
class SiteLine:
    site_id: str
    site_name: str
    governing_source: str
    lifecycle: str
    complete: bool
    incomplete_reason: str | None
    pending_days: int
    children: int
    enrolled_days: int
    absent_days: int
    daily_rows: int

    @property
    def absence_rate(self) -> float | None:
        return self.absent_days / self.enrolled_days if self.enrolled_days else None

    @property
    def completeness(self) -> float | None:
        """Child-days with a status over enrolled child-days (an incomplete site infers nothing)."""
        return min(self.daily_rows / self.enrolled_days, 1.0) if self.enrolled_days else None


@dataclass
class PeriodFigures:
    period_start: dt.date
    period_end: dt.date
    submission_deadline: dt.date
    run_id: str
    loaded_run_id: str | None
    loaded_at: dt.datetime | None
    lifecycle: str | None  # of the loaded version: provisional or final
    daily_rows: int
    absences: int
    pending_days: int
    children: int
    sites: int
    incomplete_sites: int
    exceptions: int
    quarantined: int
    site_lines: list[SiteLine] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    exception_kinds: list[dict[str, Any]] = field(default_factory=list)
    audit: dict[str, Any] | None = None

    @property
    def exceptions_by_kind(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for row in self.exception_kinds:
            totals[row["kind"]] = totals.get(row["kind"], 0) + int(row["exceptions"])
        return totals

    @property
    def extracted(self) -> dict[str, dict[str, int]]:
        counts = (self.audit or {}).get("counts") or {}
        return {str(k): dict(v) for k, v in sorted((counts.get("extracted") or {}).items())}


def read_period(conn: psycopg.Connection, period_start: dt.date | str, run_id: str | None = None) -> PeriodFigures:
    """The loaded period's figures; ``run_id`` (default: the run that loaded it) names the audit to show."""
    start = period_key(period_start)
    params = {"period_start": start}
    head = fetch_one(conn, "report_period", params)
    if head.get("period_start") is None:
        raise PeriodNotLoadedError(f"no service period starting {start.isoformat()} in the warehouse")
    run = run_id or head["loaded_run_id"]
    audit = fetch_one(conn, "report_run_audit", {"run_id": run}) if run else {}
    sites = read_frame(conn, query("report_sites"), params)
    sources = read_frame(conn, query("report_sources"), params)
    kinds = read_frame(conn, query("report_exceptions"), params)
    return PeriodFigures(
        period_start=head["period_start"],
        period_end=head["period_end"],
        submission_deadline=head["submission_deadline"],
        run_id=run or "",
        loaded_run_id=head["loaded_run_id"],
        loaded_at=head["loaded_at"],
        lifecycle=head["lifecycle"],
        daily_rows=head["daily_rows"],
        absences=head["absences"],
        pending_days=head["pending_days"],
        children=head["children"],
        sites=head["sites"],
        incomplete_sites=head["incomplete_sites"],
        exceptions=head["exceptions"],
        quarantined=head["quarantined"],
        site_lines=[SiteLine(**row) for row in sites.to_dict("records")],
        sources=sources.to_dict("records"),
        exception_kinds=kinds.to_dict("records"),
        audit=audit if audit.get("run_id") else None,
    )
