"""Per-run reports on a loaded service period (HTML with inline SVG plots)."""

from ccms_attendance.reporting.period_report import (
    LATEST_FILE,
    REPORT_FILE,
    PeriodNotLoadedError,
    build_period_report,
    read_period,
    render_report,
    report_path,
)

__all__ = [
    "LATEST_FILE",
    "REPORT_FILE",
    "PeriodNotLoadedError",
    "build_period_report",
    "read_period",
    "render_report",
    "report_path",
]
