"""The report's plots: horizontal bar charts as inline SVG (template ``templates/bar_chart.svg.j2``).

The geometry is computed here; the markup, with every text escaped, is the template's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from ccms_attendance.reporting.jinja_env import TEMPLATES
from ccms_attendance.reporting.period_data import PeriodFigures


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown next to the bar
    tone: str = "main"  # main | warn | ok


_TONES = {"main": "#3b6ea5", "warn": "#c0392b", "ok": "#2e8b57"}
LABEL_W, BAR_W, VALUE_W, ROW_H, TOP = 230, 330, 110, 24, 30


@dataclass(frozen=True)
class _PlacedBar:
    label: str
    text: str
    fill: str
    y: int  # the row's top
    length: float  # the bar's length in pixels


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], max_value: float | None = None) -> Markup:
    """A horizontal bar chart as an ``<svg>`` element (valid XML; every text escaped)."""
    width = LABEL_W + BAR_W + VALUE_W
    height = TOP + ROW_H * max(len(bars), 1) + 10
    scale = max_value if max_value is not None else max((b.value for b in bars), default=0.0)
    placed = [
        _PlacedBar(
            bar.label,
            bar.text,
            _TONES.get(bar.tone, _TONES["main"]),
            TOP + i * ROW_H,
            0.0 if scale <= 0 else max(bar.value, 0.0) / scale * BAR_W,
        )
        for i, bar in enumerate(bars)
    ]
    svg = TEMPLATES.get_template("bar_chart.svg.j2").render(
        chart_id=chart_id,
        title=title,
        width=width,
        height=height,
        bars=placed,
        label_w=LABEL_W,
        row_h=ROW_H,
        top=TOP,
    )
    return Markup(svg)  # rendered by the autoescaping environment: every value in it is escaped already


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def charts(figures: PeriodFigures) -> dict[str, Markup]:
    sites = figures.site_lines
    return {
        "absence_rate_by_site": bar_chart(
            "absence-rate-by-site",
            "Absence rate per site (absent / enrolled child-days)",
            [
                Bar(f"{s.site_id} {s.site_name}", s.absence_rate or 0.0, pct(s.absence_rate))
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
                    ("complete" if s.complete else "INCOMPLETE") + f" {pct(s.completeness)}",
                    "ok" if s.complete else "warn",
                )
                for s in sites
            ],
            max_value=1.0,
        ),
    }
