"""The period report: one self-contained HTML page per run, with inline SVG plots.

``build_period_report`` reads a loaded period from ``reconciled.*`` (:mod:`.period_data`), renders it
(:mod:`.render`, Jinja2 templates in ``templates/``, charts in :mod:`.charts`) and writes
``<reports dir>/<period start>/<run folder>/report.html`` plus ``<reports dir>/<period start>/latest.html``
(the same page, links adjusted to its folder). The reports dir is the configured reports root
(:mod:`ccms_attendance.artifact_store`: ``build/reports`` by default, or a bucket), so the UI plugin on
the api-server reads what a worker on another host wrote.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from ccms_attendance.artifact_store import as_store_path, reports_root, write_text
from ccms_attendance.paths import run_folder
from ccms_attendance.reporting.period_data import period_key, read_period
from ccms_attendance.reporting.render import render_reports

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

REPORT_FILE = "report.html"
LATEST_FILE = "latest.html"


def report_path(
    period_start: dt.date | str, run_id: str, root: ObjectStoragePath | Path | str | None = None
) -> ObjectStoragePath:
    """Where the report of ``run_id`` is (under ``root``, default the configured reports root)."""
    base = as_store_path(root) if root is not None else reports_root()
    return base / period_key(period_start).isoformat() / run_folder(run_id) / REPORT_FILE


def build_period_report(
    conn: psycopg.Connection,
    period_start: dt.date | str,
    run_id: str | None,
    target_dir: ObjectStoragePath | Path | str | None = None,
) -> ObjectStoragePath:
    """Write the period's report for ``run_id``; return the path of its ``report.html``.

    ``target_dir`` (a local path or an ObjectStoragePath/URL) replaces the configured reports root.
    ``<root>/<period start>/latest.html`` is rewritten with the same page.
    """
    figures = read_period(conn, period_start, run_id)
    path = report_path(figures.period_start, figures.run_id or "unknown-run", target_dir)
    page, latest = render_reports(figures, ["../../../", "../../"])
    write_text(path, page)
    write_text(path.parent.parent / LATEST_FILE, latest)
    return path
