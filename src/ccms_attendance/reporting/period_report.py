"""The period report: one self-contained HTML page per run, with inline SVG plots.

``build_period_report`` reads a loaded period from ``reconciled.*`` (SQL in
``src/ccms_attendance/sql/queries/report_*.sql``) and writes
``<reports dir>/<period start>/<run folder>/report.html`` plus ``<reports dir>/<period start>/latest.html``
(the same page, links adjusted to its folder). The reports dir is ``build/reports`` unless
``CCMS_REPORTS_DIR`` says otherwise. The page needs nothing from the network: no JavaScript, the
style and the plots (SVG drawn here) are inline, every value is HTML-escaped.

Links to the run's GX data docs are relative and follow the layout ``reports/`` and ``data_docs/``
share under ``build/`` and under the UI plugin (``/ccms/reports/...``, ``/ccms/data_docs/...``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import psycopg

from ccms_attendance.paths import data_docs_root, reports_root, run_folder
from ccms_attendance.warehouse.bulk import read_frame
from ccms_attendance.warehouse.sql_files import fetch_one, query

REPORT_FILE = "report.html"
LATEST_FILE = "latest.html"


class PeriodNotLoadedError(LookupError):
    """The period is unknown to the warehouse (no ``ref.service_period`` row)."""


def _period_key(period_start: dt.date | str) -> dt.date:
    return period_start if isinstance(period_start, dt.date) else dt.date.fromisoformat(str(period_start))


def report_path(period_start: dt.date | str, run_id: str, root: Path | None = None) -> Path:
    base = Path(root) if root is not None else reports_root()
    return base / _period_key(period_start).isoformat() / run_folder(run_id) / REPORT_FILE


# --------------------------------------------------------------------------------------------------
# Reading the period


@dataclass
class SiteLine:
    site_id: str
    site_name: str
    governing_source: str
    complete: bool
    incomplete_reason: str | None
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
    run_id: str
    loaded_run_id: str | None
    loaded_at: dt.datetime | None
    daily_rows: int
    absences: int
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
    start = _period_key(period_start)
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
        run_id=run or "",
        loaded_run_id=head["loaded_run_id"],
        loaded_at=head["loaded_at"],
        daily_rows=head["daily_rows"],
        absences=head["absences"],
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


# --------------------------------------------------------------------------------------------------
# Plots: horizontal bar charts as inline SVG


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown next to the bar
    tone: str = "main"  # main | warn | ok


_TONES = {"main": "#3b6ea5", "warn": "#c0392b", "ok": "#2e8b57"}


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], max_value: float | None = None) -> str:
    """A horizontal bar chart as an ``<svg>`` element (valid XML; every text escaped)."""
    label_w, bar_w, value_w, row_h, top = 230, 330, 110, 24, 30
    width = label_w + bar_w + value_w
    height = top + row_h * max(len(bars), 1) + 10
    scale = max_value if max_value is not None else max((b.value for b in bars), default=0.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" aria-labelledby="{escape(chart_id)}-title">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<text x="0" y="18" font-size="14" font-weight="bold" fill="#222">{escape(title)}</text>',
    ]
    if not bars:
        parts.append(f'<text x="0" y="{top + 16}" font-size="12" fill="#666">none</text>')
    for i, bar in enumerate(bars):
        y = top + i * row_h
        length = 0.0 if scale <= 0 else max(bar.value, 0.0) / scale * bar_w
        parts.append(
            f'<g class="bar" data-label="{escape(bar.label)}" data-value="{escape(bar.text)}">'
            f'<text x="{label_w - 6}" y="{y + 16}" font-size="12" text-anchor="end" fill="#222">'
            f"{escape(bar.label)}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="{row_h - 8}" '
            f'fill="{_TONES.get(bar.tone, _TONES["main"])}"/>'
            f'<text x="{label_w + length + 6:.1f}" y="{y + 16}" font-size="12" fill="#222">{escape(bar.text)}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def charts(figures: PeriodFigures) -> dict[str, str]:
    sites = figures.site_lines
    return {
        "absence_rate_by_site": bar_chart(
            "absence-rate-by-site",
            "Absence rate per site (absent / enrolled child-days)",
            [
                Bar(f"{s.site_id} {s.site_name}", s.absence_rate or 0.0, _pct(s.absence_rate))
                for s in sites
                if s.absence_rate is not None
            ],
        ),
        "absences_by_source": bar_chart(
            "absences-by-source",
            "Absences per source",
            [
                Bar(str(r["source"]), float(r["absences"]), f"{int(r['absences'])} of {int(r['daily_rows'])}")
                for r in figures.sources
            ],
        ),
        "exceptions_by_kind": bar_chart(
            "exceptions-by-kind",
            "Exceptions by kind",
            [Bar(kind, float(n), str(n), "warn") for kind, n in sorted(figures.exceptions_by_kind.items())],
        ),
        "completeness_by_site": bar_chart(
            "completeness-by-site",
            "Completeness per site (child-days with a status / enrolled)",
            [
                Bar(
                    f"{s.site_id} {s.site_name}",
                    s.completeness or 0.0,
                    ("complete" if s.complete else "INCOMPLETE") + f" {_pct(s.completeness)}",
                    "ok" if s.complete else "warn",
                )
                for s in sites
            ],
            max_value=1.0,
        ),
    }


# --------------------------------------------------------------------------------------------------
# The page

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1100px; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; font-size: 0.9rem; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
.figures td { font-size: 1rem; }
.incomplete { color: #a00; font-weight: bold; } .complete { color: #070; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
.muted { color: #666; }
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[int] = (), cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='n'>{escape(str(v))}</td>" if i in numeric else f"<td>{escape(str(v))}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table class='{escape(cls)}'><tr>{head}</tr>{body}</table>"


def _data_docs_links(figures: PeriodFigures, up: str) -> str:
    """Links to the run's data docs: ``up`` leads from the page's folder to the folder holding ``data_docs``."""
    period = figures.period_start.isoformat()
    folder = run_folder(figures.run_id) if figures.run_id else ""
    href_base = f"{up}data_docs/{period}/{folder}/"
    on_disk = data_docs_root() / period / folder if folder else None
    suites = sorted(p.parent.name for p in on_disk.glob("*/index.html")) if on_disk and on_disk.is_dir() else []
    items = "".join(
        f"<li><a href='{escape(href_base + name + '/index.html')}'>{escape(name)}</a></li>" for name in suites
    )
    listing = f"<ul>{items}</ul>" if items else "<p class='muted'>No data docs were written for this run.</p>"
    return (
        f"<p>Great Expectations data docs of run <code>{escape(figures.run_id)}</code>: "
        f"<a id='data-docs-link' href='{escape(href_base)}'>data docs folder</a></p>{listing}"
    )


def render_report(figures: PeriodFigures, up: str = "../../../") -> str:
    """The report page; ``up`` is the relative path from its folder to the reports' parent folder."""
    period = f"{figures.period_start.isoformat()}..{figures.period_end.isoformat()}"
    plots = charts(figures)
    headline = [
        ("Service period", period),
        ("Run", figures.run_id or "-"),
        ("Run that loaded the current version", figures.loaded_run_id or "not loaded"),
        ("Loaded at", figures.loaded_at.isoformat() if figures.loaded_at else "-"),
        ("Daily rows", figures.daily_rows),
        ("Absences", figures.absences),
        ("Children", figures.children),
        ("Sites", figures.sites),
        ("Incomplete sites", figures.incomplete_sites),
        ("Exceptions", figures.exceptions),
        ("Quarantined rows", figures.quarantined),
    ]
    ids = {
        "Daily rows": "fig-rows",
        "Absences": "fig-absences",
        "Incomplete sites": "fig-incomplete",
        "Exceptions": "fig-exceptions",
    }
    figure_rows = "".join(
        f"<tr><th>{escape(label)}</th><td id='{ids[label]}'>{escape(str(value))}</td></tr>"
        if label in ids
        else f"<tr><th>{escape(label)}</th><td>{escape(str(value))}</td></tr>"
        for label, value in headline
    )
    site_rows = [
        (
            s.site_id,
            s.site_name,
            s.governing_source,
            "complete" if s.complete else f"incomplete: {s.incomplete_reason or ''}",
            s.children,
            s.enrolled_days,
            s.absent_days,
            _pct(s.absence_rate),
            s.daily_rows,
        )
        for s in figures.site_lines
    ]
    incomplete = [s for s in figures.site_lines if not s.complete]
    incomplete_html = (
        "<ul>"
        + "".join(
            f"<li class='incomplete'>{escape(s.site_id)} {escape(s.site_name)}: "
            f"{escape(s.incomplete_reason or '')}</li>"
            for s in incomplete
        )
        + "</ul>"
        if incomplete
        else "<p class='complete'>Every site is complete.</p>"
    )
    extracted = figures.extracted
    extract_cols = [
        "sites", "sites_failed", "records", "dropped_non_voucher", "rejected",
        "duplicates_dropped", "duplicate_conflicts",
    ]  # fmt: skip
    extract_html = (
        _table(
            ["source", *extract_cols],
            [(source, *(counts.get(c, 0) for c in extract_cols)) for source, counts in extracted.items()],
            numeric=range(1, len(extract_cols) + 1),
            cls="extracted",
        )
        if extracted
        else "<p class='muted'>No extraction counts recorded for this run.</p>"
    )
    audit = figures.audit or {}
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>CCMS attendance - period {escape(period)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>CCMS attendance - service period {escape(period)}</h1>"
        f"<p class='muted'>Run <code id='run-id'>{escape(figures.run_id or '-')}</code>"
        f" ({escape(str(audit.get('status', 'no audit')))}); generated {escape(generated)}.</p>"
        f"<table class='figures'>{figure_rows}</table>"
        f"<h2>Plots</h2><div class='charts'>{''.join(plots.values())}</div>"
        f"<h2>Incomplete sites</h2>{incomplete_html}"
        "<h2>Sites</h2>"
        + _table(
            [
                "site",
                "name",
                "source",
                "completeness",
                "children",
                "enrolled days",
                "absent days",
                "absence rate",
                "daily rows",
            ],
            site_rows,
            numeric=(4, 5, 6, 7, 8),
            cls="sites",
        )
        + "<h2>Absences per source</h2>"
        + _table(
            ["source", "sites", "daily rows", "absences"],
            [(r["source"], r["sites"], r["daily_rows"], r["absences"]) for r in figures.sources],
            numeric=(1, 2, 3),
            cls="sources",
        )
        + "<h2>Exceptions by kind</h2>"
        + _table(
            ["kind", "severity", "exceptions"],
            [(r["kind"], r["severity"], r["exceptions"]) for r in figures.exception_kinds],
            numeric=(2,),
            cls="exceptions",
        )
        + f"<h2>Extraction (run {escape(figures.run_id or '-')})</h2>{extract_html}"
        + f"<h2>Data quality</h2>{_data_docs_links(figures, up)}"
        + "</body></html>\n"
    )


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
