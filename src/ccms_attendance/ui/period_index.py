"""The ``/ccms/`` index: one row per service period this Airflow instance ran, not a list of folders.

The runs come from this instance's metadata database (the DAG runs of the project's DAGs, so runs
of other Airflow instances that share the warehouse or the ``build/`` folder never appear); the
period of a run is its data interval's start in the state's time zone. Per period the warehouse
gives the current version's lifecycle and counts; the run's own audit row gives its status.
Links go to the period's latest report, each run's report and data docs when they exist in the
reports and data docs roots (local folders or a bucket, :mod:`ccms_attendance.artifact_store`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import psycopg
from psycopg.rows import dict_row

from ccms_attendance.artifact_store import as_store_path
from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.paths import run_folder
from ccms_attendance.warehouse.sql_files import query

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

#: The project's DAGs whose runs the index lists.
DAG_IDS = ("ccms_attendance_period", "ccms_attendance_period_final")
REPORT_FILE = "report.html"
LATEST_FILE = "latest.html"


@dataclass(frozen=True)
class AirflowRun:
    """A DAG run as this Airflow instance's metadata knows it."""

    dag_id: str
    run_id: str
    state: str
    run_type: str
    data_interval_start: dt.datetime
    run_after: dt.datetime | None = None

    @property
    def period_start(self) -> dt.date:
        return self.data_interval_start.astimezone(STATE_TIMEZONE).date()


@dataclass
class RunLine:
    run: AirflowRun
    audit_status: str | None  # the warehouse's run_audit.status, None if the run never planned
    audit_reason: str | None
    report_href: str | None
    docs_href: str | None


@dataclass
class PeriodLine:
    period_start: dt.date
    period_end: dt.date | None
    lifecycle: str | None  # provisional | final | None (never loaded)
    loaded_run_id: str | None
    sites_complete: int
    sites_incomplete: int
    absences: int
    pending_days: int
    latest_report_href: str | None
    runs: list[RunLine] = field(default_factory=list)

    @property
    def latest_run(self) -> RunLine | None:
        return self.runs[0] if self.runs else None


def airflow_runs(dag_ids: Sequence[str] = DAG_IDS) -> list[AirflowRun]:
    """This instance's runs of ``dag_ids`` from its metadata database (the API server's own session)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    columns = (
        DagRun.dag_id,
        DagRun.run_id,
        DagRun.state,
        DagRun.run_type,
        DagRun.data_interval_start,
        DagRun.run_after,
    )
    with create_session() as session:
        rows = session.execute(select(*columns).where(DagRun.dag_id.in_(list(dag_ids)))).all()
    return [
        AirflowRun(r.dag_id, r.run_id, str(r.state), str(r.run_type), r.data_interval_start, r.run_after)
        for r in rows
        if r.data_interval_start is not None
    ]


def period_lines(
    conn: psycopg.Connection,
    runs: Iterable[AirflowRun],
    reports: ObjectStoragePath | Path | str,
    data_docs: ObjectStoragePath | Path | str,
) -> list[PeriodLine]:
    """The index's rows, newest period first; within a period its runs newest first."""
    reports, data_docs = as_store_path(reports), as_store_path(data_docs)
    runs = list(runs)
    if not runs:
        return []
    periods = sorted({r.period_start for r in runs})
    facts = {row["period_start"]: row for row in _records(conn, "ui_periods", {"periods": periods})}
    audits = {row["run_id"]: row for row in _records(conn, "ui_runs", {"run_ids": [r.run_id for r in runs]})}
    lines = []
    for start in sorted(periods, reverse=True):
        row = facts.get(start, {})
        key = start.isoformat()
        mine = sorted((r for r in runs if r.period_start == start), key=_newest_first)
        lines.append(
            PeriodLine(
                period_start=start,
                period_end=row.get("period_end"),
                lifecycle=row.get("lifecycle"),
                loaded_run_id=row.get("loaded_run_id"),
                sites_complete=int(row.get("sites_complete") or 0),
                sites_incomplete=int(row.get("sites_incomplete") or 0),
                absences=int(row.get("absences") or 0),
                pending_days=int(row.get("pending_days") or 0),
                latest_report_href=_href(reports, f"{key}/{LATEST_FILE}", "reports"),
                runs=[
                    RunLine(
                        run=r,
                        audit_status=(audits.get(r.run_id) or {}).get("status"),
                        audit_reason=(audits.get(r.run_id) or {}).get("status_reason"),
                        report_href=_href(reports, f"{key}/{run_folder(r.run_id)}/{REPORT_FILE}", "reports"),
                        docs_href=_href(data_docs, f"{key}/{run_folder(r.run_id)}/", "data_docs"),
                    )
                    for r in mine
                ],
            )
        )
    return lines


