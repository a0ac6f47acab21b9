"""The period report page (template ``templates/period_report.html.j2``) from a period's figures.

The page needs nothing from the network: no JavaScript, the style and the plots (SVG, :mod:`.charts`)
are inline, and every value is HTML-escaped by the autoescaping environment (:mod:`.jinja_env`).
Links to the run's GX data docs are relative and follow the layout ``reports/`` and ``data_docs/``
share under ``build/`` (or the configured object store) and under the UI plugin (``/ccms/reports/...``,
``/ccms/data_docs/...``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ccms_attendance.artifact_store import data_docs_root
from ccms_attendance.paths import KEPT_OUTCOMES_DIR, run_folder
from ccms_attendance.reporting.charts import absence_rate_text, charts
from ccms_attendance.reporting.jinja_env import TEMPLATES
from ccms_attendance.reporting.period_data import PeriodFigures
from ccms_attendance.rules.exception_kinds import advice_for

#: The headline figures that carry an element id (the UI tests and readers look them up).
_FIGURE_IDS = {
    "Lifecycle": "fig-lifecycle",
    "Daily rows": "fig-rows",
    "Absences": "fig-absences",
    "Pending child-days": "fig-pending",
    "Incomplete sites": "fig-incomplete",
    "Exceptions": "fig-exceptions",
}
_EXTRACT_COLUMNS = [
    "sites", "sites_failed", "records", "dropped_non_voucher", "rejected", "duplicates_dropped", "duplicate_conflicts",
]  # fmt: skip


def _data_docs(figures: PeriodFigures, up: str) -> dict[str, Any]:
    """Links to the run's data docs: ``up`` leads from the page's folder to the folder holding ``data_docs``.

    A site is linked once built, or while the run's ``data_docs`` task, beside the report, builds it.
    """
    period = figures.period_start.isoformat()
    folder = run_folder(figures.run_id) if figures.run_id else ""
    href_base = f"{up}data_docs/{period}/{folder}/"
    stored = data_docs_root() / period / folder if folder else None
    suites = []
    if stored and stored.is_dir():
        built = {p.parent.name for p in stored.glob("*/index.html")}
        suites = sorted(built | {p.stem for p in stored.glob(f"{KEPT_OUTCOMES_DIR}/*.json")})
    return {"href": href_base, "suites": [(name, f"{href_base}{name}/index.html") for name in suites]}


def render_report(figures: PeriodFigures, up: str = "../../../") -> str:
    """The report page; ``up`` is the relative path from its folder to the reports' parent folder."""
    return render_reports(figures, [up])[0]


def render_reports(figures: PeriodFigures, ups: Sequence[str]) -> list[str]:
    """The report page once per ``up`` (the run's page and the period's latest page sit at different
    depths); the charts, most of the rendering (3,000 sites: two bars each), are drawn once."""
    audit = figures.audit or {}
    headline = [
        ("Service period", f"{figures.period_start.isoformat()}..{figures.period_end.isoformat()}"),
        # Provisional: before the submission deadline, not every site submitted; its absences are not counted.
        ("Lifecycle", figures.lifecycle or "not loaded"),
        ("Submission deadline", figures.submission_deadline.isoformat()),
        ("Run", figures.run_id or "-"),
        ("Run that loaded the current version", figures.loaded_run_id or "not loaded"),
        ("Loaded at", figures.loaded_at.isoformat() if figures.loaded_at else "-"),
        ("Daily rows", figures.daily_rows),
        ("Absences", figures.absences),
        ("Pending child-days", figures.pending_days),
        ("Children", figures.children),
        ("Sites", figures.sites),
        ("Incomplete sites", figures.incomplete_sites),
        ("Exceptions", figures.exceptions),
        ("Quarantined rows", figures.quarantined),
    ]
    sites = [
        (
            s.site_id,
            s.site_name,
            s.governing_source,
            s.lifecycle,
            "complete" if s.complete else f"incomplete: {s.incomplete_reason or ''}",
            s.children,
            s.enrolled_days,
            s.absent_days,
            s.pending_days,
            absence_rate_text(s),  # "n/a (incomplete)", never 0.0 % for a site whose days are pending
            s.daily_rows,
        )
        for s in figures.site_lines
    ]
    # Everything but the data docs links is the same on every page: built once.
    page = {
        "period": headline[0][1],
        "run": figures.run_id,
        "status": str(audit.get("status", "no audit")),
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "figures": [(label, value, _FIGURE_IDS.get(label)) for label, value in headline],
        "charts": list(charts(figures).values()),
        "incomplete": [s for s in figures.site_lines if not s.complete],
        "sites": sites,
        "sources": [(r["source"], r["sites"], r["daily_rows"], r["absences"]) for r in figures.sources],
        "exception_kinds": [
            (r["kind"], r["severity"], r["exceptions"], advice_for(r["kind"])) for r in figures.exception_kinds
        ],
        "extract_columns": _EXTRACT_COLUMNS,
        "extracted": [
            (source, *(counts.get(c, 0) for c in _EXTRACT_COLUMNS)) for source, counts in figures.extracted.items()
        ],
    }
    template = TEMPLATES.get_template("period_report.html.j2")
    return [template.render(**page, docs=_data_docs(figures, up)) for up in ups]
