"""The report's plots: horizontal bar charts as inline SVG (template ``templates/bar_chart.svg.j2``).

The geometry is computed here; the markup, with every text escaped, is the template's. The label
column is as wide as the longest label needs (estimated from its length, no fonts are measured on
the server) up to ``MAX_LABEL_W``; longer labels wrap onto more lines instead of being clipped.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from ccms_attendance.reporting.jinja_env import TEMPLATES
from ccms_attendance.reporting.period_data import PeriodFigures, SiteLine


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown next to the bar
    tone: str = "main"  # main | warn | ok
    note: str = ""  # a tooltip (SVG <title>) for the row, e.g. why a site has no value


_TONES = {"main": "#3b6ea5", "warn": "#c0392b", "ok": "#2e8b57"}
BAR_W, VALUE_W, ROW_H, TOP, LINE_H = 330, 150, 24, 30, 14
#: Upper bound of one character's advance at font-size 12 in common sans-serif fonts (capitals and
#: digits ~7.3 px in DejaVu Sans, wider than the average): the label column never clips a label.
CHAR_W = 7.5
MIN_LABEL_W, MAX_LABEL_W, LABEL_PAD = 60, 360, 12
INCOMPLETE = "n/a (incomplete)"


@dataclass(frozen=True)
class _PlacedBar:
    label: str
    label_lines: list[str]
    text: str
    fill: str
    note: str
    y: int  # the row's top
    height: int  # the row's height (one line of label, or more when it wraps)
    length: float  # the bar's length in pixels


def label_width(labels: Sequence[str]) -> int:
    """Pixels the label column needs for the longest label, within [MIN_LABEL_W, MAX_LABEL_W]."""
    longest = max((len(label) for label in labels), default=0)
    return math.ceil(min(max(longest * CHAR_W + LABEL_PAD, MIN_LABEL_W), MAX_LABEL_W))


def _wrap(label: str, width: int) -> list[str]:
    chars = max(int((width - LABEL_PAD) // CHAR_W), 1)
    return textwrap.wrap(label, chars, break_long_words=True, break_on_hyphens=False) or [""]


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], max_value: float | None = None) -> Markup:
    """A horizontal bar chart as an ``<svg>`` element (valid XML; every text escaped)."""
    label_w = label_width([b.label for b in bars])
    scale = max_value if max_value is not None else max((b.value for b in bars), default=0.0)
    placed, y = [], TOP
    for bar in bars:
        lines = _wrap(bar.label, label_w)
        height = max(ROW_H, LINE_H * len(lines) + 10)
        length = 0.0 if scale <= 0 else max(bar.value, 0.0) / scale * BAR_W
        fill = _TONES.get(bar.tone, _TONES["main"])
        placed.append(_PlacedBar(bar.label, lines, bar.text, fill, bar.note, y, height, length))
        y += height
    width = label_w + BAR_W + VALUE_W
    height = max(y, TOP + ROW_H) + 10
    svg = TEMPLATES.get_template("bar_chart.svg.j2").render(
        chart_id=chart_id,
        title=title,
        width=width,
        height=height,
        bars=placed,
        label_w=label_w,
        line_h=LINE_H,
        top=TOP,
    )
    return Markup(svg)  # rendered by the autoescaping environment: every value in it is escaped already


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def absence_rate_text(site: SiteLine) -> str:
    """An incomplete site has no absence rate: its days are pending, not present (never "0.0%")."""
    return INCOMPLETE if not site.complete else pct(site.absence_rate)


def charts(figures: PeriodFigures) -> dict[str, Markup]:
    sites = figures.site_lines
    return {
        "absence_rate_by_site": bar_chart(
            "absence-rate-by-site",
            "Absence rate per site (absent / enrolled child-days)",
            [
                Bar(
                    f"{s.site_id} {s.site_name}",
                    (s.absence_rate or 0.0) if s.complete else 0.0,
                    absence_rate_text(s),
                    "main" if s.complete else "warn",
                    "" if s.complete else f"incomplete: {s.incomplete_reason or 'no reason recorded'}",
                )
                for s in sites
                if s.absence_rate is not None or not s.complete
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
                    "" if s.complete else f"incomplete: {s.incomplete_reason or 'no reason recorded'}",
                )
                for s in sites
            ],
            max_value=1.0,
        ),
    }
