"""Per-run reports on a loaded service period (HTML with inline SVG plots).

:mod:`.period_data` reads the period, :mod:`.render` and :mod:`.charts` render it with the Jinja2
templates in ``templates/``, :mod:`.period_report` writes the files.
"""

from ccms_attendance.reporting.period_data import PeriodFigures, PeriodNotLoadedError, read_period
from ccms_attendance.reporting.period_report import LATEST_FILE, REPORT_FILE, build_period_report, report_path
from ccms_attendance.reporting.render import render_report

__all__ = [
    "LATEST_FILE",
    "REPORT_FILE",
    "PeriodFigures",
    "PeriodNotLoadedError",
    "build_period_report",
    "read_period",
    "render_report",
    "report_path",
]