def _records(conn: psycopg.Connection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(query(name), params).fetchall()


def _newest_first(run: AirflowRun) -> tuple:
    moment = run.run_after or run.data_interval_start
    return (-moment.timestamp(), run.run_id)


def _href(root: ObjectStoragePath, relative: str, route: str) -> str | None:
    """``<route>/<relative>`` (quoted) when that file or folder exists under ``root``; else None."""
    return f"{route}/{quote(relative)}" if (root / relative).exists() else None


# --------------------------------------------------------------------------------------------------
# HTML (no script; every value escaped)

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f3f3f3} td.n{text-align:right;font-variant-numeric:tabular-nums}
.state-success,.final{color:#070;font-weight:bold} .state-failed,.warn{color:#a00;font-weight:bold}
.state-running,.state-queued,.provisional{color:#b60;font-weight:bold} .muted{color:#666}
details{margin:.2rem 0} summary{cursor:pointer}
"""


def _link(href: str | None, text: str) -> str:
    return f"<a href='{escape(href)}'>{escape(text)}</a>" if href else f"<span class='muted'>no {escape(text)}</span>"


def _run_cell(line: RunLine) -> str:
    run = line.run
    audit = f" / warehouse: {escape(line.audit_status)}" if line.audit_status else " / not planned"
    reason = f" <span class='muted'>({escape(line.audit_reason)})</span>" if line.audit_reason else ""
    return (
        f"<code>{escape(run.run_id)}</code> <span class='state-{escape(run.state)}'>{escape(run.state)}</span>"
        f"{audit}{reason}"
    )


def render_rows(lines: Sequence[PeriodLine]) -> str:
    """The index table (one row per period; its runs folded in a <details> list)."""
    if not lines:
        return "<p>No run of this Airflow instance yet: periods appear here once a period run has started.</p>"
    rows = []
    for p in lines:
        latest = p.latest_run
        runs = "".join(
            f"<li>{_run_cell(r)} - {_link(r.report_href, 'report')} - {_link(r.docs_href, 'data docs')}</li>"
            for r in p.runs
        )
        incomplete = f"<span class='warn'>{p.sites_incomplete}</span>" if p.sites_incomplete else "0"
        lifecycle = p.lifecycle or "not loaded"
        rows.append(
            f"<tr id='period-{p.period_start.isoformat()}'>"
            f"<td class='period'>{_day(p.period_start)} - {_day(p.period_end)}</td>"
            f"<td class='lifecycle {escape(lifecycle)}'>{escape(lifecycle)}</td>"
            f"<td class='run-state'>{_run_cell(latest) if latest else '-'}</td>"
            f"<td class='n sites-complete'>{p.sites_complete}</td><td class='n sites-incomplete'>{incomplete}</td>"
            f"<td class='n absences'>{p.absences}</td><td class='n pending'>{p.pending_days}</td>"
            f"<td>{_link(p.latest_report_href, 'report')} - "
            f"{_link(latest.docs_href if latest else None, 'data docs')}"
            f"<details><summary>{len(p.runs)} run(s)</summary><ul>{runs}</ul></details></td></tr>"
        )
    head = (
        "<tr><th>service period</th><th>lifecycle</th><th>latest run (Airflow state / warehouse)</th>"
        "<th>sites complete</th><th>sites incomplete</th><th>absences</th><th>pending child-days</th>"
        "<th>links</th></tr>"
    )
    return f"<table class='periods'>{head}{''.join(rows)}</table>"


def _day(day: dt.date | None) -> str:
    return day.isoformat() if day else "?"  # a period this instance ran that the warehouse does not know
