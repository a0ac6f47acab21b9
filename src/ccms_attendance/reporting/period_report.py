"""The period report: one self-contained HTML page per run, with inline SVG plots.

``build_period_report`` reads a loaded period from ``reconciled.*`` (:mod:`.period_data`), renders it
(:mod:`.render`, Jinja2 templates in ``templates/``, charts in :mod:`.charts`) and writes
``<reports dir>/<period start>/<run folder>/report.html`` plus ``<reports dir>/<period start>/latest.html``
(the same page, links adjusted to its folder). The reports dir is ``build/reports`` unless
``CCMS_REPORTS_DIR`` says otherwise.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import psycopg

from ccms_attendance.paths import reports_root, run_folder
from ccms_attendance.reporting.period_data import period_key, read_period
from ccms_attendance.reporting.render import render_report

REPORT_FILE = "report.html"
LATEST_FILE = "latest.html"


def report_path(period_start: dt.date | str, run_id: str, root: Path | None = None) -> Path:
    base = Path(root) if root is not None else reports_root()
    return base / period_key(period_start).isoformat() / run_folder(run_id) / REPORT_FILE


def build_period_report(
    conn: psycopg.Connection,
    period_start: dt.date | str,
    run_id: str | None,
    target_dir: Path | str | None = None,
) -> Path:
    """Write the period's report for ``run_id``; return the path of its ``report.html``.

    ``target_dir`` replaces the reports root (default ``CCMS_REPORTS_DIR`` or ``build/reports``).
    ``<root>/<period start>/latest.html`` is rewritten with the same page.
    """
    figures = read_period(conn, period_start, run_id)
    root = Path(target_dir) if target_dir is not None else reports_root()
    path = report_path(figures.period_start, figures.run_id or "unknown-run", root)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, render_report(figures, up="../../../"))
    _write_atomically(path.parent.parent / LATEST_FILE, render_report(figures, up="../../"))
    return path


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
